#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

void options_usage(void)
{
	fputs("Run a script in a locked-down, throw-away Kubernetes Job and stream its output.\n"
	      "\n"
	      "The script runs as a non-root user with every capability dropped, a read-only\n"
	      "root filesystem, no service-account token, the gVisor RuntimeClass and a hard\n"
	      "deadline. The Job, its pod and any ConfigMap it needed are deleted when the\n"
	      "run ends.\n"
	      "\n"
	      "Examples:\n"
	      "  # Run a Python script in the current context's namespace\n"
	      "  kubectl sandbox-run hello.py\n"
	      "\n"
	      "  # Pass arguments to the script, with a 60 second deadline\n"
	      "  kubectl sandbox-run --timeout=60s job.py -- --rows 10\n"
	      "\n"
	      "  # Read the script from stdin\n"
	      "  echo 'print(1 + 1)' | kubectl sandbox-run -\n"
	      "\n"
	      "  # Deny the script all network traffic (a NetworkPolicy that goes with the Job)\n"
	      "  kubectl sandbox-run --network=none untrusted.py\n"
	      "\n"
	      "  # Keep 3 sandboxes parked: runs of the same shape then start at once\n"
	      "  kubectl sandbox-run pool create --size 3\n"
	      "\n"
	      "  # Show the ConfigMap and Job that would be created, and create nothing\n"
	      "  kubectl sandbox-run --dry-run=client -o yaml hello.py\n"
	      "\n"
	      "Options:\n"
	      "      --cold=false: Always make a Job, even when a parked sandbox of this shape "
	      "waits.\n"
	      "      --cpu='1': CPU limit of the sandbox (the request is an eighth of it).\n"
	      "      --dry-run='none': Must be \"none\" or \"client\". With \"client\", print the "
	      "objects and create nothing.\n"
	      "  -e, --env=[]: Environment variable KEY=VALUE for the script; repeatable.\n"
	      "  -f, --file=[]: Another file to place beside the script (same directory); "
	      "repeatable. 1 MiB in all.\n"
	      "      --image='"
	      "python:3.11-slim"
	      "': Container image that runs the script.\n"
	      "      --keep=false: Leave the Job and ConfigMap in the cluster for inspection.\n"
	      "      --limit-bytes=0: Show at most this much output (e.g. 64Ki); the rest is "
	      "dropped and the cut is reported.\n"
	      "                       With -o json, the result keeps the last this much (default "
	      "1Mi).\n"
	      "      --memory='512Mi': Memory limit of the sandbox (the request is a quarter of "
	      "it).\n"
	      "      --network='default': Must be \"default\" or \"none\". With \"none\", also "
	      "create a NetworkPolicy, deleted\n"
	      "                           with the Job, that denies the pod all ingress and egress "
	      "(needs a network plugin\n"
	      "                           that enforces NetworkPolicy).\n"
	      "  -o, --output='': Output format: json or yaml with --dry-run=client; json for a "
	      "run's result.\n"
	      "  -q, --quiet=false: Print nothing but the script's output.\n"
	      "      --runtime-class='gvisor': RuntimeClass of the pod. Change it only on purpose: "
	      "gvisor is the isolation.\n"
	      "      --start-timeout=2m0s: Give up if the script is not running by then "
	      "(unschedulable, image pull,\n"
	      "                            mounts); never more than --timeout.\n"
	      "      --timeout=5m0s: Hard deadline of the run (activeDeadlineSeconds), e.g. 30s, "
	      "5m, 1h.\n"
	      "  -v, --v=0: Verbosity of the tool's own messages on stderr.\n"
	      "      --version=false: Print the plugin's and libgkexec's versions.\n"
	      "      --workdir='/app': Working directory of the script (/app holds the code, "
	      "read-only; /tmp is writable).\n"
	      "\n",
	      stdout);
	fputs("kubectl options:\n"
	      "      --certificate-authority='': Path to a cert file for the certificate "
	      "authority.\n"
	      "      --cluster='': The name of the kubeconfig cluster to use.\n"
	      "      --context='': The name of the kubeconfig context to use.\n"
	      "      --insecure-skip-tls-verify=false: If true, the server's certificate will not "
	      "be checked for validity.\n"
	      "      --kubeconfig='': Path to the kubeconfig file to use.\n"
	      "  -n, --namespace='': If present, the namespace scope for this request.\n"
	      "      --request-timeout='0': How long to wait for a single API request, e.g. 10s; 0 "
	      "uses 30s.\n"
	      "  -s, --server='': The address and port of the Kubernetes API server.\n"
	      "      --tls-server-name='': Server name to use for server certificate validation.\n"
	      "      --token='': Bearer token for authentication to the API server.\n"
	      "      --user='': The name of the kubeconfig user to use.\n"
	      "\n"
	      "Exit status:\n"
	      "  the script's own exit code when it ran to an end\n"
	      "  124  the deadline (--timeout) stopped the script\n"
	      "  127  the image has no interpreter for the script (choose one with --image)\n"
	      "  125  the tool or the cluster failed before the script could finish\n"
	      "  130, 143, 129  interrupted by SIGINT, SIGTERM or SIGHUP (after cleaning up)\n"
	      "\n"
	      "Pools of parked sandboxes (warm runs):\n"
	      "  A run takes a parked sandbox of its own shape (--image, --cpu, --memory,\n"
	      "  --runtime-class, --network) when one waits, execs its code in, and deletes it;\n"
	      "  stdout and stderr then arrive apart. Each parked pod serves one run, is\n"
	      "  replaced as it is used, and expires after --ttl if nobody uses it.\n"
	      "      --all=false: pool delete: every pool in the namespace.\n"
	      "      --size=2: pool create: how many sandboxes to keep parked (1-100).\n"
	      "      --ttl=15m0s: pool create: how long a parked sandbox waits before it expires.\n"
	      "      --wait=true: pool create: until the sandboxes are parked.\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run [flags] FILE|- [-- ARGS...]\n"
	      "  kubectl sandbox-run pool create|status|delete [flags]\n"
	      "  kubectl sandbox-run completion bash|zsh\n"
	      "\n"
	      "Use \"kubectl sandbox-run pool --help\" or \"kubectl sandbox-run "
	      "completion --help\" for more information about a subcommand.\n",
	      stdout);
}

/* Durations as kubectl takes them: "90", "90s", "5m", "1h", "1m30s". */
static int parse_duration_ms(const char *s, long *out)
{
	double total = 0;
	const char *p = s;

	if (!*p)
		return -1;
	while (*p) {
		char *end;
		double v;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || v < 0)
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v;
			p += 2;
		} else if (*p == 's') {
			total += v * 1000;
			p++;
		} else if (*p == 'm') {
			total += v * 60000;
			p++;
		} else if (*p == 'h') {
			total += v * 3600000;
			p++;
		} else if (!*p && p == end && total == 0) {
			total = v * 1000;
		} else
			return -1;
	}
	if (total > 1e12)
		return -1;
	*out = (long)total;
	return 0;
}

typedef enum { T_STR, T_BOOL, T_LIST, T_DUR_MS, T_DUR_S, T_INT, T_BYTES, T_COUNT } ftype;

typedef struct {
	const char *lng;
	char shrt;
	ftype type;
	size_t off; /* where in options */
} flag;

#define F(l, s, t, m)                         \
	{                                     \
		l, s, t, offsetof(options, m) \
	}
static const flag flags[] = {
	F("kubeconfig", 0, T_STR, kubeconfig),
	F("context", 0, T_STR, context),
	F("cluster", 0, T_STR, cluster),
	F("user", 0, T_STR, user),
	F("namespace", 'n', T_STR, ns),
	F("request-timeout", 0, T_DUR_MS, request_timeout_ms),
	F("server", 's', T_STR, server),
	F("token", 0, T_STR, token),
	F("certificate-authority", 0, T_STR, certificate_authority),
	F("insecure-skip-tls-verify", 0, T_BOOL, insecure_skip_tls_verify),
	F("tls-server-name", 0, T_STR, tls_server_name),
	F("image", 0, T_STR, image),
	F("cpu", 0, T_STR, cpu),
	F("memory", 0, T_STR, memory),
	F("timeout", 0, T_DUR_S, timeout_s),
	F("runtime-class", 0, T_STR, runtime_class),
	F("env", 'e', T_LIST, env),
	F("dry-run", 0, T_STR, dry_run),
	F("file", 'f', T_LIST, files),
	F("workdir", 0, T_STR, workdir),
	F("start-timeout", 0, T_DUR_S, start_timeout_s),
	F("network", 0, T_STR, network),
	F("limit-bytes", 0, T_BYTES, limit_bytes),
	F("output", 'o', T_STR, output),
	F("keep", 0, T_BOOL, keep),
	F("cold", 0, T_BOOL, cold),
	F("size", 0, T_COUNT, size),
	F("ttl", 0, T_DUR_S, ttl_s),
	F("all", 0, T_BOOL, all),
	F("wait", 0, T_BOOL, wait),
	F("quiet", 'q', T_BOOL, quiet),
	F("v", 'v', T_INT, verbosity),
	F("help", 'h', T_BOOL, help),
	F("version", 0, T_BOOL, version),
	{ NULL, 0, T_STR, 0 },
};

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int
bad(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nSee 'kubectl sandbox-run --help' for usage.\n", stderr);
	return EXIT_TOOL_FAILED;
}

static int set_flag(options *o, const flag *f, const char *name, const char *value)
{
	char *base = (char *)o + f->off;

	switch (f->type) {
	case T_STR: *(const char **)base = value; return 0;
	case T_BOOL:
		if (!value || !strcmp(value, "true"))
			*(int *)base = 1;
		else if (!strcmp(value, "false"))
			*(int *)base = 0;
		else
			return bad("--%s takes true or false", name);
		return 0;
	case T_INT: {
		char *end;
		long v = strtol(value, &end, 10);
		if (*end || end == value || v < 0 || v > 10)
			return bad("--%s takes a number from 0 to 10", name);
		*(int *)base = (int)v;
		return 0;
	}
	case T_DUR_MS:
	case T_DUR_S: {
		long ms;
		if (parse_duration_ms(value, &ms) < 0)
			return bad("invalid duration for --%s (use forms like 30s, 5m, 1h)", name);
		if (f->type == T_DUR_S) {
			if (ms < 1000)
				return bad("--%s must be at least 1s", name);
			*(long *)base = (ms + 999) / 1000;
		} else {
			*(long *)base = ms;
		}
		return 0;
	}
	case T_COUNT: {
		char *end;
		long v = strtol(value, &end, 10);
		if (*end || end == value || v < 1 || v > 100)
			return bad("--%s takes a number from 1 to 100", name);
		*(long *)base = v;
		return 0;
	}
	case T_BYTES: {
		char *end;
		long v = strtol(value, &end, 10);
		if (end == value || v <= 0 || (*end && strcmp(end, "Ki") && strcmp(end, "Mi")))
			return bad(
			        "--%s takes a positive number of bytes, optionally with Ki or Mi",
			        name);
		*(long *)base = v * (!strcmp(end, "Ki")   ? 1024L
		                     : !strcmp(end, "Mi") ? 1048576L
		                                          : 1L);
		return 0;
	}
	case T_LIST: {
		const char ***list = (const char ***)base;
		size_t *n = list == &o->env ? &o->nenv : &o->nfiles;
		const char **p = realloc(*list, (*n + 1) * sizeof(*p));
		if (!p)
			return bad("out of memory at --%s", name);
		p[(*n)++] = value;
		*list = p;
		return 0;
	}
	}
	return 0;
}

static const flag *find_long(const char *name, size_t len)
{
	const flag *f;

	for (f = flags; f->lng; f++)
		if (strlen(f->lng) == len && !strncmp(f->lng, name, len))
			return f;
	return NULL;
}

static const flag *find_short(char c)
{
	const flag *f;

	for (f = flags; f->lng; f++)
		if (f->shrt == c)
			return f;
	return NULL;
}

#define POOL_NEEDS_ACTION \
	"pool needs an action: kubectl sandbox-run pool create|status|delete [flags]"

static int is_pool_action(const char *a)
{
	return !strcmp(a, "create") || !strcmp(a, "status") || !strcmp(a, "delete");
}

int options_parse(options *o, int argc, char **argv)
{
	int i, rc;

	memset(o, 0, sizeof(*o));
	o->wait = -1;
	i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const flag *f;
		const char *value = NULL;

		if (!strcmp(a, "--")) {
			o->args = (const char **)argv + i + 1;
			o->nargs = (size_t)(argc - i - 1);
			break;
		}
		if (!strncmp(a, "--", 2)) {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			f = find_long(a + 2, len);
			if (!f)
				return bad("unknown flag: %s", a);
			if (eq)
				value = eq + 1;
		} else if (a[0] == '-' && a[1] && !(a[1] == '-')) {
			f = find_short(a[1]);
			if (!f) {
				char s[3] = { '-', a[1], 0 };
				return bad("unknown shorthand flag: %s", s);
			}
			if (a[2])
				value = a[2] == '=' ? a + 3 : a + 2;
		} else {
			/* kubectl sandbox-run [flags] pool [flags] create|status|delete
			 * [flags]; "" until the action comes, so that `pool --help`
			 * is the pool commands' help. */
			if (o->pool_action && !*o->pool_action) {
				if (!is_pool_action(a))
					return bad("%s", POOL_NEEDS_ACTION);
				o->pool_action = a;
				continue;
			}
			if (!o->file && !o->pool_action && !strcmp(a, "pool")) {
				o->pool_action = "";
				continue;
			}
			if (o->pool_action)
				return bad("pool %s takes no script", o->pool_action);
			if (o->file)
				return bad("unexpected argument \"%s\": pass arguments for the "
				           "script after --",
				           a);
			o->file = a;
			continue;
		}
		if (!value && f->type != T_BOOL) {
			if (i + 1 >= argc)
				return bad("flag needs an argument: --%s", f->lng);
			value = argv[++i];
		}
		if ((rc = set_flag(o, f, f->lng, value)) != 0)
			return rc;
	}
	if (o->help || o->version)
		return 0;
	if (o->pool_action && !*o->pool_action)
		return bad("%s", POOL_NEEDS_ACTION);
	if (o->pool_action) {
		if (o->file || o->args)
			return bad("pool %s takes no script", o->pool_action);
		if (o->dry_run || o->nenv || o->nfiles || o->keep || o->cold)
			return bad(
			        "pool %s takes the flags that shape a sandbox (--image, --cpu, "
			        "--memory, --runtime-class, --network), --size, --ttl, --all and "
			        "-o json",
			        o->pool_action);
		if (o->output && strcmp(o->output, "json"))
			return bad("%s", "pool takes -o json");
		if (o->all && strcmp(o->pool_action, "delete"))
			return bad("%s", "--all goes with pool delete");
		return 0;
	}
	if (o->dry_run) {
		if (!strcmp(o->dry_run, "none"))
			o->dry_run = NULL;
		else if (strcmp(o->dry_run, "client"))
			return bad(
			        "--dry-run must be \"none\" or \"client\", not \"%s\" (server "
			        "dry-run is "
			        "kubectl's: pipe -o yaml into kubectl apply --dry-run=server -f -)",
			        o->dry_run);
	}
	if (o->network && strcmp(o->network, "none") && strcmp(o->network, "default"))
		return bad("--network must be \"default\" or \"none\", not \"%s\"", o->network);
	if (o->output && strcmp(o->output, "json") && strcmp(o->output, "yaml"))
		return bad("--output must be json or yaml, not \"%s\"", o->output);
	if (o->output && !strcmp(o->output, "yaml") && !o->dry_run)
		return bad("%s", "-o yaml prints manifests and needs --dry-run=client; use -o json "
		                 "for a run's result");
	if (o->size || o->ttl_s || o->all || o->wait != -1)
		return bad("%s",
		           "--size, --ttl, --all and --wait go with kubectl sandbox-run pool");
	if (!o->file)
		return bad("%s",
		           "no script given: kubectl sandbox-run [flags] FILE|- [-- ARGS...]");
	return 0;
}

/* Shell completion: the flags from the table above, file names for the
 * script, and contexts, clusters, users and namespaces from the kubeconfig
 * (through `kubectl config`, which reads it exactly as we do). */
int options_completion(const char *shell)
{
	const flag *f;

	if (!shell || (strcmp(shell, "bash") && strcmp(shell, "zsh")))
		return bad("%s",
		           "completion needs a shell: kubectl sandbox-run completion bash|zsh");
	if (!strcmp(shell, "zsh"))
		fputs("#compdef kubectl-sandbox_run\nautoload -U +X bashcompinit && bashcompinit\n",
		      stdout);
	fputs("# kubectl sandbox-run completion; load with: source <(kubectl sandbox-run "
	      "completion bash)\n"
	      "_kubectl_sandbox_run_kubeconfig() {\n"
	      "    kubectl config view -o \"jsonpath=$1\" 2>/dev/null | tr ' ' '\\n' | sort -u\n"
	      "}\n"
	      "_kubectl_sandbox_run() {\n"
	      "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "    case $prev in\n"
	      "    --context) COMPREPLY=($(compgen -W \"$(_kubectl_sandbox_run_kubeconfig "
	      "'{.contexts[*].name}')\" -- \"$cur\")); return ;;\n"
	      "    --cluster) COMPREPLY=($(compgen -W \"$(_kubectl_sandbox_run_kubeconfig "
	      "'{.clusters[*].name}')\" -- \"$cur\")); return ;;\n"
	      "    --user) COMPREPLY=($(compgen -W \"$(_kubectl_sandbox_run_kubeconfig "
	      "'{.users[*].name}')\" -- \"$cur\")); return ;;\n"
	      "    -n|--namespace) COMPREPLY=($(compgen -W \"$(_kubectl_sandbox_run_kubeconfig "
	      "'{.contexts[*].context.namespace}') default\" -- \"$cur\")); return ;;\n"
	      "    -o|--output) COMPREPLY=($(compgen -W 'json yaml' -- \"$cur\")); return ;;\n"
	      "    --dry-run) COMPREPLY=($(compgen -W 'none client' -- \"$cur\")); return ;;\n"
	      "    --network) COMPREPLY=($(compgen -W 'default none' -- \"$cur\")); return ;;\n"
	      "    --kubeconfig|--certificate-authority|-f|--file) COMPREPLY=($(compgen -f -- "
	      "\"$cur\")); return ;;\n"
	      "    esac\n"
	      "    if [[ $cur == -* ]]; then\n"
	      "        COMPREPLY=($(compgen -W '",
	      stdout);
	for (f = flags; f->lng; f++) {
		printf("--%s ", f->lng);
		if (f->shrt)
			printf("-%c ", f->shrt);
	}
	fputs("' -- \"$cur\"))\n"
	      "    else\n"
	      "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "    fi\n"
	      "}\n"
	      "complete -o filenames -F _kubectl_sandbox_run kubectl-sandbox_run\n",
	      stdout);
	return 0;
}

void options_free(options *o)
{
	free(o->env);
	free(o->files);
}
