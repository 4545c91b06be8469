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
/* A non-blocking listening TCP socket on bind_addr:port (numeric, IPv4 or
 * IPv6; SO_REUSEADDR, v6-only): the fd, or -1 with err set. The clients'
 * listener and the metrics one (metrics/http.c). */
int srv__listen_open(const char *bind_addr, int port, char *err, size_t errlen);

#endif
