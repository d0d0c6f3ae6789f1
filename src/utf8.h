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
