/*
 * Standalone driver for fuzz_resp.c, for builds without libFuzzer (gcc):
 * runs LLVMFuzzerTestOneInput over the corpus files, then over N inputs
 * mutated from them with a seeded PRNG, so a failure is reproducible with
 * the same -s and -n.
 *
 * usage: fuzz_resp_standalone [-n mutations] [-s seed] path...
 *        (a path is a file or a directory of files)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 256
#define MAX_LEN 8192

struct input {
    uint8_t *d;
    size_t n;
};

static struct input corpus[MAX_INPUTS];
static size_t ncorpus;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *d;
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    d = malloc((size_t)n + 1);
    if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(d, (size_t)n);
    if (ncorpus < MAX_INPUTS) {
        corpus[ncorpus].d = d;
        corpus[ncorpus].n = (size_t)n;
        ncorpus++;
    } else {
        free(d);
    }
    return 0;
}

static int load_path(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    char full[4096];

    if (!dir)
        return load_file(path);
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        if (load_file(full) < 0)
            fprintf(stderr, "skipping %s\n", full);
    }
    closedir(dir);
    return 0;
}

/* Protocol fragments: random bytes alone rarely form a valid header. */
static const char *const tokens[] = {
    "\r\n", "\n", "\r", "*", "$", "*1\r\n", "*2\r\n", "*0\r\n", "*-1\r\n", "$0\r\n\r\n",
    "$3\r\nSET\r\n", "$-1\r\n", "\"", "'", "\\x41", "\\", " ", "\t", "\0", "POST", "Host:",
    "99999999999999999999", "-", "+", "0", "1048576", "2147483648", "\"a\"b", "'\\''",
};

static size_t mutate(uint8_t *out, size_t cap)
{
    size_t n = 0, ops, i;

    if (ncorpus) {
        const struct input *in = &corpus[rnd() % ncorpus];

        n = in->n < cap ? in->n : cap;
        memcpy(out, in->d, n);
    }
    ops = 1 + rnd() % 8;
    for (i = 0; i < ops; i++) {
        size_t at = n ? rnd() % (n + 1) : 0;

        switch (rnd() % 7) {
        case 0:         /* flip a bit */
            if (n)
                out[at % n] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1:         /* random byte */
            if (n)
                out[at % n] = (uint8_t)rnd();
            break;
        case 2: {       /* insert a token */
            const char *t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
            size_t tl = t[0] ? strlen(t) : 1;

            if (n + tl <= cap) {
                memmove(out + at + tl, out + at, n - at);
                memcpy(out + at, t, tl);
                n += tl;
            }
            break;
        }
        case 3: {       /* delete a range */
            size_t len = n - at ? 1 + rnd() % (n - at) : 0;

            memmove(out + at, out + at + len, n - at - len);
            n -= len;
            break;
        }
        case 4: {       /* duplicate a range: pipelines */
            size_t len = n - at ? 1 + rnd() % (n - at) : 0;

            if (n + len <= cap) {
                memmove(out + at + len, out + at, n - at);
                n += len;
            }
            break;
        }
        case 5: {       /* splice in another input */
            const struct input *o = ncorpus ? &corpus[rnd() % ncorpus] : NULL;

            if (o && n + o->n <= cap) {
                memmove(out + at + o->n, out + at, n - at);
                memcpy(out + at, o->d, o->n);
                n += o->n;
            }
            break;
        }
        default:        /* truncate */
            n = at;
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    long long iters = 1000, i;
    uint64_t seed = 1;
    uint8_t *buf = malloc(MAX_LEN);
    clock_t t0 = clock();
    int a;

    if (!buf)
        return 1;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
            iters = atoll(argv[++a]);
        else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 0);
        else
            load_path(argv[a]);
    }
    rng_state = seed ? seed * 0x9E3779B97F4A7C15ULL : 1;
    for (i = 0; i < iters; i++) {
        size_t n = mutate(buf, MAX_LEN);

        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_resp_standalone: %zu corpus files, %lld mutations, seed %llu, %.2fs\n",
           ncorpus, iters, (unsigned long long)seed, (double)(clock() - t0) / CLOCKS_PER_SEC);
    for (i = 0; i < (long long)ncorpus; i++)
        free(corpus[i].d);
    free(buf);
    return 0;
}
