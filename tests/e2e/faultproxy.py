#!/usr/bin/env python3
"""A fault-injecting HTTPS proxy for the end-to-end tests, on loopback only.

It sits between the plugin and a real API server, forwards every request
(with the client's Authorization header), and, as the rules file says,
answers with an injected status, resets the connection, cuts a streamed
response short, or ends a watch with a 410 ERROR event; or forwards a
request and then answers it with an injected status, as if the server's
answer were lost after it acted ("lose"). Every request is
logged when it arrives, as "> METHOD PATH", and again when it ends, as
"< METHOD PATH -> STATUS|FAULT", so tests can count and inspect them.

With --basic-auth FILE (lines "user:password:token") it also plays an API
server with HTTP basic authentication, as clusters before Kubernetes 1.19
could be: a matching Basic header is replaced by the user's bearer token,
any other Basic header gets 401.

The rules file is JSON, a list of rules, re-read on every request so that a
test can change faults between runs:
  {"match": "GET /api/v1/namespaces/ns/pods?",   # substring of "METHOD PATH"
   "action": "status", "status": 429, "retry_after": 1,  # or "reset", "cut", "gone", "delay", "lose"
   "times": 2,                                   # how often; absent: always
   "after_bytes": 200,                           # for "cut"
   "seconds": 2}                                 # for "delay": then forward; for "cut" of an
                                                 # upgrade (exec): reset it this long after it opened
"lose" forwards the request, reads the server's whole answer, drops it and
answers "status" (default 500) instead.
"""
import argparse
import base64
import binascii
import time
import http.client
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import urllib.parse

lock = threading.Lock()
used = {}  # rule index -> times applied


def load_rules(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def pick_rule(path, line):
    rules = load_rules(path)
    with lock:
        for i, r in enumerate(rules):
            if r.get("match", "") in line:
                key = (i, json.dumps(r, sort_keys=True))
                n = used.get(key, 0)
                if "times" in r and n >= r["times"]:
                    continue
                used[key] = n + 1
                return r
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, what, mark="<"):
        with lock:
            with open(self.server.log_path, "a") as f:
                f.write(f"{mark} {self.command} {self.path}" + (f" -> {what}" if what else "") + "\n")

    def reset(self):
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_status(self, status, message):
        payload = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "message": message, "code": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def basic_auth(self):
        """Swap a known Basic credential for its token; False if refused."""
        auth = self.headers.get("Authorization", "")
        if not self.server.basic or not auth.startswith("Basic "):
            return True
        try:
            pair = base64.b64decode(auth[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        token = self.server.basic.get(pair)
        if token is None:
            return False
        del self.headers["Authorization"]
        self.headers["Authorization"] = "Bearer " + token
        return True

    def handle_any(self):
        line = f"{self.command} {self.path}"
        self.note("", ">")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if not self.basic_auth():
            self.send_status(401, "Unauthorized")
            self.note("401 (basic auth refused)")
            return
        rule = pick_rule(self.server.rules_path, line)
        action = rule.get("action") if rule else None
        if action == "status":
            status = int(rule.get("status", 500))
            payload = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "message": f"injected {status}", "code": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if "retry_after" in rule:
                self.send_header("Retry-After", str(rule["retry_after"]))
            self.end_headers()
            self.wfile.write(payload)
            self.note(f"{status} (injected)")
            return
        if action == "reset":
            self.note("reset (injected)")
            self.reset()
            return
        if action == "gone":
            event = json.dumps({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                                "status": "Failure", "reason": "Expired", "code": 410,
                                "message": "too old resource version (injected)"}}).encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.send_chunk(event)
            self.send_chunk(b"")
            self.note("410 event (injected)")
            return

        if action == "delay":
            time.sleep(float(rule.get("seconds", 1)))
        if self.headers.get("Upgrade"):
            self.tunnel(body, float(rule.get("seconds", 0)) if action == "cut" else None)
            return
        up = self.server.upstream
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=self.server.up_ctx, timeout=600)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length", "accept-encoding")}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
        except OSError as e:
            self.note(f"upstream failed: {e}")
            self.reset()
            return
        if action == "lose":
            real = resp.status
            resp.read()
            conn.close()
            status = int(rule.get("status", 500))
            self.send_status(status, f"injected {status} (the server answered {real})")
            self.note(f"{status} after the server answered {real} (injected)")
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent, limit = 0, (rule or {}).get("after_bytes", 1) if action == "cut" else None
        try:
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    self.send_chunk(data[: max(0, limit - sent)])
                    self.note(f"{resp.status} cut after {limit} bytes (injected)")
                    self.reset()
                    conn.close()
                    return
                self.send_chunk(data)
                sent += len(data)
            self.send_chunk(b"")
        except OSError:
            self.close_connection = True
        finally:
            conn.close()
        self.note(str(resp.status))

    def tunnel(self, body, cut_after=None):
        """An upgrade (exec's WebSocket, kubectl's SPDY): the request as it
        came, then bytes both ways until either side closes; with cut_after,
        the client's connection is reset that many seconds in."""
        up = self.server.upstream
        try:
            raw = socket.create_connection((up.hostname, up.port), timeout=600)
            upstream = self.server.up_ctx.wrap_socket(raw, server_hostname=up.hostname)
        except OSError as e:
            self.note(f"upstream failed: {e}")
            self.reset()
            return
        head = f"{self.command} {self.path} HTTP/1.1\r\n".encode()
        for k, v in self.headers.items():
            if k.lower() == "host":
                v = f"{up.hostname}:{up.port}"
            head += f"{k}: {v}\r\n".encode()
        upstream.sendall(head + b"\r\n" + (body or b""))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(upstream, self.connection), daemon=True)
        back.start()
        if cut_after is not None:
            def cut():
                time.sleep(cut_after)
                self.note(f"upgrade reset after {cut_after:g} s (injected)")
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                for sock in (self.connection, upstream):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            threading.Thread(target=cut, daemon=True).start()
        pump(self.connection, upstream)
        back.join(5)
        upstream.close()
        self.close_connection = True
        self.note("upgraded (tunnelled)")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream", required=True, help="https://host:port of the API server")
    ap.add_argument("--upstream-ca", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--basic-auth", help="file of user:password:token lines")
    a = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.listen_port), Handler)
    server.daemon_threads = True
    server.upstream = urllib.parse.urlparse(a.upstream)
    server.up_ctx = ssl.create_default_context(cafile=a.upstream_ca)
    server.rules_path = a.rules
    server.log_path = a.log
    server.basic = {}
    if a.basic_auth:
        for entry in open(a.basic_auth).read().split():
            user, password, token = entry.split(":", 2)
            server.basic[f"{user}:{password}"] = token
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
