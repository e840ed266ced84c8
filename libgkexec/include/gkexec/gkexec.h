/* The whole public API of libgkexec. What is not in these headers is not API. */
#ifndef GKEXEC_H
#define GKEXEC_H

#include <gkexec/common.h>
#include <gkexec/config.h>
#include <gkexec/transport.h>
#include <gkexec/client.h>
#include <gkexec/run.h>
#include <gkexec/session.h>

#endif
