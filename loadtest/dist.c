/*
 * Key choice: uniform, or zipf with exponent theta in (0, 1) by the method
 * of Gray et al., "Quickly generating billion-record synthetic databases"
 * (SIGMOD 1994), as YCSB uses it: O(n) set-up to sum the zeta constant,
 * then O(1) per key with no table, so a 10M keyspace costs no memory.
 * Rank 0 is the hottest key; ranks are not scrambled, which keeps hot keys
 * easy to spot in the evidence lines.
 *
 * Context: ld_dist_init() once before the client threads start; after that
 * the struct is immutable and shared, and each thread passes its own rng.
 */
#include <errno.h>
#include <math.h>

#include "ld.h"

uint64_t ld_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) from the top 53 bits */
static double unit(uint64_t *rng)
{
    return (double)(ld_rand(rng) >> 11) * (1.0 / 9007199254740992.0);
}

int ld_dist_init(struct ld_dist *d, uint64_t n, double theta)
{
    double zeta2;

    if (n == 0 || theta < 0 || theta >= 1 || isnan(theta))
        return -EINVAL;
    d->n = n;
    d->theta = theta;
    d->zetan = d->alpha = d->eta = d->half_pow = 0;
    if (theta == 0 || n < 3)
        return 0;
    for (uint64_t i = 1; i <= n; i++)
        d->zetan += 1.0 / pow((double)i, theta);
    zeta2 = 1.0 + pow(0.5, theta);
    d->alpha = 1.0 / (1.0 - theta);
    d->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / d->zetan);
    d->half_pow = pow(0.5, theta);
    return 0;
}

uint64_t ld_dist_next(const struct ld_dist *d, uint64_t *rng)
{
    double u, uz;
    uint64_t k;

    if (d->theta == 0 || d->n < 3)
        return ld_rand(rng) % d->n;
    u = unit(rng);
    uz = u * d->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < 1.0 + d->half_pow)
        return 1;
    k = (uint64_t)((double)d->n * pow(d->eta * u - d->eta + 1.0, d->alpha));
    return k < d->n ? k : d->n - 1;
}
