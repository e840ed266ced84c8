#ifndef GKEXEC_POOL_H
#define GKEXEC_POOL_H

#include <gkexec/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parked sandboxes, for warm runs. A pool is a set of pods with exactly the
 * hardening of a run's Job pod (gVisor, no root, no capabilities, a
 * read-only root, no token, limits), started ahead of time and waiting.
 * A run of the same shape (image, cpu, memory, RuntimeClass, network mode)
 * claims one atomically, execs its code in over a WebSocket (pods/exec),
 * reads stdout, stderr and the exit code, and deletes the pod: a parked
 * pod serves one run, ever. Each claim starts a replacement, so a pool in
 * use keeps its size; a pod nobody claims expires by itself after the
 * pool's TTL, so a forgotten pool soon costs nothing (and its Jobs are
 * garbage-collected a minute later). There is no controller to install:
 * whoever runs keeps the pool topped up.
 *
 * The runner needs, besides a Job's rights: list and patch on pods, and
 * create (Kubernetes 1.35 and later) and get (before) on pods/exec.
 */

typedef struct gkx_pool_options {
	unsigned int version; /**< GKX_POOL_OPTIONS_VERSION */
	const char *ns;       /**< namespace; default: the config's */
	const char *image;    /**< the shape: as gkx_run_options, same defaults */
	const char *cpu;
	const char *memory;
	const char *runtime_class;
	const char *network; /**< "none" or "default" */
	unsigned size;       /**< parked pods wanted; default 2 */
	long ttl_s;          /**< a parked pod's life; default 900 */
} gkx_pool_options;

#define GKX_POOL_OPTIONS_VERSION 1
#define GKX_POOL_OPTIONS_INIT                                                      \
	{                                                                          \
		GKX_POOL_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 \
	}

/** Fill `opts` with zeroes and the current version. */
GKX_API void gkx_pool_options_init(gkx_pool_options *opts);

/** What a pool holds, as counted when asked. */
typedef struct gkx_pool_status {
	char shape[17];    /**< the pool's label (a hash of its shape) */
	unsigned parked;   /**< running and waiting for a run */
	unsigned starting; /**< created, not running yet */
	unsigned claimed;  /**< serving a run now */
	unsigned ended;    /**< expired or finished, not yet garbage-collected */
} gkx_pool_status;

/**
 * Top the pool up to opts->size parked or starting pods; `out` (may be
 * NULL) gets the counts afterwards. Does not wait for new pods to run.
 */
GKX_API int gkx_pool_fill(gkx_client *client, const gkx_pool_options *opts, gkx_pool_status *out,
                          gkx_error *err);

/** Count the pool's pods. */
GKX_API int gkx_pool_status_get(gkx_client *client, const gkx_pool_options *opts,
                                gkx_pool_status *out, gkx_error *err);

/**
 * Delete the pool's sandboxes (their Jobs, pods and NetworkPolicies), or
 * with `all` every pool in the namespace. Each parked pod is first taken
 * out of the pool, so that no run claims it from then on; a sandbox a run
 * has already claimed is left to that run, which deletes it when it ends.
 * *deleted (may be NULL) gets how many sandboxes were deleted.
 */
GKX_API int gkx_pool_delete(gkx_client *client, const gkx_pool_options *opts, int all,
                            unsigned *deleted, gkx_error *err);

#ifdef __cplusplus
}
#endif
#endif
