/* UTF-8 decoding (RFC 3629 §4), shared by the segment encoder and the
 * client's output: pure, inline because the encoder calls it per character. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

#ifdef __SSE2__
/* Bit i set for each of the 16 bytes at s that is not printable ASCII
 * (0x20..0x7e) or is not1 or not2.  Adding 1 maps exactly 0x20..0x7e to
 * the signed bytes above 0x20 (0x7f wraps to -128, 0xff to 0). */
static inline unsigned
utf8_ascii_stop16(const unsigned char *s, unsigned char not1, unsigned char not2)
{
	__m128i x = _mm_loadu_si128((const __m128i *)s);
	__m128i printable = _mm_cmpgt_epi8(_mm_add_epi8(x, _mm_set1_epi8(1)), _mm_set1_epi8(0x20));
	__m128i other = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)not1)),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8((char)not2)));

	return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(other, printable)) ^ 0xffffu;
}
#endif

/* Whether some byte of the word x is not printable ASCII (0x20..0x7e)
 * or is not1 or not2: in a word, (v - ones) & ~v & high is non-zero
 * exactly when some byte of v is zero, and (v - 0x20 * ones) & ~v & high
 * when some byte is below 0x20. */
static inline bool
utf8_ascii_word_stops(uint64_t x, unsigned char not1, unsigned char not2)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t del = x ^ (ones * 0x7f), a = x ^ (ones * not1), b = x ^ (ones * not2);

	return ((x | ((x - ones * 0x20) & ~x) | ((del - ones) & ~del) | ((a - ones) & ~a) |
		 ((b - ones) & ~b)) & high) != 0;
}

static inline bool
utf8_ascii_byte_stops(unsigned char c, unsigned char not1, unsigned char not2)
{
	return c < 0x20 || c > 0x7e || c == not1 || c == not2;
}

/* utf8_ascii_run() from s[i] on, eight bytes per step; a word that fails
 * is finished byte by byte. */
static inline size_t
utf8_ascii_run_words(const unsigned char *s, size_t i, size_t n, unsigned char not1,
		     unsigned char not2)
{
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		__builtin_memcpy(&x, s + i, 8);
		if (utf8_ascii_word_stops(x, not1, not2))
			break;
	}
	for (; i < n && !utf8_ascii_byte_stops(s[i], not1, not2); i++)
		;
	return i;
}

/* Length of the prefix of s made of printable ASCII (0x20..0x7e) other
 * than the two bytes not1 and not2: the runs the segment escaper and
 * unescaper and the JSON output copy as they are.  Sixteen bytes per
 * step with SSE2 (every x86-64), then words. */
static inline size_t
utf8_ascii_run(const unsigned char *s, size_t n, unsigned char not1, unsigned char not2)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		unsigned stop = utf8_ascii_stop16(s + i, not1, not2);
		if (stop)
			return i + (size_t)__builtin_ctz(stop);
	}
#endif
	return utf8_ascii_run_words(s, i, n, not1, not2);
}

/* utf8_ascii_run() that also copies the run to d, which must have room
 * for n bytes (it may write past the run, never past d + n): the escaper's
 * copy of printable text, without a second pass over it. */
static inline size_t
utf8_ascii_copy(const unsigned char *s, size_t n, char *d, unsigned char not1,
		unsigned char not2)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		unsigned stop = utf8_ascii_stop16(s + i, not1, not2);
		_mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
		if (stop)
			return i + (size_t)__builtin_ctz(stop);
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		__builtin_memcpy(&x, s + i, 8);
		__builtin_memcpy(d + i, &x, 8);
		if (utf8_ascii_word_stops(x, not1, not2))
			break;
	}
	for (; i < n && !utf8_ascii_byte_stops(s[i], not1, not2); i++)
		d[i] = (char)s[i];
	return i;
}
