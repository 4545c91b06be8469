/*
 * singleflight: concurrent misses for one key join one in-flight call.
 *
 * The first caller to ask for a key that has no call in flight becomes the
 * leader (SF_LEAD): it starts the load however it likes (a thread pool, in
 * the server) and later hands the outcome to sf_complete(). Every caller
 * that asks while the call is in flight joins it (SF_JOINED). Each caller,
 * leader included, registers a waiter; sf_complete() calls each waiter's
 * `done` exactly once, unless the waiter left first (sf_leave, e.g. on a
 * timeout or a closed connection): for every waiter exactly one of "done
 * was called" and "sf_leave returned true" happens.
 *
 * An outcome that is not a value (not found, an error) may be kept for a
 * short time (a negative entry): callers asking for the key meanwhile get
 * it at once (SF_NEGATIVE) and no load starts.
 *
 * This is a pure concurrency structure: no sockets, no event loop, no
 * clock (callers pass `now_ms`, any monotonic millisecond clock), no
 * knowledge of what a load is. The table is striped: a key's stripe lock
 * guards its calls, the waiter lists and the negative entries of that
 * stripe. No caller code runs under a stripe lock except `done`, which must
 * only hand the waiter over to somebody else (push it on a queue and wake
 * a thread) and must not call back into the table.
 *
 * Lock order: stripe locks are leaves, except that `done` may take the
 * lock of the queue it pushes to (docs/locking.md).
 */
#ifndef MMCACHE_SINGLEFLIGHT_H
#define MMCACHE_SINGLEFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sf_table;
struct sf_call;

/* How a call ended. */
enum sf_status {
    SF_PENDING = 0,     /* still loading (never seen by a waiter's done) */
    SF_VALUE,           /* a value: sf_call_value() */
    SF_NOTFOUND,        /* the origin has no such key */
    SF_ERROR,           /* the load failed: sf_call_error() says why */
};

/* A caller waiting for a call. Embed it in your own struct (container_of).
 * `done` and `arg` are set by the caller before sf_join and not changed
 * while the waiter is registered; the links belong to the table (guarded
 * by the stripe lock of the key). */
struct sf_waiter {
    /* Called by the thread that runs sf_complete(), under the key's stripe
     * lock, once per registered waiter. The waiter holds a reference to
     * `call` (the one sf_join gave it); the callee keeps it and drops it
     * with sf_call_put when done with the result. */
    void (*done)(struct sf_waiter *w, struct sf_call *call);
    void *arg;
    struct sf_waiter *next, *prev;   /* guarded by: the stripe lock */
    bool linked;                     /* guarded by: the stripe lock */
};

struct sf_opts {
    unsigned nstripes;        /* power of two; 0 = 64 */
    unsigned max_negative;    /* negative entries kept at most; 0 = 4096 */
};

/* NULL on ENOMEM, or EINVAL: nstripes not a power of two or over 65536. */
struct sf_table *sf_create(const struct sf_opts *o);
/* Context: no call in flight and no other thread uses t. Negative entries
 * are dropped (and their calls freed once their last reference goes).
 * References still held (a done callee's, an SF_NEGATIVE joiner's) stay
 * valid: the sf_call_* accessors and sf_call_put work after sf_destroy. */
void sf_destroy(struct sf_table *t);

enum sf_join_rc {
    SF_LEAD = 0,        /* a new call: the caller must start the load and
                           eventually sf_complete() it; w is registered */
    SF_JOINED,          /* joined a call in flight; w is registered */
    SF_NEGATIVE,        /* a negative entry answered at once; w is NOT
                           registered; *call is the finished call */
    SF_FULL,            /* `max_inflight` calls in flight already: nothing
                           started, w not registered, *call is NULL */
    SF_NOMEM,           /* allocation failed: as SF_FULL */
};

/*
 * Ask for key. On SF_LEAD, SF_JOINED and SF_NEGATIVE, *call holds a
 * reference for the caller (drop it with sf_call_put). A new call is
 * created only while fewer than max_inflight calls are loading (0: no
 * limit). Negative entries whose time has passed are dropped here.
 * Context: any thread.
 */
enum sf_join_rc sf_join(struct sf_table *t, const char *key, size_t klen,
                        int64_t now_ms, unsigned max_inflight,
                        struct sf_waiter *w, struct sf_call **call);

/*
 * Leave a call before it completes. true: w was still registered and is
 * now removed (done will not be called for it; the caller still holds its
 * reference and must sf_call_put it). false: completion already took w,
 * so done has been or is being called with it.
 * Context: any thread.
 */
bool sf_leave(struct sf_table *t, struct sf_call *call, struct sf_waiter *w);

/*
 * The leader's outcome. Copies `data` (SF_VALUE) or `err` (SF_ERROR, a
 * NUL-terminated message) into the call, removes the call from the
 * in-flight set and calls every registered waiter's done. With
 * negative_ttl_ms > 0 an SF_NOTFOUND or SF_ERROR outcome stays as a
 * negative entry until now_ms + negative_ttl_ms (unless max_negative are
 * kept already). Returns the number of waiters whose done was called, or
 * -1 if the copy failed (the call then ends as SF_ERROR "out of memory",
 * every waiter's done is still called, and it is never kept as a negative
 * entry). `data` is ignored unless SF_VALUE, `err` unless SF_ERROR (NULL
 * reads as "").
 * Does not drop the leader's reference, and needs none of the caller's own
 * (the table keeps the call alive until this returns). But the reference
 * sf_join gave the leader is its waiter's: once done has handed it on it
 * may be dropped at any time, so a completer that reads the outcome
 * afterwards, or runs on another thread than the leader, first takes one
 * of its own with sf_call_get. Context: any thread, once per call.
 */
int sf_complete(struct sf_table *t, struct sf_call *call, enum sf_status st,
                const void *data, size_t len, const char *err,
                int64_t now_ms, int64_t negative_ttl_ms);

/* ---- a call: readable by any holder of a reference ---------------------- */

/* The key, as given to sf_join (immutable). */
const char *sf_call_key(const struct sf_call *call, size_t *klen);
/* The outcome. Only meaningful in done, or after sf_join returned
 * SF_NEGATIVE, or (for the leader) after its own sf_complete: the stripe
 * lock orders the completer's writes before these reads. */
enum sf_status sf_call_status(const struct sf_call *call);
/* NULL and *len 0 unless SF_VALUE (non-NULL then, even for an empty value). */
const void *sf_call_value(const struct sf_call *call, size_t *len);
/* NULL unless SF_ERROR. */
const char *sf_call_error(const struct sf_call *call);
/* Where the value's buffer is kept (and *len its length): for the bug
 * lab's bug 25 only, which writes through it. The value is shared by every
 * waiter of the call: correct code never writes it. */
void **sf_call_value_slot(struct sf_call *call, size_t *len);
/* Waiters currently registered (a hint: it may change at once). */
unsigned sf_call_waiters(struct sf_call *call);

void sf_call_get(struct sf_call *call);
/* Drop a reference; the last one frees the call. Context: any thread. */
void sf_call_put(struct sf_call *call);

/* ---- housekeeping and figures --------------------------------------------- */

/* Drop negative entries whose time has passed, in stripes [first, first+n)
 * taken modulo sf_nstripes (so a caller may just keep adding n to first).
 * Context: any thread (a worker's periodic tick); one stripe lock at a time. */
void sf_sweep(struct sf_table *t, unsigned first, unsigned n, int64_t now_ms);
unsigned sf_nstripes(const struct sf_table *t);

struct sf_stats {
    uint64_t loading;        /* calls in flight now */
    uint64_t negative;       /* negative entries kept now */
    uint64_t calls_live;     /* calls allocated and not yet freed (leak check) */
};
void sf_stats(const struct sf_table *t, struct sf_stats *out);

#endif
