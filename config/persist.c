/*
 * Redis's persistence directives. mmcache keeps no data on disk, but a
 * redis.conf carries `save`, `appendonly`, `dir`, ... and tools read them
 * with CONFIG GET. So they are accepted in the config file and on the
 * command line, with any value, and ignored: nothing here stores the value,
 * opens a file or changes directory (Redis chdir()s to `dir` at start-up
 * and writes `dbfilename` there; we never do, so neither can be used to
 * make the server touch the filesystem). CONFIG GET answers what a Redis
 * without persistence would: `save ""`, `appendonly no`, the working
 * directory for `dir`, Redis 7.0's defaults for the rest.
 *
 * CONFIG SET of them succeeds only when it asks for what is already true
 * (`CONFIG SET save ""`, `appendonly no`: the lines scripts run to switch
 * persistence off on a cache); anything else is refused, because an OK to
 * `CONFIG SET appendonly yes` would tell the client its data is now safe.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* What CONFIG GET answers for each; NULL: the working directory. */
static const struct { const char *name, *value; } persist[] = {
    {"save", ""},   /* Redis's answer with no save points: nothing is saved */
    {"appendonly", "no"},
    {"appendfsync", "everysec"},
    {"appendfilename", "appendonly.aof"},
    {"appenddirname", "appendonlydir"},
    {"dbfilename", "dump.rdb"},
    {"dir", NULL},
    {"rdbcompression", "yes"},
    {"rdbchecksum", "yes"},
    {"rdb-del-sync-files", "no"},
    {"rdb-save-incremental-fsync", "yes"},
    {"stop-writes-on-bgsave-error", "yes"},
    {"no-appendfsync-on-rewrite", "no"},
    {"auto-aof-rewrite-percentage", "100"},
    {"auto-aof-rewrite-min-size", "67108864"},
    {"aof-load-truncated", "yes"},
    {"aof-use-rdb-preamble", "yes"},
    {"aof-timestamp-enabled", "no"},
    {"aof-rewrite-incremental-fsync", "yes"},
};
#define NPERSIST (sizeof(persist) / sizeof(persist[0]))
_Static_assert(NPERSIST <= 32, "struct cfg's persist_ignored has a bit for each");

const char *cfg_persist_name(int i)
{
    return i >= 0 && (size_t)i < NPERSIST ? persist[i].name : NULL;
}

int cfg_persist_index(const char *name)
{
    for (size_t i = 0; i < NPERSIST; i++)
        if (strcasecmp(persist[i].name, name) == 0)
            return (int)i;
    return -1;
}

void cfg_persist_value(int i, char *buf, size_t cap)
{
    if (persist[i].value != NULL)
        snprintf(buf, cap, "%s", persist[i].value);
    else if (getcwd(buf, cap) == NULL)   /* reads the process's cwd, no file */
        snprintf(buf, cap, "%s", "");
}

int cfg_persist_check_set(int i, const char *value, char *err, size_t errlen)
{
    char now[CFG_VALUE_MAX];

    cfg_persist_value(i, now, sizeof(now));
    if (strcasecmp(value, now) == 0)
        return 0;
    snprintf(err, errlen, "mmcache keeps no data on disk: '%s' stays '%s'", persist[i].name,
             now);
    return -1;
}

void cfg_persist_describe(uint32_t mask, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NPERSIST && used < cap; i++)
        if (mask & (1u << i))
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
                                     persist[i].name);
}
