/*
 * monotonic: one connection per client thread polls INFO and checks that
 * the counters a server only ever adds to never go backwards between two
 * readings on that connection. Summed per-thread counters (mmcache adds up
 * its workers' counters for every INFO) go backwards when a sum reads a
 * torn or stale word; a config generation goes backwards when a reader
 * sees an older snapshot after a newer one.
 *
 * Fields absent from a server's INFO (config_generation in Redis) are
 * skipped; a field present with a value that is not a number (a corrupted
 * INFO) is a failure.
 *
 * Context: the poller's client thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ld_int.h"

static const char *const fields[LD_MONO_NFIELDS] = {
    "total_commands_processed", "total_connections_received", "keyspace_hits",
    "keyspace_misses", "total_net_input_bytes", "total_net_output_bytes",
    "expired_keys", "evicted_keys", "rejected_connections", "config_generation",
};

int ld__info_field(const char *info, size_t len, const char *field, uint64_t *out)
{
    size_t flen = strlen(field);
    const char *end = info + len;

    for (const char *p = info; p + flen < end; p++) {
        const char *q;
        uint64_t v = 0;

        if ((p != info && p[-1] != '\n') || memcmp(p, field, flen) != 0 || p[flen] != ':')
            continue;
        q = p + flen + 1;
        if (q >= end || *q < '0' || *q > '9')
            return -EINVAL;
        while (q < end && *q >= '0' && *q <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return -EINVAL;
            v = v * 10 + (uint64_t)(*q++ - '0');
        }
        if (q < end && *q != '\r' && *q != '\n')
            return -EINVAL;
        *out = v;
        return 0;
    }
    return -ENOENT;
}

void ld__info_issue(struct ld_conn *c)
{
    ld__req_push(c, LD_K_INFO);
    ld__out_array(c, 1);
    ld__out_bulk(c, "INFO", 4);
}

void ld__info_reply(struct ld_conn *c, const redisReply *rep)
{
    struct ld_run *r = c->t->run;

    c->next_ns = ld__now_ns() + (uint64_t)r->o->info_interval_ms * 1000000ull;
    if (rep->type == REDIS_REPLY_ERROR) {
        ld__skip(r, LD_CHK_MONOTONIC, "server refused INFO: %s", rep->str);
        c->next_ns = UINT64_MAX;
        return;
    }
    if (rep->type != REDIS_REPLY_STRING) {
        ld__conn_lost(c, "unexpected reply", "INFO answered with reply type %d", rep->type);
        return;
    }
    c->t->st.info_reads++;
    for (int i = 0; i < LD_MONO_NFIELDS; i++) {
        uint64_t v;
        int rc = ld__info_field(rep->str, rep->len, fields[i], &v);

        if (rc == -ENOENT)
            continue;
        if (rc < 0) {
            const char *at = strstr(rep->str, fields[i]);
            char ex[96];

            if (at == NULL)             /* behind an embedded NUL */
                at = "?";
            ld_excerpt(ex, sizeof(ex), at, strcspn(at, "\r\n"), 60);
            ld__fail(r, LD_CHK_MONOTONIC, "INFO: expected a number in %s, got '%s'",
                     fields[i], ex);
            continue;
        }
        if (c->mono_have[i] && v < c->mono_last[i])
            ld__fail(r, LD_CHK_MONOTONIC, "INFO %s on one connection: expected %llu "
                     "or more, got %llu (went backwards by %llu)", fields[i],
                     (unsigned long long)c->mono_last[i], (unsigned long long)v,
                     (unsigned long long)(c->mono_last[i] - v));
        c->mono_last[i] = v;
        c->mono_have[i] = true;
    }
}
