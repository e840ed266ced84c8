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
 *   gkx-exec-2 LINES DATA SIZE\n     header: line count, data items, their bytes
 *   W /app\n                         working directory
 *   J\n                              stderr joined to stdout (a Job's run)
 *   E NAME=VALUE\n                   a variable of ours to export (PYTHONUNBUFFERED)
 *   I INTERPRETER SCRIPT\n           if the image has no INTERPRETER, say so (127)
 *   A word\n                         a word of the command
 *   P NAME\n                         the word /app/NAME
 *   T NAME\n                         a small text file for /app/NAME, in lines:
 *   L line\n                         a line of it (the newline is the file's)
 *   M line\n                         its last line, which has no newline
 *   F LEN NAME\n                     a file for /app/NAME, from the data
 *   S LEN\n                          shell code, from the data: the other words and files
 *   DATA                             the F and S items' bytes, in order
 *
 * The command is `INTERPRETER /app/SCRIPT ARGS...`, with stdin closed;
 * with the caller's environment, `env -- KEY=VALUE... ` before it. Our
 * own variables are exported by the shell instead: under gVisor every
 * process started costs 15-30 ms, and most runs set no variables. (The
 * caller's go through env, which takes any name and never changes what
 * the bootstrap's own commands see.)
 *
 * What the shell reads a byte at a time costs about 7 us a byte under
 * gVisor, so only WARM_LINES_MAX bytes of the caller's words and files
 * travel in lines (the usual script, which the shell then writes with no
 * process at all), each line acted on as it is read. The rest, however
 * many files, is one S item: shell code, each word and file content in
 * single quotes (in which no byte but the quote itself, sent as '\'',
 * means anything to the shell), that `head` writes to /tmp and the shell
 * sources (`.` reads 8 KiB at a time, where a command substitution reads
 * 128 bytes: 0.7 s for 1 MiB under gVisor). So 1 MiB of small files costs
 * two processes (head, then rm) and time linear in its size (kept as a
 * list of lines, it took 18 s in dash). A file with a NUL byte, which no
 * shell string can hold, is an F item, one `head` of its own. Of the data
 * items, one is read straight from stdin; more go to a file in /tmp
 * first, since BusyBox's head may read ahead of what it was asked, and
 * nothing may follow what it reads. v4.channel.k8s.io cannot close stdin,
 * so the input says its own length; with v5 stdin is closed too.
 *
 * The files are written under umask 0222: the code is read-only (0444),
 * so that a script does not overwrite it by mistake. The interpreter runs
 * under the usual umask 022, so that what the script makes (directories
 * in /tmp, files it appends to) it can write, as under any container
 * runtime. The bootstrap's own messages go to stderr on every path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define WARM_LINES_MAX 2048 /* the caller's bytes in lines; the rest is shell code */

const char gkx__warm_boot[] =
        "set -eu\n"
        "a=/app t=/tmp\n"
        "umask 0222\n"
        "exec 3<&0\n"
        "IFS=' ' read -r magic n ndata size\n"
        "[ \"$magic\" = gkx-exec-2 ] || { echo \"sandbox-run: unexpected input\" >&2; exit 126; }\n"
        "d= i= j=\n"
        "set --\n"
        "while [ \"$n\" -gt 0 ]; do\n"
        "  IFS= read -r l; n=$((n - 1))\n"
        "  case $l in\n"
        "  'W '*) cd \"${l#W }\" ;;\n"
        "  'E '*) export \"${l#E }\" ;;\n"
        "  'I '*) i=${l#I } ;;\n"
        "  'A '*) set -- \"$@\" \"${l#A }\" ;;\n"
        "  'P '*) set -- \"$@\" \"$a/${l#P }\" ;;\n"
        "  J) j=1 ;;\n"
        "  'T '*) exec 4>\"$a/${l#T }\" ;;\n"
        "  'L '*) printf '%s\\n' \"${l#L }\" >&4 ;;\n"
        "  'M '*) printf %s \"${l#M }\" >&4 ;;\n"
        "  'F '*|'S '*) d=\"$d$l\n\" ;;\n"
        "  esac\n"
        "done\n"
        "b=$t/.sandbox-run-input x=\n"
        "[ \"$ndata\" -le 1 ] || { x=1; head -c \"$size\" <&3 >\"$b\"; }\n"
        "off=1\n"
        "while IFS= read -r l; do\n"
        "  [ -n \"$l\" ] || continue\n"
        "  k=${l%% *}; len=${l#? }; f=$a/${len#* }; len=${len%% *}\n"
        "  [ \"$k\" = F ] || { x=1; f=$b.sh; }\n"
        "  if [ \"$ndata\" -gt 1 ]; then tail -c +\"$off\" \"$b\" | head -c \"$len\" >\"$f\"\n"
        "  else head -c \"$len\" <&3 >\"$f\"; fi\n"
        "  off=$((off + len))\n"
        "  [ \"$k\" = F ] || . \"$f\"\n"
        "done <<EOF\n"
        "$d\n"
        "EOF\n"
        "[ -z \"$x\" ] || rm -f \"$b\" \"$b.sh\"\n"
        "if [ -n \"$i\" ] && ! command -v \"${i%% *}\" >/dev/null; then\n"
        "  printf 'sandbox-run: the image has no \"%s\" to run %s; choose an image that has it "
        "'\\\n"
        "'with --image\\n' \"${i%% *}\" \"${i#* }\" >&2\n"
        "  exit 127\n"
        "fi\n"
        "[ -z \"$j\" ] || exec 2>&1\n"
        "umask 022\n"
        "exec \"$@\" </dev/null 3<&- 4>&-\n";

typedef struct {
	gkx_buf lines, data;
	gkx_buf words, files; /* the S item's: quoted words, then file writes */
	unsigned nlines, ndata;
	size_t room; /* the caller's bytes that may still travel in lines */
	int spilled; /* a word went into the S item, so every later one does */
} payload;

static int line(payload *p, const char *kind, const char *s, size_t len)
{
	p->nlines++;
	return gkx__buf_puts(&p->lines, kind) < 0 || gkx__buf_put(&p->lines, s, len) < 0 ||
	       gkx__buf_puts(&p->lines, "\n") < 0;
}

/* S, in single quotes: the only byte they do not take as it is is the
 * quote itself, which closes them, is sent escaped, and opens them again. */
static int quoted(gkx_buf *b, const char *s, size_t len)
{
	const char *q;
	int rc = gkx__buf_puts(b, "'") < 0;

	while (!rc && (q = memchr(s, '\'', len))) {
		rc = gkx__buf_put(b, s, (size_t)(q - s)) < 0 || gkx__buf_puts(b, "'\\''") < 0;
		len -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	return rc || gkx__buf_put(b, s, len) < 0 || gkx__buf_puts(b, "'") < 0;
}

/* A word of the command; the caller's (OWN 0) count against the room in
 * lines. Once one has gone into the S item, the later ones follow it, so
 * that the command keeps their order. */
static int add_word(payload *p, const char *w, size_t len, int own)
{
	if (!p->spilled && (own || len <= p->room) && !memchr(w, '\n', len)) {
		p->room -= own ? 0 : len;
		return line(p, "A ", w, len);
	}
	p->spilled = 1;
	return gkx__buf_puts(&p->words, " ") < 0 || quoted(&p->words, w, len);
}

/* The script's path, /app/NAME, as a word. */
static int add_path(payload *p, const char *name)
{
	if (!p->spilled)
		return line(p, "P ", name, strlen(name));
	return gkx__buf_puts(&p->words, " \"$a\"/") < 0 || quoted(&p->words, name, strlen(name));
}

static int add_file(payload *p, const gkx_file *f)
{
	const char *s = f->data, *end = f->data + f->len, *nl;
	int rc;

	if (memchr(f->data, '\0', f->len)) {
		p->nlines++;
		p->ndata++;
		rc = gkx__buf_printf(&p->lines, "F %lu %s\n", (unsigned long)f->len, f->name);
		return rc < 0 || gkx__buf_put(&p->data, f->data, f->len) < 0;
	}
	/* Past the room in lines: shell code, which no byte of the file's
	 * can end, since no shell string holds a NUL. */
	if (f->len > p->room)
		return gkx__buf_puts(&p->files, "exec >\"$a\"/") < 0 ||
		       quoted(&p->files, f->name, strlen(f->name)) ||
		       gkx__buf_puts(&p->files, "\nprintf %s ") < 0 ||
		       quoted(&p->files, f->data, f->len) || gkx__buf_puts(&p->files, "\n") < 0;
	p->room -= f->len;
	rc = line(p, "T ", f->name, strlen(f->name));
	while (!rc && s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		rc = line(p, nl ? "L " : "M ", s, (size_t)((nl ? nl : end) - s));
		s = nl ? nl + 1 : end;
	}
	return rc;
}

/* The S item, last of the lines and of the data, if anything went there.
 * Each file is written as `exec >FILE; printf %s TEXT`: four system calls
 * where printf's own redirection takes seven (saving and restoring its
 * stdout), 15% of the time of 511 small files under gVisor. */
static int add_code(payload *p)
{
	size_t start = p->data.len;
	int rc = 0;

	if (!p->words.len && !p->files.len)
		return 0;
	if (p->words.len)
		rc = gkx__buf_puts(&p->data, "set -- \"$@\"") < 0 ||
		     gkx__buf_put(&p->data, p->words.ptr, p->words.len) < 0 ||
		     gkx__buf_puts(&p->data, "\n") < 0;
	if (!rc && p->files.len)
		rc = gkx__buf_puts(&p->data, "exec 5>&1\n") < 0 ||
		     gkx__buf_put(&p->data, p->files.ptr, p->files.len) < 0 ||
		     gkx__buf_puts(&p->data, "exec >&5 5>&-\n") < 0;
	p->nlines++;
	p->ndata++;
	return rc ||
	       gkx__buf_printf(&p->lines, "S %lu\n", (unsigned long)(p->data.len - start)) < 0;
}

/* The interpreter is looked up in the shell's PATH, which is the
 * command's unless the caller's variables, given to env, set another. */
static int add_check(payload *p, const gkx_run *r)
{
	size_t i;

	for (i = 0; !r->via_exec && i < r->nenv; i++)
		if (!strncmp(r->env[i], "PATH=", 5))
			return 0;
	p->nlines++;
	return gkx__buf_printf(&p->lines, "I %s %s\n", r->interpreter, r->files[0].name) < 0;
}

/* The lines before the command's words: where, how, and our variables. */
static int add_setting(payload *p, const gkx_run *r)
{
	static const char *const python_env[] = { "PYTHONUNBUFFERED=1",
		                                  "PYTHONDONTWRITEBYTECODE=1" };
	const char *name = r->files[0].name;
	size_t i, n = strlen(name);
	int rc = line(p, "W ", r->workdir, strlen(r->workdir));

	/* A Job's run (run_exec.c) keeps a Job's output: stderr joined to
	 * stdout, in the order printed. */
	if (!rc && r->via_exec)
		rc = line(p, "J", "", 0);
	/* Ours first, then the caller's, which may override them: as the
	 * Job's container env would have it. */
	for (i = 0; !rc && n > 3 && !strcmp(name + n - 3, ".py") && i < 2; i++)
		rc = line(p, "E ", python_env[i], strlen(python_env[i]));
	return rc || add_check(p, r);
}

int gkx__warm_payload(gkx_buf *out, const gkx_run *r)
{
	payload p;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	p.room = WARM_LINES_MAX;
	rc = add_setting(&p, r);
	/* A cold run's pod has the caller's environment in its spec already;
	 * its files come as a warm run's do. */
	if (!rc && r->nenv && !r->via_exec)
		rc = add_word(&p, "env", 3, 1) || add_word(&p, "--", 2, 1);
	for (i = 0; !rc && !r->via_exec && i < r->nenv; i++)
		rc = add_word(&p, r->env[i], strlen(r->env[i]), 0);
	if (!rc)
		rc = add_word(&p, r->interpreter, strlen(r->interpreter), 1) ||
		     add_path(&p, r->files[0].name);
	for (i = 0; !rc && i < r->nargs; i++)
		rc = add_word(&p, r->args[i], strlen(r->args[i]), 0);
	for (i = 0; !rc && i < r->nfiles; i++)
		rc = add_file(&p, &r->files[i]);
	if (!rc)
		rc = add_code(&p) ||
		     gkx__buf_printf(out, "gkx-exec-2 %u %u %lu\n", p.nlines, p.ndata,
		                     (unsigned long)p.data.len) < 0 ||
		     gkx__buf_put(out, p.lines.ptr, p.lines.len) < 0 ||
		     gkx__buf_put(out, p.data.ptr, p.data.len) < 0;
	gkx__buf_free_secret(&p.lines);
	gkx__buf_free_secret(&p.data);
	gkx__buf_free_secret(&p.words);
	gkx__buf_free_secret(&p.files);
	return rc ? GKX_ENOMEM : 0;
}

/* Output, as the cold path gives it (gkx__run_give); the result keeps a
 * warm run's stderr apart. */
static int on_stdout(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;

	return gkx__run_give(r, &r->cap_out, r->on_output, r->output_ud, data, len);
}

static int on_stderr(const char *data, size_t len, void *ud)
{
	gkx_run *r = ud;
	gkx__capture *keep = r->warm ? &r->cap_err : &r->cap_out;

	if (r->on_stderr)
		return gkx__run_give(r, keep, r->on_stderr, r->stderr_ud, data, len);
	return gkx__run_give(r, keep, r->on_output, r->output_ud, data, len);
}

/* Forbidden on the warm path's own calls: say which right is missing. */
static int rights_hint(gkx_run *r, int rc)
{
	if (rc == GKX_EFORBIDDEN)
		gkx__error_prefix(r->err,
		                  "a warm run needs list, get and patch on pods and create (get "
		                  "before Kubernetes 1.35) on pods/exec; --cold makes a Job "
		                  "instead");
	return rc;
}

/* The claimed sandbox failed before any code went in (its exec refused,
 * cut, or unanswered within GKX_EXEC_OPEN_S): it is given up (its Job
 * deleted) and the run goes on as a Job, which -v=1 shows. A missing
 * right is the caller's to fix, and is said instead. */
static int delete_claimed(gkx_run *r, gkx_error *err);

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
	/* Deleted with --keep too: it never ran the code, and the run
	 * forgets it below. */
	if (r->claim.job[0])
		delete_claimed(r, &ignored);
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

/* The claimed sandbox: its Job, then its pod. */
static int delete_claimed(gkx_run *r, gkx_error *err)
{
	gkx__flag *saved = r->client->cancel;
	int rc;

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

int gkx__warm_end(gkx_run *r, gkx_error *err)
{
	/* gkx__run_end has stopped the exec. */
	if (r->keep || !r->claim.job[0])
		return 0;
	return delete_claimed(r, err);
}
