/* Several runs from one thread. They share their client, so one curl multi
 * handle (and one HTTP/2 connection) carries every watch and log; a wait
 * moves all of them, and each run's poll reacts to what it got. Creates and
 * deletes are short synchronous calls during which the other runs' streams
 * keep flowing, since they wait on the same transport. */
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

struct gkx_batch {
	gkx_client *client;
	unsigned parallel;
	gkx_run **runs;
	size_t n, cap;
	gkx__flag cancelled;
	gkx__flag *flag; /* &cancelled, or a session's */
	int executed;
};

void gkx__batch_use_flag(gkx_batch *b, gkx__flag *flag)
{
	size_t i;

	b->flag = flag;
	for (i = 0; i < b->n; i++)
		b->runs[i]->outer_cancel = flag;
}

int gkx_batch_new(gkx_batch **out, gkx_client *client, unsigned parallel, gkx_error *err)
{
	gkx_batch *b;

	gkx_error_clear(err);
	*out = NULL;
	if (!client || parallel == 0)
		return gkx__error_set(err, GKX_EINVAL, "a batch needs a client and parallel >= 1");
	b = calloc(1, sizeof(*b));
	if (!b)
		return gkx__error_oom(err);
	b->client = client;
	b->parallel = parallel;
	b->flag = &b->cancelled;
	*out = b;
	return 0;
}

int gkx_batch_add(gkx_batch *b, gkx_run *run, gkx_error *err)
{
	gkx_error_clear(err);
	if (!run || run->client != b->client)
		return gkx__error_set(err, GKX_EINVAL,
		                      "a batch's runs must use the batch's client");
	if (run->executed || b->executed)
		return gkx__error_set(err, GKX_EINVAL,
		                      "the run (or the batch) has already executed");
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		gkx_run **p = realloc(b->runs, cap * sizeof(*p));
		if (!p)
			return gkx__error_oom(err);
		b->runs = p;
		b->cap = cap;
	}
	run->outer_cancel = b->flag;
	b->runs[b->n++] = run;
	return 0;
}

int gkx_batch_execute(gkx_batch *b, gkx_error *err)
{
	gkx__flag *saved = b->client->cancel;
	double saved_deadline = b->client->run_deadline;
	gkx_run **active;
	size_t next = 0, nactive = 0, i;
	int rc = 0;

	gkx_error_clear(err);
	if (b->executed)
		return gkx__error_set(err, GKX_EINVAL, "a batch executes once");
	b->executed = 1;
	active = calloc(b->parallel, sizeof(*active));
	if (!active)
		return gkx__error_oom(err);
	b->client->cancel = b->flag;
	while (next < b->n || nactive) {
		while (nactive < b->parallel && next < b->n && !gkx__flag_test(b->flag)) {
			gkx_run *r = b->runs[next++];
			int brc = gkx__run_begin(r);
			if (brc < 0)
				gkx__run_end(r, brc);
			else
				active[nactive++] = r;
		}
		if (gkx__flag_test(b->flag) && next < b->n)
			break;
		if (!nactive)
			continue;
		if (b->client->tp->wait(b->client->tp_state, 100) < 0) {
			/* A transport that cannot wait fails every run still going. */
			for (i = 0; i < nactive; i++) {
				gkx__error_set(active[i]->err, GKX_ETRANSPORT, "transport failure");
				gkx__run_end(active[i], GKX_ETRANSPORT);
			}
			nactive = 0;
			continue;
		}
		for (i = 0; i < nactive;) {
			int prc = gkx__run_poll(active[i]);
			if (prc != 0) {
				gkx__run_end(active[i], prc);
				active[i] = active[--nactive];
			} else {
				i++;
			}
		}
	}
	/* After a cancel: finish the runs already going (each cleans up), and
	 * mark the ones never started. */
	for (i = 0; i < nactive; i++)
		gkx__run_end(active[i],
		             gkx__error_set(active[i]->err, GKX_ECANCELED, "interrupted"));
	for (; next < b->n; next++) {
		gkx_run *r = b->runs[next];
		r->executed = 1;
		r->result_rc = gkx__error_set(&r->result_err, GKX_ECANCELED,
		                              "interrupted before it started");
		gkx__run_set_reason(r, "Interrupted");
	}
	free(active);
	b->client->cancel = saved;
	b->client->run_deadline = saved_deadline;
	if (gkx__flag_test(b->flag))
		rc = gkx__error_set(err, GKX_ECANCELED, "interrupted");
	return rc;
}

void gkx_batch_cancel(gkx_batch *b)
{
	if (b)
		atomic_store(&b->cancelled, 1);
}

void gkx_batch_free(gkx_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		b->runs[i]->outer_cancel = NULL;
	free(b->runs);
	free(b);
}
