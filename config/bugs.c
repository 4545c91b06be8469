/*
 * The bug catalogue (bugs.def) as a table, and the `inject-bug` value:
 * parsing, formatting, the start-up banner and `--inject-bug=list`.
 * Immutable data: any thread may read it.
 */
#include "config.h"
#include "inject.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct cfg_bug bugs[CFG_BUG_MAX] = {
#define BUG(id_, slug_, title_, site_, symptom_, amp_, live_, control_, scen_) \
    [(id_) - 1] = {(id_), slug_, title_, site_, symptom_, amp_, live_, control_, scen_},
#include "bugs.def"
#undef BUG
};

_Static_assert(CFG_BUG_MAX == INJECT_MAX, "one catalogue, one switch");
_Static_assert(CFG_INJECT_AMPLIFY_BIT == INJECT_AMPLIFY_BIT, "one amplify bit");

const struct cfg_bug *cfg_bug(int id)
{
    if (id < 1 || id > CFG_BUG_MAX || bugs[id - 1].id != id)
        return NULL;
    return &bugs[id - 1];
}

uint32_t cfg_bugs_startup_only(void)
{
    uint32_t m = 0;
    for (int id = 1; id <= CFG_BUG_MAX; id++)
        if (cfg_bug(id) && !bugs[id - 1].live)
            m |= 1u << id;
    return m;
}

static int lookup(const char *word, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, word, len);
    buf[len] = 0;
    if (strspn(buf, "0123456789") == len) {
        long id = len <= 3 ? strtol(buf, NULL, 10) : -1;
        return id >= 0 && id <= CFG_BUG_MAX && (id == 0 || cfg_bug((int)id)) ? (int)id : -1;
    }
    if (strcasecmp(buf, "none") == 0)
        return 0;
    for (int id = 1; id <= CFG_BUG_MAX; id++)
        if (cfg_bug(id) && strcasecmp(buf, bugs[id - 1].slug) == 0)
            return id;
    return -1;
}

int cfg_bugs_parse(const char *s, uint32_t *mask, char *err, size_t errlen)
{
    uint32_t m = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p) {
        *mask = 0;
        return 0;
    }
    for (;;) {
        size_t len = strcspn(p, ", ");
        int id = lookup(p, len);
        if (id < 0) {
            snprintf(err, errlen, "unknown bug '%.*s': valid bugs are 1..%d by number or "
                     "name, or none (mmcache --inject-bug=list shows them)",
                     (int)(len < 64 ? len : 64), p, CFG_BUG_MAX);
            return -1;
        }
        if (id > 0)
            m |= 1u << id;
        p += len;
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
    }
    /* Sites that replace one another cannot be combined: with control 16
     * the shards have a reader-writer lock, and bug 13's copied mutex
     * would never be taken at all. */
    if ((m & (1u << 13)) && (m & (1u << 16))) {
        snprintf(err, errlen, "bugs 13 and 16 cannot be combined: both replace the shard "
                 "lock (choose one)");
        return -1;
    }
    *mask = m;
    return 0;
}

void cfg_bugs_format(uint32_t mask, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    if (!(mask & INJECT_BUGS_MASK)) {
        snprintf(buf, cap, "none");
        return;
    }
    for (int id = 1; id <= CFG_BUG_MAX && used < cap; id++)
        if (mask & (1u << id))
            used += (size_t)snprintf(buf + used, cap - used, "%s%d", used ? "," : "", id);
}

void cfg_bug_banner(int id, char *buf, size_t cap)
{
    const struct cfg_bug *b = cfg_bug(id);
    if (!b) {
        snprintf(buf, cap, "no bug %d", id);
        return;
    }
    snprintf(buf, cap, "INJECTED BUG %d (%s)%s: %s. Expect: %s.%s%s", b->id, b->title,
             b->control ? " [control: correct code]" : "", b->site, b->symptom,
             b->amplifier[0] ? " Amplifier: " : "", b->amplifier);
}

/* `label` then `text` wrapped at `width` columns, continuation lines
 * aligned under the text. */
static void wrap(FILE *out, const char *label, const char *text, int indent, int width)
{
    int start = indent + (int)strlen(label);
    int col = fprintf(out, "%*s%s", indent, "", label);
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        int w = (int)strcspn(p, " ");
        if (!w)
            break;
        if (col > start && col + 1 + w > width) {
            col = fprintf(out, "\n%*s", start, "") - 1;
        } else if (col > start) {
            col += fprintf(out, " ");
        }
        col += fprintf(out, "%.*s", w, p);
        p += w;
    }
    fprintf(out, "\n");
}

void cfg_bugs_print(FILE *out)
{
    fprintf(out, "mmcache bug lab: %d injectable memory-model bugs (docs/bugs.md)\n"
            "  mmcache --inject-bug=N        start with bug N (N,M: several)\n"
            "  CONFIG SET inject-bug N|none  switch live (bugs marked start-up: restart)\n"
            "  bug-amplify yes|no            widen race windows (default yes)\n"
            "  loadtest/run-bug N            drive the load that surfaces bug N\n\n", CFG_BUG_MAX);
    fprintf(out, "%3s  %-24s %-8s %s\n", "id", "name", "switch", "title");
    for (int id = 1; id <= CFG_BUG_MAX; id++) {
        const struct cfg_bug *b = cfg_bug(id);
        if (!b)
            continue;
        fprintf(out, "%3d  %-24s %-8s %s%s\n", b->id, b->slug, b->live ? "live" : "start-up",
                b->title, b->control ? "  [CONTROL: correct code]" : "");
        wrap(out, "site:      ", b->site, 5, 100);
        wrap(out, "symptom:   ", b->symptom, 5, 100);
        if (b->amplifier[0])
            wrap(out, "amplifier: ", b->amplifier, 5, 100);
        wrap(out, "scenario:  ", b->scenario, 5, 100);
    }
}
