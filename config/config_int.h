/*
 * What config.c shares with values.c and nothing else does: the parsers of
 * the settings whose value has parts. Not part of the interface.
 */
#ifndef MMCACHE_CONFIG_INT_H
#define MMCACHE_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

/* The index of v in names[0..n) (case-insensitive), -1 if absent. */
int cfg__pick(const char *const *names, int n, const char *v);
/* cfg_set's parsers for `loader` and `client-output-buffer-limit`: 0, or
 * -1 with err (cfg_set's contract), c unchanged on error. */
int cfg__set_loader(struct cfg *c, const char *value, char *err, size_t errlen);
int cfg__set_obuf(struct cfg *c, const char *value, char *err, size_t errlen);
/* client-output-buffer-limit as CONFIG GET shows it (Redis's form). */
/* `units`: sizes as cfg__format_size writes them (CONFIG REWRITE), else bytes. */
void cfg__obuf_format(const struct cfg *c, char *buf, size_t cap, bool units);
/* bytes as Redis 7.0's CONFIG REWRITE writes a size: the largest of
 * gb, mb, kb that divides it, else plain bytes (0 stays "0"). */
void cfg__format_size(uint64_t bytes, char *buf, size_t cap);
/* latency-tracking-info-percentiles: up to CFG_PCTL_MAX numbers 0..100
 * separated by spaces ("" = none); its CONFIG GET form ("50 99 99.9"). */
int cfg__set_pctls(struct cfg *c, const char *value, char *err, size_t errlen);
void cfg__pctls_format(const struct cfg *c, char *buf, size_t cap);

#endif
