/* Shared by the libFuzzer targets in tests/fuzz/ and by replay.c, which
 * links each target without libFuzzer to run the seed corpus and the
 * regression inputs in `make check`.
 *
 * A target checks properties, not just "no crash": FUZZ_CHECK aborts (a
 * crash to libFuzzer, a failed test to replay) with the condition that
 * failed.  assert() is not used, so NDEBUG cannot turn the checks off. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                             \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* A heap copy of exactly n bytes (at least 1 allocated), so that ASan
 * catches a parser reading one byte past its input. */
static inline void *
fuzz_dup(const void *p, size_t n)
{
	void *d = n ? malloc(n) : calloc(1, 1);

	FUZZ_CHECK(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static inline void *
fuzz_alloc(size_t n)
{
	void *d = malloc(n ? n : 1);

	FUZZ_CHECK(d);
	return d;
}

/* Takes fixed-size fields off the front of the input; zeros once it runs
 * out, so every input is usable. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t
fuzz_take(struct fuzz_in *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->n) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

/* Takes up to want bytes off the front of the input (fewer if it runs
 * out) as a field; never returns NULL. */
static inline const char *
fuzz_take_bytes(struct fuzz_in *in, size_t want, size_t *ret_len)
{
	const char *p = (const char *)in->p;
	size_t n = want < in->n ? want : in->n;

	in->p += n;
	in->n -= n;
	*ret_len = n;
	return p;
}
