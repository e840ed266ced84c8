/* A warm run: claim a parked sandbox of the run's shape (pool.c), exec a
 * small bootstrap in it over a WebSocket (exec.c), send it the code,
 * files, arguments and environment on stdin, deliver stdout and stderr
 * apart, take the exit code from the status channel the moment the
 * process ends, start a replacement, and delete the pod. Nothing of the
 * user's goes into the URL or the command line (they reach the API
 * server's audit log): only the fixed bootstrap below does.
 *
 * The input, which the bootstrap reads with the shell's `read` (a byte at
 * a time, so it never reads past a line) and `head -c`:
 *
 *   gkx-exec-1 LINES DATA SIZE\n     header: line count, data items, their bytes
 *   W /app\n                         working directory
 *   J\n                              stderr joined to stdout (a Job's run)
 *   E NAME=VALUE\n                   a variable of ours to export (PYTHONUNBUFFERED)
 *   A word\n                         a word of the command
 *   V LEN\n                          the same, from the data (it had a newline)
 *   F LEN NAME\n                     a file for /app/NAME, from the data
 *   T NAME\n                         a small text file for /app/NAME, in lines:
 *   L line\n                         a line of it (the newline is the file's)
 *   M line\n                         its last line, which has no newline
 *   DATA                             the V and F items' bytes, in order
 *
 * The command is `INTERPRETER /app/SCRIPT ARGS...`, with stdin closed;
 * with the caller's environment, `env -- KEY=VALUE... ` before it. Our
 * own variables are exported by the shell instead: under gVisor every
 * process started costs 15-30 ms, and most runs set no variables. (The
 * caller's go through env, which takes any name and never changes what
 * the bootstrap's own commands see.)
 *
 * A small file with no NUL byte (the usual script) travels in lines,
 * which the shell itself writes: `head` would be one more process, 15-30
 * ms under gVisor, where the shell's byte-at-a-time `read` takes about
 * 7 us a byte (so only up to WARM_TEXT_MAX). Of the data items, one is
 * read straight to its file; more go to a file in /tmp first, since
 * BusyBox's head may read ahead of what it was asked, and nothing may
 * follow what it reads. v4.channel.k8s.io cannot close stdin, so the
 * input says its own length; with v5 stdin is closed too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define WARM_MAX_LINE 4096 /* longer words travel as data */
#define WARM_TEXT_MAX 2048 /* larger files travel as data */

const char gkx__warm_boot[] =
        "set -eu\n"
        "a=/app t=/tmp\n"
        "umask 0222\n"
        "exec 3<&0\n"
        "IFS=' ' read -r magic n ndata size\n"
        "[ \"$magic\" = gkx-exec-1 ] || { echo \"sandbox-run: unexpected input\" >&2; exit 126; }\n"
        "lines=\n"
        "while [ \"$n\" -gt 0 ]; do IFS= read -r l; lines=\"$lines$l\n\"; n=$((n - 1)); done\n"
        "b=$t/.sandbox-run-input\n"
        "[ \"$ndata\" -le 1 ] || head -c \"$size\" <&3 >\"$b\"\n"
        "off=1\n"
        "set --\n"
        "while IFS= read -r l; do\n"
        "  case $l in\n"
        "  'W '*) cd \"${l#W }\" ;;\n"
        "  'E '*) export \"${l#E }\" ;;\n"
        "  'A '*) set -- \"$@\" \"${l#A }\" ;;\n"
        "  J) exec 2>&1 ;;\n"
        "  'T '*) exec 4>\"$a/${l#T }\" ;;\n"
        "  'L '*) printf '%s\\n' \"${l#L }\" >&4 ;;\n"
        "  'M '*) printf %s \"${l#M }\" >&4 ;;\n"
        "  'F '*|'V '*)\n"
        "    k=${l%% *}; len=${l#? }; name=${len#* }; len=${len%% *}\n"
        "    if [ \"$ndata\" -gt 1 ]; then\n"
        "      if [ \"$k\" = F ]; then tail -c +\"$off\" \"$b\" | head -c \"$len\" >\"$a/$name\"\n"
        "      else v=$(tail -c +\"$off\" \"$b\" | head -c \"$len\"; echo .); set -- \"$@\" "
        "\"${v%.}\"; fi\n"
        "      off=$((off + len))\n"
        "    elif [ \"$k\" = F ]; then head -c \"$len\" <&3 >\"$a/$name\"\n"
        "    else v=$(head -c \"$len\" <&3; echo .); set -- \"$@\" \"${v%.}\"; fi ;;\n"
        "  esac\n"
        "done <<EOF\n"
        "$lines\n"
        "EOF\n"
        "[ \"$ndata\" -le 1 ] || rm -f \"$b\"\n"
        "exec \"$@\" </dev/null 3<&- 4>&-\n";

typedef struct {
	gkx_buf lines, data;
	unsigned nlines, ndata;
} payload;

static int add_word(payload *p, const char *w, size_t len)
{
	int rc;

	p->nlines++;
	if (len < WARM_MAX_LINE && !memchr(w, '\n', len)) {
		rc = gkx__buf_puts(&p->lines, "A ") || gkx__buf_put(&p->lines, w, len) ||
		     gkx__buf_puts(&p->lines, "\n");
	} else {
		p->ndata++;
		rc = gkx__buf_printf(&p->lines, "V %lu\n", (unsigned long)len) ||
		     gkx__buf_put(&p->data, w, len);
	}
	return rc ? GKX_ENOMEM : 0;
}

/* A file as T, L and M lines, when it is small and has no NUL byte;
 * 1 if added, 0 if it must travel as data. */
static int add_text(payload *p, const gkx_file *f, int *rc)
{
	const char *s = f->data, *end = f->data + f->len, *nl;

	if (f->len > WARM_TEXT_MAX || memchr(f->data, '\0', f->len))
		return 0;
	p->nlines++;
	*rc = gkx__buf_printf(&p->lines, "T %s\n", f->name) < 0;
	while (!*rc && s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		p->nlines++;
		*rc = gkx__buf_puts(&p->lines, nl ? "L " : "M ") < 0 ||
		      gkx__buf_put(&p->lines, s, (size_t)((nl ? nl : end) - s)) < 0 ||
		      gkx__buf_puts(&p->lines, "\n") < 0;
		s = nl ? nl + 1 : end;
	}
	return 1;
}

int gkx__warm_payload(gkx_buf *out, const gkx_run *r)
{
	static const char *const python_env[] = { "PYTHONUNBUFFERED=1",
		                                  "PYTHONDONTWRITEBYTECODE=1" };
	payload p;
	char path[300];
	size_t i;
	int rc = 0, is_python;

	memset(&p, 0, sizeof(p));
	is_python = strlen(r->files[0].name) > 3 &&
	            !strcmp(r->files[0].name + strlen(r->files[0].name) - 3, ".py");
	p.nlines = 1;
	if (gkx__buf_printf(&p.lines, "W %s\n", r->workdir) < 0)
		rc = GKX_ENOMEM;
	/* A Job's run (run_exec.c) keeps a Job's output: stderr joined to
	 * stdout, in the order printed. */
	if (r->via_exec) {
		p.nlines++;
		if (gkx__buf_puts(&p.lines, "J\n") < 0)
			rc = GKX_ENOMEM;
	}
	/* Ours first, then the caller's, which may override them: as the
	 * Job's container env would have it. */
	for (i = 0; rc == 0 && is_python && i < sizeof(python_env) / sizeof(*python_env); i++) {
		p.nlines++;
		if (gkx__buf_printf(&p.lines, "E %s\n", python_env[i]) < 0)
			rc = GKX_ENOMEM;
	}
	/* A cold run's pod has the caller's environment in its spec already;
	 * its files come as a warm run's do. */
	if (rc == 0 && r->nenv && !r->via_exec)
		rc = add_word(&p, "env", 3) || add_word(&p, "--", 2);
	for (i = 0; rc == 0 && !r->via_exec && i < r->nenv; i++)
		rc = add_word(&p, r->env[i], strlen(r->env[i]));
	snprintf(path, sizeof(path), "/app/%s", r->files[0].name);
	if (rc == 0)
		rc = add_word(&p, r->interpreter, strlen(r->interpreter)) ||
		     add_word(&p, path, strlen(path));
	for (i = 0; rc == 0 && i < r->nargs; i++)
		rc = add_word(&p, r->args[i], strlen(r->args[i]));
	for (i = 0; rc == 0 && i < r->nfiles; i++) {
		if (add_text(&p, &r->files[i], &rc))
			continue;
		p.nlines++;
		p.ndata++;
		if (gkx__buf_printf(&p.lines, "F %lu %s\n", (unsigned long)r->files[i].len,
		                    r->files[i].name) < 0 ||
		    gkx__buf_put(&p.data, r->files[i].data, r->files[i].len) < 0)
			rc = GKX_ENOMEM;
	}
	if (rc == 0 && (gkx__buf_printf(out, "gkx-exec-1 %u %u %lu\n", p.nlines, p.ndata,
	                                (unsigned long)p.data.len) < 0 ||
	                gkx__buf_put(out, p.lines.ptr, p.lines.len) < 0 ||
	                gkx__buf_put(out, p.data.ptr, p.data.len) < 0))
		rc = GKX_ENOMEM;
	gkx__buf_free_secret(&p.lines);
	gkx__buf_free_secret(&p.data);
	return rc ? GKX_ENOMEM : 0;
}

/* Output, as the cold path gives it: limit_bytes over both streams; the
 * result keeps a warm run's stderr apart. */
static int give(gkx_run *r, int is_stderr, gkx_output_cb cb, void *ud, const char *data, size_t len)
{
	size_t n = len;

	if (r->limit_bytes && r->given + n > r->limit_bytes) {
		r->truncated = 1;
		n = r->limit_bytes > r->given ? r->limit_bytes - r->given : 0;
	}
	r->given += n;
	gkx__capture_put(is_stderr && r->warm ? &r->cap_err : &r->cap_out, data, n);
	if (n && cb && cb(data, n, ud)) {
		r->out_aborted = 1;
		return 1;
	}
	return 0;
}

static int on_stdout(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	return give(r, 0, r->on_output, r->output_ud, data, len);
}

static int on_stderr(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	if (r->on_stderr)
		return give(r, 1, r->on_stderr, r->stderr_ud, data, len);
	return give(r, 1, r->on_output, r->output_ud, data, len);
}

/* Forbidden on the warm path's own calls: say which right is missing. */
static int rights_hint(gkx_run *r, int rc)
{
	if (rc == GKX_EFORBIDDEN)
		gkx__error_prefix(r->err,
		                  "a warm run needs list and patch on pods and create (get "
		                  "before Kubernetes 1.35) on pods/exec; --cold makes a Job "
		                  "instead");
	return rc;
}

/* The claimed sandbox failed before any code went in (its exec refused,
 * cut, or unanswered within GKX_EXEC_OPEN_S): it is given up (its Job
 * deleted) and the run goes on as a Job, which -v=1 shows. A missing
 * right is the caller's to fix, and is said instead. */
static int give_up(gkx_run *r, int rc)
{
	gkx_error ignored;
	char note[700];

	if (rc == GKX_EFORBIDDEN || rc == GKX_EUNAUTHORIZED || rc == GKX_ENOMEM ||
	    rc == GKX_ECANCELED)
		return rights_hint(r, rc);
	snprintf(note, sizeof(note), "gave up the parked sandbox %s (%.300s): a Job instead",
	         r->claim.pod, r->err->message);
	gkx__exec_stop(&r->exec);
	gkx__exec_free(&r->exec);
	memset(&r->exec, 0, sizeof(r->exec));
	gkx__warm_end(r, &ignored);
	r->warm = 0;
	memset(&r->claim, 0, sizeof(r->claim));
	r->pod[0] = '\0';
	r->timings.created = r->timings.scheduled = -1;
	gkx_error_clear(r->err);
	r->phase = 0;
	gkx__run_set_phase(r, GKX_PHASE_CLAIMING, note);
	return gkx__run_begin_cold(r);
}

int gkx__warm_begin(gkx_run *r)
{
	gkx__pool p;
	char note[320];
	int rc;

	if (r->client->tp->version < 2 || !r->client->tp->send)
		return 1; /* a transport without WebSockets: a Job it is */
	gkx__run_set_phase(r, GKX_PHASE_CLAIMING, "looking for a parked sandbox");
	rc = gkx__pool_init(&p, r->ns, r->image, r->cpu, r->memory, r->runtime_class,
	                    r->network_none, 0, r->err);
	if (rc == 0)
		rc = gkx__pool_claim(r->client, &p, r->name, r->timeout_s, &r->claim, r->err);
	if (rc == 1) {
		snprintf(note, sizeof(note),
		         "no parked sandbox of this shape (pool %s): a Job instead", p.shape);
		r->phase = 0;
		gkx__run_set_phase(r, GKX_PHASE_CLAIMING, note);
		return 1;
	}
	if (rc < 0 && !r->claim.job[0])
		return rights_hint(r, rc);
	r->warm = 1;
	r->pool = p;
	if (rc < 0)
		return rc; /* claimed, then found unusable: end deletes it */
	r->timings.created = r->timings.scheduled = gkx__mono_now() - r->t0;
	snprintf(note, sizeof(note), "claimed %s", r->claim.pod);
	r->phase = 0;
	gkx__run_set_phase(r, GKX_PHASE_CLAIMING, note);
	snprintf(r->pod, sizeof(r->pod), "%s", r->claim.pod);
	r->exec_tried_at = gkx__mono_now();
	rc = gkx__warm_exec_boot(r, r->claim.pod);
	if (rc == 0 && gkx__run_cancelled(r))
		return 0; /* the poll says so, and end deletes the pod */
	return rc < 0 ? give_up(r, rc) : 0;
}

int gkx__warm_exec_boot(gkx_run *r, const char *pod)
{
	const char *argv[4];

	r->exec.on_stdout = on_stdout;
	r->exec.on_stderr = on_stderr;
	r->exec.ud = r;
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = gkx__warm_boot;
	argv[3] = "sandbox-run";
	return gkx__exec_start(&r->exec, r->client, r->ns, pod, "sandbox", argv, 4, r->err);
}

void gkx__run_exec_exited(gkx_run *r)
{
	gkx__run_note_end(r);
	r->exit_code = r->exec.exit_code;
	gkx__run_set_reason(r, r->exit_code ? "Error" : "Completed");
}

int gkx__warm_send_payload(gkx_run *r, const char *pod)
{
	gkx_buf in = GKX_BUF_INIT;
	int rc;

	r->timings.started = gkx__mono_now() - r->t0;
	gkx__run_set_phase(r, GKX_PHASE_RUNNING, NULL);
	rc = gkx__warm_payload(&in, r);
	if (rc == 0)
		rc = gkx__exec_write(&r->exec, in.ptr, in.len);
	if (rc == 0)
		rc = gkx__exec_close_stdin(&r->exec);
	gkx__buf_free_secret(&in);
	if (rc == GKX_ETRANSPORT)
		return gkx__error_set(r->err, rc,
		                      "the connection to %s dropped before the code was sent; "
		                      "the script did not start",
		                      pod);
	if (rc < 0)
		return gkx__error_set(r->err, rc, "sending the code to %s", pod);
	r->payload_sent = 1;
	return 0;
}

int gkx__warm_poll(gkx_run *r)
{
	double now = gkx__mono_now();
	int rc;

	if (gkx__run_cancelled(r)) {
		gkx__run_set_reason(r, "Interrupted");
		return gkx__error_set(r->err, GKX_ECANCELED, "interrupted; deleting %s",
		                      r->claim.pod);
	}
	if (r->exec_ended_at > 0)
		return gkx__run_exec_ended(r, 0, now);
	if (!r->payload_sent) {
		/* The policy of the cold path's exec (run_exec.c), but a parked
		 * pod runs already: a failure is the sandbox's, so it is given
		 * up at once rather than tried again. */
		rc = gkx__run_exec_opening(r, now);
		if (rc <= 0)
			return rc < 0 ? give_up(r, rc) : 0;
		return gkx__warm_send_payload(r, r->claim.pod);
	}
	if (!r->replaced) {
		/* The pool keeps its size: a replacement, while the script runs.
		 * The stream keeps flowing while this request waits. A failure
		 * here is not the run's. */
		gkx_error ignored;
		r->replaced = 1;
		if (!r->keep)
			gkx__pool_park(r->client, &r->pool, &ignored);
	}
	rc = gkx__exec_step(&r->exec, r->err);
	if (r->out_aborted)
		return gkx__error_set(r->err, GKX_ECANCELED, "the output reader stopped the run");
	if (rc == GKX_EFORBIDDEN || rc == GKX_EUNAUTHORIZED)
		return rights_hint(r, rc);
	if (rc != 0)
		return gkx__run_exec_ended(r, rc, now);
	if (now > r->deadline - GKX_CLIENT_GRACE_S) {
		/* The client's own deadline; the pod's, set at the claim, is the
		 * safety net should the client be gone. */
		gkx__run_set_reason(r, "DeadlineExceeded");
		return 1;
	}
	return 0;
}

int gkx__warm_end(gkx_run *r, gkx_error *err)
{
	gkx__flag *saved = r->client->cancel;
	int rc;

	/* gkx__run_end has stopped the exec. */
	if (r->keep || !r->claim.job[0])
		return 0;
	gkx__run_set_phase(r, GKX_PHASE_CLEANING, r->claim.pod);
	r->client->cancel = NULL;
	/* The Job: deleting only its pod would make the Job start another. */
	rc = gkx__object_delete(r->client, r->ns, r->claim.job, "batch/v1", "jobs",
	                        "deleting the used sandbox", err);
	/* Then the pod at once, as a cold run's: the exec has ended, and the
	 * 1.20 kubelet kept a used sandbox deleted with its grace period
	 * Terminating (and running) for up to a minute after a Ctrl-C. */
	if (rc == 0 && r->pod[0])
		gkx__run_delete_pod_now(r);
	r->client->cancel = saved;
	return rc;
}
