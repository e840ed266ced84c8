/* The whole public API of libgkexec for programs that run sandboxes. What
 * is not in these headers is not API. Transport implementers also include
 * <gkexec/sys/transport.h>. */
#ifndef GKEXEC_H
#define GKEXEC_H

#include <gkexec/common.h>
#include <gkexec/config.h>
#include <gkexec/client.h>
#include <gkexec/run.h>
#include <gkexec/pool.h>
#include <gkexec/session.h>

#endif
