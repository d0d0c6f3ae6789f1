/* UTF-8 decoding (RFC 3629 §4), shared by the segment encoder and the
 * client's output: pure, inline because the encoder calls it per character. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at p (1 for ASCII) and, if
 * ret_cp is not NULL, its code point; 0 if the bytes there are not one
 * (overlong forms, surrogates, > U+10FFFF, truncated). */
static inline size_t
utf8_decode(const unsigned char *p, size_t avail, uint32_t *ret_cp)
{
	unsigned c = p[0];
	unsigned lo = 0x80, hi = 0xbf;
	uint32_t cp;
	size_t n;

	if (c < 0x80) {
		if (ret_cp)
			*ret_cp = c;
		return 1;
	}
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		n = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* > U+10FFFF */
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (ret_cp)
		*ret_cp = cp;
	return n;
}

/* Whether all of s is well-formed UTF-8. */
static inline bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = p[i] < 0x80 ? 1 : utf8_decode(p + i, n - i, NULL)))
			return false;
	return true;
}

/* Length of the prefix of s made of printable ASCII (0x20..0x7e) other
 * than the two bytes not1 and not2: the runs the segment escaper and
 * unescaper and the JSON output copy as they are.  Eight bytes per step:
 * in a word, (v - ones) & ~v & high is non-zero exactly when some byte of v
 * is zero, and (v - 0x20 * ones) & ~v & high when some byte is below 0x20;
 * a word that fails is finished byte by byte. */
static inline size_t
utf8_ascii_run(const unsigned char *s, size_t n, unsigned char not1, unsigned char not2)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, del, a, b;
		__builtin_memcpy(&x, s + i, 8);
		del = x ^ (ones * 0x7f);
		a = x ^ (ones * not1);
		b = x ^ (ones * not2);
		if ((x | ((x - ones * 0x20) & ~x) | ((del - ones) & ~del) | ((a - ones) & ~a) |
		     ((b - ones) & ~b)) & high)
			break;
	}
	for (; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == not1 || s[i] == not2)
			break;
	return i;
}
