/*
 * ACL LOG: the refused commands and keys and the failed AUTHs, newest
 * first, as Redis 7.0 keeps them: an entry like one of the ten newest
 * (same reason, context, object and user, within 60 s) is counted into it
 * instead of added; at most acllog-max-len entries.
 *
 * Synchronisation: log_lock (a leaf: nothing else is taken under it, and
 * it is taken under nothing) guards the list; each entry is written only
 * under it. A reply is built under it (bounded by acllog-max-len).
 *
 * Context: any worker.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

#define LOG_GROUP_MS 60000   /* Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA */
#define LOG_GROUP_SCAN 10    /* entries looked at for a match */

struct entry {
    struct entry *prev, *next;     /* guarded by: log_lock */
    uint64_t count;                /* guarded by: log_lock */
    enum srv_acl_verdict reason;   /* immutable once listed */
    enum srv_acl_ctx ctx;          /* immutable once listed */
    int64_t ctime_ms;              /* guarded by: log_lock */
    char *object, *user, *cinfo;   /* object, user immutable once listed; cinfo guarded */
    size_t olen, ulen, clen;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;   /* lock order: leaf */
static struct entry *head, *tail;  /* guarded by: log_lock; head the newest */
static size_t nentries;            /* guarded by: log_lock */

static void entry_free(struct entry *e)
{
    if (e != NULL) {
        free(e->object);
        free(e->user);
        free(e->cinfo);
        free(e);
    }
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void unlink_locked(struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        tail = e->prev;
    nentries--;
}

static void push_head_locked(struct entry *e)
{
    e->prev = NULL;
    e->next = head;
    if (head)
        head->prev = e;
    head = e;
    if (!tail)
        tail = e;
    nentries++;
}

static bool same(const struct entry *a, const struct entry *b)
{
    int64_t d = a->ctime_ms - b->ctime_ms;

    return a->reason == b->reason && a->ctx == b->ctx && (d < 0 ? -d : d) <= LOG_GROUP_MS &&
           a->olen == b->olen && memcmp(a->object, b->object, a->olen) == 0 &&
           a->ulen == b->ulen && memcmp(a->user, b->user, a->ulen) == 0;
}

void srv_acl_log_add(struct srv_conn *c, enum srv_acl_verdict reason, enum srv_acl_ctx ctx,
                     const char *object, size_t olen, const char *user, size_t ulen)
{
    struct entry *e = calloc(1, sizeof(*e)), *drop = NULL, *match = NULL;
    size_t max = c->cfg != NULL ? c->cfg->acllog_max_len : 128;
    struct proto_buf info;

    proto_buf_init(&info);
    if (e == NULL || srv_client_format(&info, c, srv_now_ms(), 1) < 0)
        goto out_free;   /* the refusal stands; only its record is lost */
    e->count = 1;
    e->reason = reason;
    e->ctx = ctx;
    e->ctime_ms = srv_now_ms();
    e->object = dup_bytes(object, olen);
    e->user = dup_bytes(user, ulen);
    e->olen = olen;
    e->ulen = ulen;
    e->clen = info.len && info.data[info.len - 1] == '\n' ? info.len - 1 : info.len;
    e->cinfo = dup_bytes(info.data, e->clen);
    if (!e->object || !e->user || !e->cinfo)
        goto out_free;

    pthread_mutex_lock(&log_lock);
    struct entry *x = head;
    for (int i = 0; x != NULL && i < LOG_GROUP_SCAN; i++, x = x->next)
        if (same(x, e)) {
            match = x;
            break;
        }
    if (match != NULL) {
        char *t = match->cinfo;           /* the latest client, as Redis shows */
        match->cinfo = e->cinfo;
        match->clen = e->clen;
        e->cinfo = t;
        match->ctime_ms = e->ctime_ms;
        match->count++;
        unlink_locked(match);
        push_head_locked(match);
    } else {
        push_head_locked(e);
        e = NULL;
    }
    /* trimmed to the limit; the dropped ones freed outside the lock */
    while (nentries > max) {
        struct entry *last = tail;
        unlink_locked(last);
        last->next = drop;
        drop = last;
    }
    pthread_mutex_unlock(&log_lock);
    while (drop != NULL) {
        struct entry *next = drop->next;
        entry_free(drop);
        drop = next;
    }
out_free:
    entry_free(e);
    proto_buf_free(&info);
}

static const char *reason_name(enum srv_acl_verdict r)
{
    switch (r) {
    case SRV_ACL_DENIED_CMD: return "command";
    case SRV_ACL_DENIED_KEY: return "key";
    case SRV_ACL_DENIED_AUTH: return "auth";
    default: return "unknown";
    }
}

void srv_acl_log_reply(struct srv_conn *c, long long count)
{
    int64_t now = srv_now_ms();
    char age[64];

    if (count < 0)
        count = 0;
    pthread_mutex_lock(&log_lock);
    if ((size_t)count > nentries)
        count = (long long)nentries;
    srv_reply_array(c, count);
    for (struct entry *e = head; e != NULL && count-- > 0; e = e->next) {
        srv_reply_array(c, 14);
        srv_reply_bulk_cstr(c, "count");
        srv_reply_int(c, (long long)e->count);
        srv_reply_bulk_cstr(c, "reason");
        srv_reply_bulk_cstr(c, reason_name(e->reason));
        srv_reply_bulk_cstr(c, "context");
        srv_reply_bulk_cstr(c, e->ctx == SRV_ACL_CTX_MULTI ? "multi" : "toplevel");
        srv_reply_bulk_cstr(c, "object");
        srv_reply_bulk(c, e->object, e->olen);
        srv_reply_bulk_cstr(c, "username");
        srv_reply_bulk(c, e->user, e->ulen);
        srv_reply_bulk_cstr(c, "age-seconds");
        /* Redis 7.0's RESP2 double: "%.17g" */
        snprintf(age, sizeof(age), "%.17g", (double)(now - e->ctime_ms) / 1000);
        srv_reply_bulk_cstr(c, age);
        srv_reply_bulk_cstr(c, "client-info");
        srv_reply_bulk(c, e->cinfo, e->clen);
    }
    pthread_mutex_unlock(&log_lock);
}

void srv_acl_log_reset(void)
{
    struct entry *all;

    pthread_mutex_lock(&log_lock);
    all = head;
    head = tail = NULL;
    nentries = 0;
    pthread_mutex_unlock(&log_lock);
    while (all != NULL) {
        struct entry *next = all->next;
        entry_free(all);
        all = next;
    }
}
