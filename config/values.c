/*
 * The settings whose value has parts: the loader spec (`redis HOST:PORT`,
 * `file DIR`), Redis's client-output-buffer-limit (`class hard soft
 * seconds` per class) and latency-tracking-info-percentiles (a list of
 * numbers). config.c's table calls these through config_int.h.
 */
#include "config.h"
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Redis 7.0 prints the replica class as "slave" (CONFIG GET), and takes
 * both names. */
static const char *const obuf_class_names[] = {"normal", "slave", "pubsub"};

/* `none`, `synthetic`, `redis HOST:PORT` (HOST a name, an IPv4 address or
 * [IPv6]) or `file DIR` (an existing directory, kept absolute so that the
 * spec means the same whatever the working directory). The directory's
 * existence is checked here, so a config naming a missing one is refused
 * at start-up and by a reload, instead of failing every load later. */
int cfg__set_loader(struct cfg *c, const char *value, char *err, size_t errlen)
{
    size_t wlen = strcspn(value, " \t");
    const char *rest = value + wlen;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    char word[16] = "";
    if (wlen < sizeof(word))
        memcpy(word, value, wlen), word[wlen] = 0;
    int k = -1;
    for (int i = CFG_LOADER_NONE; i <= CFG_LOADER_FILE && k < 0; i++)
        if (strcasecmp(cfg_loader_name((enum cfg_loader)i), word) == 0)
            k = i;
    if (k < 0) {
        snprintf(err, errlen, "argument must be one of: none, synthetic, redis HOST:PORT, "
                 "file DIR (got '%s')", value);
        return -1;
    }
    char arg[CFG_LOADER_ARGLEN];
    arg[0] = 0;
    if (k == CFG_LOADER_NONE || k == CFG_LOADER_SYNTHETIC) {
        if (*rest) {
            snprintf(err, errlen, "'%s' takes no argument (got '%s')", cfg_loader_name((enum cfg_loader)k), value);
            return -1;
        }
    } else if (k == CFG_LOADER_REDIS) {
        const char *colon = strrchr(rest, ':');
        const char *host_end = colon;
        bool bracket = rest[0] == '[';
        if (bracket)
            host_end = strchr(rest, ']');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        bool ok = colon && host_end && host_end > rest + bracket &&
                  (!bracket || host_end + 1 == colon) && isdigit((unsigned char)colon[1]) &&
                  !*end && port >= 1 && port <= 65535 && !strpbrk(rest, " \t") &&
                  (bracket || !memchr(rest, ':', (size_t)(colon - rest))) &&
                  strlen(rest) < sizeof(arg);
        if (!ok) {
            snprintf(err, errlen, "'redis' needs HOST:PORT, e.g. redis 127.0.0.1:6380 or "
                     "redis [::1]:6380 (got '%s')", value);
            return -1;
        }
        strcpy(arg, rest);
    } else {
        char *abs = *rest ? realpath(rest, NULL) : NULL;
        struct stat st;
        if (!*rest) {
            snprintf(err, errlen, "'file' needs a directory, e.g. file /srv/values (got '%s')", value);
            return -1;
        }
        const char *why = NULL;
        if (!abs || stat(abs, &st) < 0)
            why = strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "not a directory";
        else if (strlen(abs) >= sizeof(arg))
            why = "path too long";
        if (why) {
            snprintf(err, errlen, "'file' needs an existing directory: '%s': %s", rest, why);
            free(abs);
            return -1;
        }
        strcpy(arg, abs);
        free(abs);
    }
    c->loader = (enum cfg_loader)k;
    strcpy(c->loader_arg, arg);
    return 0;
}

/* The next blank-separated word of *p into w (cut at cap-1); false at the end. */
static bool next_word(const char **p, char *w, size_t cap)
{
    const char *s = *p + strspn(*p, " \t");
    size_t n = strcspn(s, " \t");
    if (n == 0)
        return false;
    snprintf(w, cap, "%.*s", (int)n, s);
    *p = s + n;
    return true;
}

/* Redis's client-output-buffer-limit: groups of `class hard soft
 * soft-seconds` (class normal, replica or slave, pubsub), each group
 * replacing its class, all or nothing, with Redis's messages; "" changes
 * nothing (as in Redis). Also one size alone, the form mmcache had before
 * (and config files still say): the normal class's hard limit, no soft. */
int cfg__set_obuf(struct cfg *c, const char *value, char *err, size_t errlen)
{
    struct cfg_obuf_limit lim[CFG_OBUF_CLASSES];
    const char *p = value;
    char w[4][64];
    size_t nwords = 0;
    uint64_t one;

    memcpy(lim, c->obuf_limits, sizeof(lim));
    for (const char *q = value; next_word(&q, w[0], sizeof(w[0]));)
        nwords++;
    if (nwords == 1 && next_word(&p, w[0], sizeof(w[0]))) {
        if (cfg_parse_memory(w[0], &one)) {
            snprintf(err, errlen, "argument must be 'normal <hard> <soft> <soft-seconds>' "
                     "or one memory value like 256mb (got '%s')", value);
            return -1;
        }
        c->obuf_limits[CFG_OBUF_NORMAL] = (struct cfg_obuf_limit){one, 0, 0};
        return 0;
    }
    if (nwords % 4 != 0) {
        snprintf(err, errlen, "Wrong number of arguments in buffer limit configuration.");
        return -1;
    }
    while (next_word(&p, w[0], sizeof(w[0]))) {
        for (int i = 1; i < 4; i++)
            next_word(&p, w[i], sizeof(w[i]));
        int k = strcasecmp(w[0], "replica") == 0 ? CFG_OBUF_REPLICA
              : cfg__pick(obuf_class_names, CFG_OBUF_CLASSES, w[0]);
        if (k < 0) {
            snprintf(err, errlen, "Invalid client class specified in buffer limit configuration.");
            return -1;
        }
        uint64_t hard, soft;
        char *end;
        errno = 0;
        long long secs = strtoll(w[3], &end, 10);
        if (cfg_parse_memory(w[1], &hard) || cfg_parse_memory(w[2], &soft) ||
            !isdigit((unsigned char)w[3][0]) || *end || errno || secs > INT32_MAX) {
            snprintf(err, errlen, "Error in hard, soft or soft_seconds setting in buffer "
                     "limit configuration.");
            return -1;
        }
        lim[k] = (struct cfg_obuf_limit){hard, soft, (unsigned)secs};
    }
    memcpy(c->obuf_limits, lim, sizeof(lim));
    return 0;
}

void cfg__format_size(uint64_t bytes, char *buf, size_t cap)
{
    static const struct { uint64_t n; const char *unit; } units[] = {
        {1ull << 30, "gb"}, {1ull << 20, "mb"}, {1ull << 10, "kb"},
    };

    for (size_t i = 0; bytes != 0 && i < sizeof(units) / sizeof(units[0]); i++)
        if (bytes % units[i].n == 0) {
            snprintf(buf, cap, "%" PRIu64 "%s", bytes / units[i].n, units[i].unit);
            return;
        }
    snprintf(buf, cap, "%" PRIu64, bytes);
}

void cfg__obuf_format(const struct cfg *c, char *buf, size_t cap, bool units)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < CFG_OBUF_CLASSES && used < cap; k++) {
        char hard[32], soft[32];
        if (units) {
            cfg__format_size(c->obuf_limits[k].hard, hard, sizeof(hard));
            cfg__format_size(c->obuf_limits[k].soft, soft, sizeof(soft));
        } else {
            snprintf(hard, sizeof(hard), "%" PRIu64, c->obuf_limits[k].hard);
            snprintf(soft, sizeof(soft), "%" PRIu64, c->obuf_limits[k].soft);
        }
        used += (size_t)snprintf(buf + used, cap - used, "%s%s %s %s %u", k ? " " : "",
                                 obuf_class_names[k], hard, soft, c->obuf_limits[k].soft_seconds);
    }
}

/* latency-tracking-info-percentiles, checked as Redis 7.0 checks it. */
int cfg__set_pctls(struct cfg *c, const char *value, char *err, size_t errlen)
{
    double v[CFG_PCTL_MAX];
    unsigned n = 0;
    const char *p = value;

    for (;;) {
        char *end;

        p += strspn(p, " ");
        if (*p == '\0')
            break;
        if (n == CFG_PCTL_MAX) {
            snprintf(err, errlen, "at most %d latency-tracking-info-percentiles", CFG_PCTL_MAX);
            return -1;
        }
        errno = 0;
        v[n] = strtod(p, &end);
        if (end == p || errno || (*end != ' ' && *end != '\0') || !isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
            return -1;
        }
        if (!(v[n] >= 0.0 && v[n] <= 100.0)) {
            snprintf(err, errlen, "latency-tracking-info-percentiles parameters should sit "
                     "between [0.0,100.0]");
            return -1;
        }
        n++;
        p = end;
    }
    memset(c->latency_pctls, 0, sizeof(c->latency_pctls));   /* equal settings, equal bytes */
    memcpy(c->latency_pctls, v, n * sizeof(v[0]));
    c->latency_pctl_n = n;
    return 0;
}

/* One percentile as Redis prints it ("%f" less its trailing zeros): 99.9. */
void cfg_pctl_format(double pct, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%f", pct);

    if (n <= 0 || (size_t)n >= cap || strchr(buf, '.') == NULL)
        return;
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

void cfg__pctls_format(const struct cfg *c, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < c->latency_pctl_n && used + 1 < cap; i++) {
        char one[64];

        cfg_pctl_format(c->latency_pctls[i], one, sizeof(one));
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", one);
    }
}
