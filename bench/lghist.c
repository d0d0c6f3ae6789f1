/* The log-linear latency histogram (see lghist.h). */
#include "config.h"

#include "lghist.h"

/* Below 2 * LGHIST_SUB the value is its own index.  Above, with m the top
 * LGHIST_SUB_BITS + 1 bits of v (LGHIST_SUB <= m < 2 * LGHIST_SUB) and
 * shift the bits below them, the index is shift * LGHIST_SUB + m: each
 * shift gets LGHIST_SUB consecutive indexes, right after the last one's. */
static unsigned
lghist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * LGHIST_SUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - LGHIST_SUB_BITS;
	return shift * LGHIST_SUB + (unsigned)(v >> shift);
}

/* The largest value of bucket i (the inverse of lghist_index). */
static uint64_t
lghist_upper(unsigned i)
{
	unsigned shift;
	uint64_t m;

	if (i < 2 * LGHIST_SUB)
		return i;
	shift = i / LGHIST_SUB - 1;
	m = i - shift * LGHIST_SUB;
	return ((m + 1) << shift) - 1; /* wraps to UINT64_MAX for the last bucket */
}

void
lghist_add(struct lghist *h, uint64_t v)
{
	h->n[lghist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void
lghist_merge(struct lghist *into, const struct lghist *from)
{
	unsigned i;

	for (i = 0; i < LGHIST_BUCKETS; i++)
		into->n[i] += from->n[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t
lghist_percentile(const struct lghist *h, double p)
{
	double want = (double)h->count * p / 100.0;
	uint64_t rank = (uint64_t)want, seen = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	if ((double)rank < want || rank == 0)
		rank++; /* ceil */
	for (i = 0; i < LGHIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= rank) {
			uint64_t u = lghist_upper(i);
			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}
