/* The in-pod bootstrap (warm.c) on the input gkx__warm_payload makes, run
 * here by the local /bin/sh as the pod runs it: with nothing of this
 * process's environment and, when the tests run as root, as the pod's uid
 * 1001 (through util-linux's setpriv), since mode bits bind only a uid
 * that is not root. DIR/app and DIR/tmp stand for the pod's /app and /tmp. */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "run_internal.h"

#define POD_UID "1001"
#define MSG_NO_NODE                                                                             \
	"sandbox-run: the image has no \"node\" to run a.js; choose an image that has it with " \
	"--image\n"

/* The shells an image's /bin/sh may be (Debian's dash, bash, BusyBox's
 * ash): those of them this machine has. */
static const char *const shells[] = { "/bin/sh", "/bin/bash", "/bin/busybox sh" };
#define NSHELLS (sizeof(shells) / sizeof(*shells))

static int have_shell(const char *shell)
{
	char bin[64];

	snprintf(bin, sizeof(bin), "%s", shell);
	bin[strcspn(bin, " ")] = '\0';
	if (access(bin, X_OK) == 0)
		return 1;
	print_message("no %s here: not tried with it\n", bin);
	return 0;
}

typedef struct {
	char dir[32];       /* mkdtemp's */
	const char *shell;  /* the pod's /bin/sh */
	const char *path;   /* the bootstrap's PATH */
	const char *stderr; /* where its stderr goes: "&1", "/dev/null" or a file */
	char got[4096];     /* what it printed on stdout */
	double seconds;     /* how long it took */
} pod;

static void pod_init(pod *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/gkx-boot-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	p->shell = "/bin/sh";
	p->path = "/usr/bin:/bin";
	p->stderr = "&1";
}

static void pod_free(pod *p)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
	assert_int_equal(system(cmd), 0);
}

/* What runs the bootstrap as a uid that is not root: setpriv when we are
 * root, nothing when we are not. */
static const char *as_pod_uid(void)
{
	if (geteuid() != 0)
		return "";
	/* A skip would pass without checking a mode bit: fail instead. */
	if (system("command -v setpriv >/dev/null") != 0)
		fail_msg("setpriv (util-linux) is missing: the bootstrap cannot run as uid " POD_UID
		         ", and mode bits do not bind root; install util-linux");
	return "setpriv --reuid=" POD_UID " --regid=" POD_UID " --clear-groups ";
}

static char *replace_all(const char *s, size_t len, const char *from, const char *to)
{
	gkx_buf b = GKX_BUF_INIT;
	size_t i = 0, n = strlen(from);

	while (i < len) {
		if (i + n <= len && !memcmp(s + i, from, n)) {
			gkx__buf_puts(&b, to);
			i += n;
		} else {
			gkx__buf_put(&b, s + i, 1);
			i++;
		}
	}
	return gkx__buf_detach(&b);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[300];
	FILE *w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = fopen(path, "wb");
	assert_non_null(w);
	assert_int_equal(fwrite(data, 1, len, w), len);
	assert_int_equal(fclose(w), 0);
}

/* The bootstrap, and its input, with the pod's /app and /tmp made P's:
 * in the bootstrap's own paths and in the input's lines (not in its data,
 * whose lengths the lines give). */
static void write_pod_files(pod *p, const gkx_run *run)
{
	gkx_buf in = GKX_BUF_INIT;
	char cmd[300], *boot, *lines;
	const char *q;
	unsigned want, seen;
	size_t head_len;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/app %s/tmp", p->dir, p->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	snprintf(cmd, sizeof(cmd), "a=%s/app t=%s/tmp", p->dir, p->dir);
	boot = replace_all(gkx__warm_boot, strlen(gkx__warm_boot), "a=/app t=/tmp", cmd);
	assert_non_null(strstr(boot, cmd));
	/* The header and its lines end after 1 + LINES newlines. */
	assert_int_equal(strncmp(in.ptr, "gkx-exec-2 ", 11), 0);
	want = (unsigned)strtoul(in.ptr + 11, NULL, 10);
	assert_true(want > 0);
	for (q = in.ptr, seen = 0; seen <= want; seen++)
		q = strchr(q, '\n') + 1;
	head_len = (size_t)(q - in.ptr);
	snprintf(cmd, sizeof(cmd), "%s/app", p->dir);
	lines = replace_all(in.ptr, head_len, "/app", cmd);
	write_file(p->dir, "boot.sh", boot, strlen(boot));
	write_file(p->dir, "input", lines, strlen(lines));
	snprintf(cmd, sizeof(cmd), "%s/input", p->dir);
	q = in.ptr + head_len;
	{
		FILE *w = fopen(cmd, "ab");
		assert_non_null(w);
		assert_int_equal(fwrite(q, 1, in.len - head_len, w), in.len - head_len);
		assert_int_equal(fclose(w), 0);
	}
	free(boot);
	free(lines);
	gkx__buf_free(&in);
}

/* Run the bootstrap on RUN's input; give its exit status (-1 if it did
 * not exit), what it printed in P->got and its time in P->seconds. */
static int run_bootstrap(pod *p, const gkx_run *run)
{
	const char *as = as_pod_uid();
	char cmd[600];
	struct timespec t0, t1;
	size_t n;
	FILE *f;
	int rc;

	write_pod_files(p, run);
	if (*as) {
		snprintf(cmd, sizeof(cmd), "chown -R " POD_UID ":" POD_UID " %s", p->dir);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd),
	         "cd / && %senv -i PATH=%s HOME=/tmp %s %s/boot.sh sandbox-run "
	         "< %s/input 2>%s",
	         as, p->path, p->shell, p->dir, p->dir, p->stderr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(p->got, 1, sizeof(p->got) - 1, f);
	p->got[n] = '\0';
	rc = pclose(f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static gkx_run *new_run(const gkx_run_options *o)
{
	gkx_run *run = NULL;
	gkx_error err;

	if (gkx_run_new(&run, NULL, o, &err) != 0)
		fail_msg("gkx_run_new: %s", err.message);
	return run;
}

/* The file NAME in P's /app holds exactly LEN bytes of DATA. */
static void assert_app_file(const pod *p, const char *name, const char *data, size_t len)
{
	char path[300], *buf = malloc(len + 1);
	size_t n;
	FILE *f;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/app/%s", p->dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s was not written", name);
	n = fread(buf, 1, len + 1, f);
	fclose(f);
	if (n != len || memcmp(buf, data, len))
		fail_msg("%s: %lu bytes, not the %lu sent", name, (unsigned long)n,
		         (unsigned long)len);
	free(buf);
}

/* A Job's run started by exec keeps a Job's output: stderr joined to
 * stdout in the order printed; a warm run keeps them apart. */
static void test_bootstrap_joins_for_a_job(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_run *run;
	pod p;

	(void)state;
	pod_init(&p);
	p.stderr = "/dev/null";
	o.script_name = "t.sh";
	o.script = "echo 1; echo 2 >&2; echo 3";
	o.script_len = strlen(o.script);
	run = new_run(&o);
	assert_int_equal(run_bootstrap(&p, run), 0);
	assert_string_equal(p.got, "1\n3\n");
	/* The same input, but stderr joined (the Job's env is in its spec). */
	pod_free(&p);
	pod_init(&p);
	p.stderr = "/dev/null";
	run->via_exec = 1;
	assert_int_equal(run_bootstrap(&p, run), 0);
	assert_string_equal(p.got, "1\n2\n3\n");
	pod_free(&p);
	gkx_run_free(run);
}

static void test_bootstrap(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const args[] = { "x y", "", "two\nlines", "-n", "it's" };
	static const char *const env[] = { "PLAIN=1", "MULTI=a\nb", "-odd.name=3" };
	gkx_file extra[2];
	gkx_buf in = GKX_BUF_INIT;
	gkx_run *run;
	char want[512];
	pod p;

	(void)state;
	pod_init(&p);
	extra[0] = (gkx_file){ .name = "data.txt", .data = "line\n", .len = 5 };
	extra[1] = (gkx_file){ .name = "bin.dat", .data = "\0\1\2\n\n", .len = 5 };
	o.script_name = "t.sh";
	o.script = "printf '[%s]' \"$@\"; echo; echo \"$PLAIN|$MULTI|$(pwd)\"; "
	           "od -An -c bin.dat | tr -s ' '; cat data.txt; ls -l /proc/self/fd/0 | "
	           "grep -c null; stat -c %a t.sh; tr \"\\\\0\" \"\\\\n\" </proc/$$/environ | grep "
	           "-c odd.name";
	o.script_len = strlen(o.script);
	o.args = args;
	o.nargs = 5;
	o.env = env;
	o.nenv = 3;
	o.files = extra;
	o.nfiles = 2;
	run = new_run(&o);
	/* From MULTI on, which has a newline, the words are shell code, the
	 * script's path among them. */
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	assert_non_null(strstr(in.ptr, "\nA env\nA --\nA PLAIN=1\n"));
	assert_null(strstr(in.ptr, "\nP "));
	assert_non_null(strstr(in.ptr, "\nS "));
	gkx__buf_free(&in);
	if (run_bootstrap(&p, run) != 0)
		fail_msg("the bootstrap failed: %s", p.got);
	snprintf(
	        want, sizeof(want),
	        "[x y][][two\nlines][-n][it's]\n1|a\nb|%s/app\n \\0 001 002 \\n \\n\nline\n1\n444\n"
	        "1\n",
	        p.dir);
	assert_string_equal(p.got, want);
	pod_free(&p);
	gkx_run_free(run);
}

/* Files travel in lines while small, in the shell code beyond that, as
 * data when they hold a NUL byte: each way every byte arrives as it was,
 * whatever the shell makes of backslashes, carriage returns, quotes, its
 * own quoting bytes (0x81-0x88 in dash), trailing newlines or lines that
 * look like the input's own. */
static void test_bootstrap_files_exact(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_file extra[6];
	gkx_run *run;
	gkx_buf in = GKX_BUF_INIT;
	static const char tail[] = "\nEOF\nL x\nM y\nS 1\n'\\''\\\r\n  -n \n\n$(false)`false`'";
	char nasty[400], big[3000], nasty_big[3000];
	size_t i, k, n = 0;
	pod p;

	(void)state;
	for (i = 1; i < 256; i++)
		nasty[n++] = (char)i;
	memcpy(nasty + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	memcpy(big + sizeof(big) - 3, "'\n\n", 3);
	for (i = 0; i < sizeof(nasty_big); i++)
		nasty_big[i] = nasty[i % n];
	extra[0] = (gkx_file){ .name = "nasty.txt", .data = nasty, .len = n };
	extra[1] = (gkx_file){ .name = "empty.txt", .data = "", .len = 0 };
	extra[2] =
	        (gkx_file){ .name = "nasty-big.txt", .data = nasty_big, .len = sizeof(nasty_big) };
	extra[3] = (gkx_file){ .name = "nl.txt", .data = "\n\n", .len = 2 };
	extra[4] = (gkx_file){ .name = "bin.dat", .data = "\0'\n", .len = 3 };
	extra[5] = (gkx_file){ .name = "big.txt", .data = big, .len = sizeof(big) };
	o.script_name = "t.sh";
	o.script = "for f in *; do cksum <\"$f\"; done";
	o.script_len = strlen(o.script);
	o.files = extra;
	o.nfiles = 6;
	run = new_run(&o);
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	/* In lines, those that fit; the others in the shell code, but the
	 * one with a NUL byte, which is data of its own. */
	assert_non_null(strstr(in.ptr, "\nT t.sh\nM for f"));
	assert_non_null(strstr(in.ptr, "\nT nasty.txt\nL \1"));
	assert_non_null(strstr(in.ptr, "\nT empty.txt\nT nl.txt\nL \nL \nF 3 bin.dat\nS "));
	assert_null(strstr(in.ptr, "T big.txt"));
	assert_null(strstr(in.ptr, "T nasty-big.txt"));
	gkx__buf_free(&in);
	for (k = 0; k < NSHELLS; k++) {
		if (!have_shell(shells[k]))
			continue;
		pod_init(&p);
		p.shell = shells[k];
		if (run_bootstrap(&p, run) != 0)
			fail_msg("the bootstrap failed in %s: %s", p.shell, p.got);
		for (i = 0; i < 6; i++)
			assert_app_file(&p, extra[i].name, extra[i].data, extra[i].len);
		pod_free(&p);
	}
	gkx_run_free(run);
}

/* Words past the room in lines, or with a newline, go in the shell code,
 * and so do all after them: the command keeps its order. */
static void test_bootstrap_long_words(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static char longw[5000];
	const char *args[] = { "first", longw, "a'b\nc\\", "", " x ", "last" };
	char want[128];
	gkx_run *run;
	size_t k;
	pod p;

	(void)state;
	memset(longw, 'w', sizeof(longw) - 1);
	o.script_name = "t.sh";
	o.script = "echo $#; for a; do printf '%s:' \"${#a}\"; done; echo; "
	           "printf '[%s]' \"$1\" \"$3\" \"$4\" \"$5\" \"$6\"; echo; echo \"$0\"";
	o.script_len = strlen(o.script);
	o.args = args;
	o.nargs = 6;
	run = new_run(&o);
	for (k = 0; k < NSHELLS; k++) {
		if (!have_shell(shells[k]))
			continue;
		pod_init(&p);
		p.shell = shells[k];
		if (run_bootstrap(&p, run) != 0)
			fail_msg("the bootstrap failed in %s: %s", p.shell, p.got);
		snprintf(want, sizeof(want),
		         "6\n5:4999:6:0:3:4:\n[first][a'b\nc\\][][ x ][last]\n%s/app/t.sh\n",
		         p.dir);
		assert_string_equal(p.got, want);
		pod_free(&p);
	}
	gkx_run_free(run);
}

/* A Python run with no variables of the caller's starts no `env`: the
 * shell exports ours, and the caller's still win when given. */
static void test_bootstrap_python(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const env[] = { "PYTHONDONTWRITEBYTECODE=", "X=1" };
	gkx_run *run;
	gkx_buf in = GKX_BUF_INIT;
	char want[600];
	unsigned k;
	pod p;

	(void)state;
	if (system("env -i PATH=/usr/bin:/bin sh -c 'command -v python3' >/dev/null") != 0) {
		print_message("no python3 in /usr/bin or /bin; skipping\n");
		skip();
	}
	o.script_name = "t.py";
	o.script = "import os, sys\n"
	           "print(os.environ.get('PYTHONUNBUFFERED'), repr(os.environ.get("
	           "'PYTHONDONTWRITEBYTECODE')), os.environ.get('X'), __file__, sys.argv[1:])\n";
	o.script_len = strlen(o.script);
	for (k = 0; k < 2; k++) {
		pod_init(&p);
		o.env = k ? env : NULL;
		o.nenv = k ? 2 : 0;
		run = new_run(&o);
		assert_int_equal(gkx__warm_payload(&in, run), 0);
		/* Without the caller's variables, no env in the command. */
		assert_true(!strstr(in.ptr, "A env\n") == !k);
		gkx__buf_free(&in);
		if (run_bootstrap(&p, run) != 0)
			fail_msg("the bootstrap failed: %s", p.got);
		snprintf(want, sizeof(want), "1 %s %s %s/app/t.py []\n", k ? "''" : "'1'",
		         k ? "1" : "None", p.dir);
		assert_string_equal(p.got, want);
		gkx_run_free(run);
		pod_free(&p);
	}
}

/* The code files are read-only to the script, whichever way they came;
 * what the script makes itself it can write, as under umask 022: nested
 * directories in its /tmp and working directory, files it appends to, a
 * mktemp directory. As a uid that is not root, where modes bind. */
static void test_bootstrap_script_umask(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static char big[3000];
	gkx_file extra[3];
	const char *args[1];
	char tmp[64];
	gkx_run *run;
	pod p;

	(void)state;
	pod_init(&p);
	memset(big, '#', sizeof(big));
	extra[0] = (gkx_file){ .name = "small.txt", .data = "s\n", .len = 2 };
	extra[1] = (gkx_file){ .name = "big.txt", .data = big, .len = sizeof(big) };
	extra[2] = (gkx_file){ .name = "bin.dat", .data = "\0", .len = 1 };
	snprintf(tmp, sizeof(tmp), "%s/tmp", p.dir);
	args[0] = tmp;
	o.script_name = "t.sh";
	o.script = "set -e\n"
	           "umask\n"
	           "mkdir -p \"$1/a/b/c\" here/x/y\n"
	           "echo one >\"$1/a/b/c/f\"; echo two >>\"$1/a/b/c/f\"; cat \"$1/a/b/c/f\"\n"
	           "echo three >here/x/y/g; echo four >>here/x/y/g; cat here/x/y/g\n"
	           "d=$(mktemp -d -p \"$1\"); echo five >\"$d/h\"; cat \"$d/h\"\n"
	           "for f in t.sh small.txt big.txt bin.dat; do\n"
	           "  if (echo x >>\"$f\") 2>/dev/null; then echo \"$f written\"; fi\n"
	           "  stat -c \"%a %n\" \"$f\"\n"
	           "done\n";
	o.script_len = strlen(o.script);
	o.args = args;
	o.nargs = 1;
	o.files = extra;
	o.nfiles = 3;
	run = new_run(&o);
	if (run_bootstrap(&p, run) != 0)
		fail_msg("the bootstrap failed: %s", p.got);
	assert_string_equal(p.got, "0022\none\ntwo\nthree\nfour\nfive\n444 t.sh\n444 small.txt\n"
	                           "444 big.txt\n444 bin.dat\n");
	pod_free(&p);
	gkx_run_free(run);
}

/* 1 MiB of small text files: in time linear in their size (the shell
 * appending each line to a list of all took 18 s in dash), each byte as
 * it was. */
static void test_bootstrap_many_small_files(void **state)
{
	enum { NFILES = 511, SIZE = 2048 };
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	gkx_file *extra = calloc(NFILES, sizeof(*extra));
	char *data = malloc((size_t)NFILES * SIZE), (*names)[16] = calloc(NFILES, 16);
	gkx_run *run;
	size_t i, k;
	pod p;

	(void)state;
	assert_true(extra && data && names);
	pod_init(&p);
	for (i = 0; i < NFILES; i++) {
		for (k = 0; k < SIZE; k++) /* every byte but NUL, newlines and quotes among them */
			data[i * SIZE + k] = (char)(1 + (i * 31 + k * 7) % 255);
		snprintf(names[i], sizeof(names[i]), "f%03lu.txt", (unsigned long)i);
		extra[i] = (gkx_file){ .name = names[i], .data = data + i * SIZE, .len = SIZE };
	}
	o.script_name = "t.sh";
	o.script = "ls | wc -l";
	o.script_len = strlen(o.script);
	o.files = extra;
	o.nfiles = NFILES;
	run = new_run(&o);
	if (run_bootstrap(&p, run) != 0)
		fail_msg("the bootstrap failed: %s", p.got);
	print_message("%d files of %d bytes: %.2f s\n", NFILES, SIZE, p.seconds);
	assert_string_equal(p.got, "512\n");
	for (i = 0; i < NFILES; i++)
		assert_app_file(&p, names[i], extra[i].data, extra[i].len);
	if (p.seconds > 5.0)
		fail_msg("the bootstrap took %.1f s for 1 MiB of small files", p.seconds);
	pod_free(&p);
	gkx_run_free(run);
	free(extra);
	free(data);
	free(names);
}

/* An image without the script's interpreter: the bootstrap says so, in
 * words of the user's, on stderr whichever the path, with exit 127. */
static void test_bootstrap_no_interpreter(void **state)
{
	gkx_run_options o = GKX_RUN_OPTIONS_INIT;
	static const char *const path_env[] = { "PATH=/opt/node/bin:/usr/bin:/bin" };
	gkx_buf in = GKX_BUF_INIT;
	char errfile[64], err[512];
	gkx_run *run;
	size_t n;
	FILE *f;
	int via_exec;
	pod p;

	(void)state;
	o.script_name = "a.js";
	o.script = "console.log(1)";
	o.script_len = strlen(o.script);
	for (via_exec = 0; via_exec < 2; via_exec++) {
		pod_init(&p);
		snprintf(errfile, sizeof(errfile), "%s/err", p.dir);
		p.stderr = errfile;
		p.path = "/nonexistent";
		run = new_run(&o);
		run->via_exec = via_exec;
		assert_int_equal(run_bootstrap(&p, run), 127);
		assert_string_equal(p.got, "");
		f = fopen(errfile, "r");
		assert_non_null(f);
		n = fread(err, 1, sizeof(err) - 1, f);
		err[n] = '\0';
		fclose(f);
		assert_string_equal(err, MSG_NO_NODE);
		gkx_run_free(run);
		pod_free(&p);
	}
	/* The caller's PATH, given to env, is not the shell's: no check. */
	o.env = path_env;
	o.nenv = 1;
	run = new_run(&o);
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	assert_null(strstr(in.ptr, "\nI "));
	gkx__buf_free(&in);
	run->via_exec = 1;
	assert_int_equal(gkx__warm_payload(&in, run), 0);
	assert_non_null(strstr(in.ptr, "\nI node a.js\n"));
	gkx__buf_free(&in);
	gkx_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_bootstrap_joins_for_a_job),
		cmocka_unit_test(test_bootstrap_files_exact),
		cmocka_unit_test(test_bootstrap_long_words),
		cmocka_unit_test(test_bootstrap_python),
		cmocka_unit_test(test_bootstrap_script_umask),
		cmocka_unit_test(test_bootstrap_many_small_files),
		cmocka_unit_test(test_bootstrap_no_interpreter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
