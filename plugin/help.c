/* The help of the subcommands (`pool`, `pool create|status|delete`,
 * `completion`), laid out as kubectl lays out `kubectl create --help`. The
 * main command's help is options_usage() in options.c. */
#include <stdio.h>
#include <string.h>

#include "options.h"

/* The flags that decide which parked sandboxes a pool command means: a run
 * takes only a sandbox of its own shape, so these must match the runs'. */
static const char shape_flags[] =
        "      --cpu='1': CPU limit of the sandboxes (the request is an eighth of it).\n"
        "      --image='python:3.11-slim': Container image of the sandboxes.\n"
        "      --memory='512Mi': Memory limit of the sandboxes (the request is a quarter of "
        "it).\n"
        "      --network='default': Must be \"default\" or \"none\" (a deny-all "
        "NetworkPolicy goes with each sandbox).\n"
        "      --runtime-class='gvisor': RuntimeClass of the sandboxes.\n";

static const char pool_footer[] =
        "Use \"kubectl sandbox-run --help\" for the kubectl options (--kubeconfig, --context, "
        "-n, ...), which every command takes.\n";

static void pool_overview(void)
{
	fputs("Keep sandboxes parked, so that runs of the same shape start at once.\n"
	      "\n"
	      "A run takes a parked sandbox of its own shape (--image, --cpu, --memory,\n"
	      "--runtime-class, --network) when one waits, execs its code in, and deletes it;\n"
	      "stdout and stderr then arrive apart. Each parked pod serves one run, is\n"
	      "replaced as it is used, and expires after --ttl if nobody uses it.\n"
	      "\n"
	      "Examples:\n"
	      "  # Keep 3 sandboxes of the default shape parked\n"
	      "  kubectl sandbox-run pool create --size 3\n"
	      "\n"
	      "  # Count the parked, starting, in-use and ended sandboxes of that shape\n"
	      "  kubectl sandbox-run pool status\n"
	      "\n"
	      "  # Delete every pool in the namespace\n"
	      "  kubectl sandbox-run pool delete --all\n"
	      "\n"
	      "Available Commands:\n"
	      "  create      Park sandboxes of one shape and wait until they are ready\n"
	      "  delete      Delete the parked sandboxes of one shape, or of every shape\n"
	      "  status      Count the sandboxes of one shape\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run pool create|status|delete [flags]\n"
	      "\n"
	      "Use \"kubectl sandbox-run pool <command> --help\" for more information about a "
	      "given command.\n",
	      stdout);
	fputs(pool_footer, stdout);
}

static void pool_create(void)
{
	fputs("Park sandboxes of one shape and wait until they are ready.\n"
	      "\n"
	      "Tops the pool up to --size parked or starting sandboxes, then waits until\n"
	      "--size of them are parked, for 2 minutes at most. A run takes a parked\n"
	      "sandbox only with life left for its whole --timeout and 30 s: keep --ttl\n"
	      "above your runs' timeouts.\n"
	      "\n"
	      "Examples:\n"
	      "  # Keep 3 sandboxes of the default shape parked for 15 minutes\n"
	      "  kubectl sandbox-run pool create --size 3\n"
	      "\n"
	      "  # Sandboxes with 2 CPUs and 1Gi, for an hour, without waiting for them\n"
	      "  kubectl sandbox-run pool create --cpu 2 --memory 1Gi --ttl 1h --wait=false\n"
	      "\n"
	      "Options:\n",
	      stdout);
	fputs(shape_flags, stdout);
	fputs("  -o, --output='': json: print the pool's counts as one JSON object.\n"
	      "  -q, --quiet=false: No note about --ttl.\n"
	      "      --size=2: How many sandboxes to keep parked (1-100).\n"
	      "      --ttl=15m0s: How long a parked sandbox waits before it expires.\n"
	      "      --wait=true: Wait until the sandboxes are parked.\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run pool create [flags]\n"
	      "\n",
	      stdout);
	fputs(pool_footer, stdout);
}

static void pool_status(void)
{
	fputs("Count the sandboxes of one shape: parked, starting, in use and ended.\n"
	      "\n"
	      "Examples:\n"
	      "  # The pool of the default shape\n"
	      "  kubectl sandbox-run pool status\n"
	      "\n"
	      "  # The pool of sandboxes with no network, as JSON\n"
	      "  kubectl sandbox-run pool status --network none -o json\n"
	      "\n"
	      "Options:\n",
	      stdout);
	fputs(shape_flags, stdout);
	fputs("  -o, --output='': json: print the pool's counts as one JSON object.\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run pool status [flags]\n"
	      "\n",
	      stdout);
	fputs(pool_footer, stdout);
}

static void pool_delete(void)
{
	fputs("Delete the parked sandboxes of one shape (their Jobs, pods and NetworkPolicies),\n"
	      "or with --all those of every pool in the namespace.\n"
	      "\n"
	      "Examples:\n"
	      "  # The pool of the default shape\n"
	      "  kubectl sandbox-run pool delete\n"
	      "\n"
	      "  # Every pool in namespace team-a\n"
	      "  kubectl sandbox-run pool delete --all -n team-a\n"
	      "\n"
	      "Options:\n"
	      "      --all=false: Every pool in the namespace, whatever its shape.\n",
	      stdout);
	fputs(shape_flags, stdout);
	fputs("  -q, --quiet=false: Print nothing when it is done.\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run pool delete [flags]\n"
	      "\n",
	      stdout);
	fputs(pool_footer, stdout);
}

void options_usage_pool(const char *action)
{
	if (!strcmp(action, "create"))
		pool_create();
	else if (!strcmp(action, "status"))
		pool_status();
	else if (!strcmp(action, "delete"))
		pool_delete();
	else
		pool_overview();
}

void options_usage_completion(void)
{
	fputs("Print a shell completion script for kubectl sandbox-run: its flags, file names\n"
	      "for the script, and the contexts, clusters, users and namespaces of the\n"
	      "kubeconfig (through kubectl config).\n"
	      "\n"
	      "Examples:\n"
	      "  # In the current bash session\n"
	      "  source <(kubectl sandbox-run completion bash)\n"
	      "\n"
	      "  # The same in zsh\n"
	      "  source <(kubectl sandbox-run completion zsh)\n"
	      "\n"
	      "Usage:\n"
	      "  kubectl sandbox-run completion bash|zsh\n",
	      stdout);
}
