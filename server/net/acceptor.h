/* The acceptor (acceptor.c). Context: the main thread only. */
#ifndef MMCACHE_ACCEPTOR_H
#define MMCACHE_ACCEPTOR_H

#include "srv.h"

/* Bind and listen (sets srv.port); -1 with a message on failure. */
int srv_acceptor_init(uv_loop_t *loop, const struct cfg *cfg, char *err, size_t errlen);
/* Start accepting, watching signals and sampling ops/sec. uv_run returns
 * after a shutdown began (signal or SHUTDOWN) and workers were told. */
void srv_acceptor_start(void);
void srv_acceptor_cleanup(void);

#endif
