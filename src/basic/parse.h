/* Decimal numbers, read strictly: ASCII digits and nothing else -- no
 * blanks, no sign, no "0x" -- and never past UINT64_MAX.  strtoull(3) is
 * not that: it skips leading white space, takes a sign (" -1" reads as
 * 2^64-1) and stops at the first non-digit.  Every parser here returns 0,
 * -EINVAL for anything but digits (an empty string included) or -ERANGE
 * for a value past UINT64_MAX, and writes *ret only on success.  Pure; the
 * ones on the record line's path (verify reads >= 1 GB/s) are inline. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool
parse_is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* Exactly n (at most 19, so that no overflow is possible) digits at s.  It
 * stops at the first byte that is not a digit, so s may be a NUL-terminated
 * string shorter than n. */
static inline int
parse_digits(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!parse_is_digit(s[i]))
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* All of s[0..n) as a number: at least one digit, leading zeros allowed. */
static inline int
parse_u64_mem(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	if (n < 20) {
		/* 19 digits cannot overflow: one test at the end, not per digit */
		unsigned bad = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned d = (unsigned char)s[i] - (unsigned)'0';
			bad |= d > 9;
			v = v * 10 + d;
		}
		if (bad)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - (unsigned)'0';
		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* The same, in the one spelling of each value that the files seglog
 * writes use (docs/format.md): no leading zero except in "0" itself. */
static inline int
parse_u64_canonical(const char *s, size_t n, uint64_t *ret)
{
	if (n > 1 && s[0] == '0')
		return -EINVAL;
	return parse_u64_mem(s, n, ret);
}

/* A whole NUL-terminated string as a number (a command-line option's
 * value, an environment variable): parse_u64_mem() of all of it. */
int parse_u64(const char *s, uint64_t *ret);

/* The run of digits at the head of s[0..n) (a NUL-terminated s may pass
 * SIZE_MAX: NUL is not a digit); *ret_len gets its length.  -EINVAL if s
 * does not start with a digit, -ERANGE if the run is past UINT64_MAX. */
int parse_u64_prefix(const char *s, size_t n, uint64_t *ret, size_t *ret_len);
