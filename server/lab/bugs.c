/*
 * The server's side of the bug lab (docs/bugs.md): saying loudly which bug
 * runs (start-up banner, a log line on every switch) and INFO `bugs`.
 * The sites themselves are in the code they break (grep -rn 'INJECT').
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "inject.h"
#include "srv.h"

/* atomic: relaxed; written by whoever publishes a snapshot (under the
 * config update lock, so writers are serialised), read by INFO. The mask
 * INFO reports comes from the reader's own snapshot, not from here. */
static _Atomic int64_t switched_at;   /* unix seconds of the last change of inject-bug */
/* atomic: relaxed; the same writers; read by threads that hold no
 * snapshot (the watchdog, the stop guard) to name the bugs in their logs. */
static _Atomic uint32_t selected;

uint32_t srv_bugs_selected(void)
{
    return atomic_load_explicit(&selected, memory_order_relaxed);
}

static void announce(uint32_t added, uint32_t removed, bool amplify)
{
    char line[1024];
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        if (removed & (1u << id))
            srv_log(CFG_LOG_WARNING, "Bug %d (%s) switched off: that code path is correct again",
                    id, cfg_bug(id)->title);
        if (added & (1u << id)) {
            cfg_bug_banner(id, line, sizeof(line));
            srv_log(CFG_LOG_WARNING, "%s%s", line,
                    cfg_bug(id)->amplifier[0] && !amplify ? " (amplifier off: bug-amplify no)" : "");
        }
    }
}

void srv_bugs_startup(const struct cfg *cfg)
{
    atomic_store_explicit(&switched_at, (int64_t)time(NULL), memory_order_relaxed);
    atomic_store_explicit(&selected, cfg->inject_bugs, memory_order_relaxed);
    if (!cfg->inject_bugs)
        return;
    char ids[128];
    cfg_bugs_format(cfg->inject_bugs, ids, sizeof(ids));
    srv_log(CFG_LOG_WARNING, "*****************************************************************");
    srv_log(CFG_LOG_WARNING, "* BUG LAB: this server runs with injected bug(s) %s. It WILL", ids);
    srv_log(CFG_LOG_WARNING, "* misbehave: do not keep data in it. bug-amplify %s. INFO bugs.",
            cfg->bug_amplify ? "yes" : "no");
    srv_log(CFG_LOG_WARNING, "*****************************************************************");
    announce(cfg->inject_bugs, 0, cfg->bug_amplify);
}

void srv_bugs_changed(const struct cfg *next, const struct cfg *prev)
{
    if (next->inject_bugs == prev->inject_bugs && next->bug_amplify == prev->bug_amplify)
        return;
    atomic_store_explicit(&switched_at, (int64_t)time(NULL), memory_order_relaxed);
    atomic_store_explicit(&selected, next->inject_bugs, memory_order_relaxed);
    announce(next->inject_bugs & ~prev->inject_bugs, prev->inject_bugs & ~next->inject_bugs,
             next->bug_amplify);
    if (next->bug_amplify != prev->bug_amplify)
        srv_log(CFG_LOG_WARNING, "bug-amplify %s", next->bug_amplify ? "yes" : "no");
}

void srv_bugs_info(struct proto_buf *b, int *rc, const struct cfg *cfg)
{
    char ids[128];
    cfg_bugs_format(cfg->inject_bugs, ids, sizeof(ids));
    srv__infof(b, rc, "# Bugs\r\n");
    srv__infof(b, rc, "bugs_injected:%s\r\n", ids);
    srv__infof(b, rc, "bug_amplify:%s\r\n", cfg->bug_amplify ? "yes" : "no");
    srv__infof(b, rc, "bugs_switched_at:%" PRId64 "\r\n",
         atomic_load_explicit(&switched_at, memory_order_relaxed));
    /* Every bug whose path ran since start (or RESETSTAT), selected or not
     * any more: "bug_13:selected=1,tried=48113,title=mutex copied by value". */
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        uint64_t tried = inject_tried(id);
        bool on = cfg->inject_bugs & (1u << id);
        if (!on && !tried)
            continue;
        const struct cfg_bug *bug = cfg_bug(id);
        srv__infof(b, rc, "bug_%d:selected=%d,tried=%" PRIu64 ",live=%d,control=%d,title=%s\r\n", id,
             on, tried, bug->live, bug->control, bug->title);
        if (on)
            srv__infof(b, rc, "bug_%d_expect:%s\r\n", id, bug->symptom);
    }
}
