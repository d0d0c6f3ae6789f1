/* A latency histogram for bench/loadgen: log-linear buckets, as
 * HdrHistogram lays them out.  Values below 64 have a bucket each; above,
 * every power of two [2^k, 2^(k+1)) is cut into 32 equal buckets, so a
 * bucket's upper bound is within 1/32 (3.1%) of any value in it.  Fixed
 * size (1920 buckets cover all of uint64_t), no allocation: counting a
 * value is an index computation and an increment.  Units are the
 * caller's (loadgen counts nanoseconds). */
#pragma once

#include <stdint.h>

enum {
	LGHIST_SUB_BITS = 5,
	LGHIST_SUB = 1 << LGHIST_SUB_BITS, /* buckets per power of two */
	/* indexes 0 .. 2 * LGHIST_SUB - 1, then LGHIST_SUB per shift 1 .. 63 - LGHIST_SUB_BITS */
	LGHIST_BUCKETS = (64 - LGHIST_SUB_BITS + 1) * LGHIST_SUB,
};

struct lghist {
	uint64_t count;
	uint64_t max;
	uint64_t n[LGHIST_BUCKETS];
};

void lghist_add(struct lghist *h, uint64_t v);
void lghist_merge(struct lghist *into, const struct lghist *from);

/* The value at percentile p (0 < p <= 100): the upper bound of the bucket
 * that holds the ceil(p% of count)-th smallest value, capped at the
 * largest value counted; 0 when the histogram is empty. */
uint64_t lghist_percentile(const struct lghist *h, double p);
