/* What a pod's status says about why it ended, for every path that has
 * the pod in hand (the cold run's watch, an exec cut by a signal, a warm
 * run that asks after its pod).
 *
 * The container's own end says little when the node stopped the pod: an
 * eviction (a full /tmp past its sizeLimit, the pod over its
 * ephemeral-storage limit, a node short of memory or disk) kills the
 * container with SIGKILL, so the container says exit 137 and "Error",
 * while the pod says phase Failed, reason "Evicted" and the kubelet's
 * message. The pod's reason, when it has one, is the more specific. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void copy_trimmed(char *dst, size_t n, const char *s)
{
	size_t len;

	snprintf(dst, n, "%s", s ? s : "");
	/* The kubelet's eviction messages end with a space. */
	len = strlen(dst);
	while (len && (dst[len - 1] == ' ' || dst[len - 1] == '\n'))
		dst[--len] = '\0';
}

int gkx__pod_end_read(const cJSON *pod, gkx__pod_end *out)
{
	const char *phase = gkx__json_str(pod, "status", "phase", GKX__END);
	const char *reason = gkx__json_str(pod, "status", "reason", GKX__END);
	const cJSON *cs =
	        cJSON_GetArrayItem(gkx__json_at(pod, "status", "containerStatuses", GKX__END), 0);
	const cJSON *term = gkx__json_at(cs, "state", "terminated", GKX__END);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(term, "exitCode");

	memset(out, 0, sizeof(*out));
	out->exit_code = term && cJSON_IsNumber(code) ? code->valueint : -1;
	out->container_ended = term != NULL;
	out->pod_failed = phase && !strcmp(phase, "Failed");
	if (reason && *reason) {
		/* Evicted, DeadlineExceeded, NodeLost, Shutdown, OutOfmemory... */
		copy_trimmed(out->reason, sizeof(out->reason), reason);
		copy_trimmed(out->message, sizeof(out->message),
		             gkx__json_str(pod, "status", "message", GKX__END));
		out->from_pod = 1;
	} else if (term) {
		copy_trimmed(out->reason, sizeof(out->reason),
		             gkx__json_str(term, "reason", GKX__END));
		copy_trimmed(out->message, sizeof(out->message),
		             gkx__json_str(term, "message", GKX__END));
	}
	return out->container_ended || out->pod_failed;
}
