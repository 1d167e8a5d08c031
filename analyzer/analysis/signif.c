/* SPDX-License-Identifier: MIT */
/* signif.c - bootstrap of a percentile's change from two histograms (see signif.h). */
#include <math.h>
#include <stdlib.h>

#include "analysis/signif.h"

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in (0, 1): never 0, so that its logarithm is finite. */
static double uniform(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal(struct rng *r)
{
	double u, v, s;
	do {
		u = 2 * uniform(r) - 1;
		v = 2 * uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

/* Gamma(a, 1) for a >= 1 (Marsaglia and Tsang, 2000). */
static double gamma_draw(struct rng *r, double a)
{
	double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x = normal(r), v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = uniform(r);
		if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
			return d * v;
	}
}

/* Beta(a, b), a and b >= 1. With both large it is all but normal, and a normal draw
 * costs a fifth of two gamma draws (this is most of diff's time with many types). */
static double beta_draw(struct rng *r, double a, double b)
{
	if (a > 100 && b > 100) {
		double n = a + b, mean = a / n, sd = sqrt(a * b / (n * n * (n + 1)));
		double u = mean + sd * normal(r);
		return u < 0 ? 0 : u > 1 ? 1 : u;
	}
	double x = gamma_draw(r, a), y = gamma_draw(r, b);
	return x / (x + y);
}

/* ---- one side: the value at a position of its distribution ---- */

struct side {
	const struct pf_hist *h;
	uint64_t *cum; /* cum[i]: values in buckets first .. first + i */
	double k;      /* the quantile's rank */
};

static int side_init(struct side *s, const struct pf_hist *h, double q)
{
	s->h = h;
	s->cum = malloc((h->nbuckets ? h->nbuckets : 1) * sizeof(*s->cum));
	if (!s->cum)
		return -1;
	uint64_t sum = 0;
	for (uint32_t i = 0; i < h->nbuckets; i++)
		s->cum[i] = sum += h->counts[i];
	s->k = ceil(q * (double)h->count);
	if (s->k < 1)
		s->k = 1;
	return 0;
}

/* The value at position @u (0..1): the middle of the bucket of rank ceil(u n), clamped to
 * the side's min and max, as pf_hist_quantile() answers. */
static double side_value(const struct side *s, double u)
{
	const struct pf_hist *h = s->h;
	uint64_t rank = (uint64_t)ceil(u * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint32_t lo = 0, hi = h->nbuckets - 1;
	while (lo < hi) { /* the first bucket whose cumulated count reaches rank */
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->cum[mid] >= rank)
			hi = mid;
		else
			lo = mid + 1;
	}
	uint64_t blo, bhi;
	pf_hist_bucket_bounds(h->first + lo, &blo, &bhi);
	uint64_t v = blo + (bhi - blo) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return (double)v;
}

/* One bootstrap draw of the side's quantile. */
static double side_draw(const struct side *s, struct rng *r)
{
	double n = (double)s->h->count;
	return side_value(s, beta_draw(r, s->k, n - s->k + 1));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int pf_signif_quantile(const struct pf_hist *base, const struct pf_hist *new, double q,
		       uint64_t seed, struct pf_signif *out)
{
	if (!base->count || !new->count)
		return -1;
	double qb = (double)pf_hist_quantile(base, q), qn = (double)pf_hist_quantile(new, q);
	*out = (struct pf_signif){NAN, NAN, NAN, 1.0};
	if (qb <= 0)
		return 0; /* no relative change from 0 */
	out->change = (qn - qb) / qb;
	struct side sb, sn;
	double *d = malloc(PF_SIGNIF_DRAWS * sizeof(*d));
	if (!d || side_init(&sb, base, q) < 0) {
		free(d);
		return -1;
	}
	if (side_init(&sn, new, q) < 0) {
		free(sb.cum);
		free(d);
		return -1;
	}
	struct rng r;
	rng_seed(&r, seed);
	double sum = 0, sum2 = 0;
	for (int i = 0; i < PF_SIGNIF_DRAWS; i++) {
		double b = side_draw(&sb, &r), n = side_draw(&sn, &r);
		d[i] = b > 0 ? (n - b) / b : 0;
		sum += d[i];
		sum2 += d[i] * d[i];
	}
	qsort(d, PF_SIGNIF_DRAWS, sizeof(*d), cmp_double);
	out->ci_low = d[(int)(0.025 * PF_SIGNIF_DRAWS)];
	out->ci_high = d[(int)(0.975 * PF_SIGNIF_DRAWS) - 1];
	double mean = sum / PF_SIGNIF_DRAWS;
	double var = sum2 / PF_SIGNIF_DRAWS - mean * mean;
	if (var <= 1e-18) /* every draw alike: a sure change, or none */
		out->p_value = fabs(mean) > 1e-12 ? 0.0 : 1.0;
	else
		out->p_value = erfc(fabs(mean) / sqrt(var) / sqrt(2.0));
	free(sn.cum);
	free(sb.cum);
	free(d);
	return 0;
}
