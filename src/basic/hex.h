/* Hexadecimal digits, written in lower case (the one spelling of the
 * files seglog writes: directory ids, checksums, \xNN escapes) and read
 * either in lower case only, for those files, or in either case, for what
 * others write (/dev/kmsg).  Pure and inline: escaping and checksums run
 * for every record. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* The digit of v & 15. */
static inline char
hex_char(unsigned v)
{
	return "0123456789abcdef"[v & 15];
}

/* 0..15 for a digit of either case, else -EINVAL. */
static inline int
hex_value(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -EINVAL;
}

/* 0..15 for 0-9 and a-f, else -EINVAL: upper case is another spelling. */
static inline int
hex_value_lower(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -EINVAL;
}

/* Two digits of b at p. */
static inline void
hex_put_byte(char *p, uint8_t b)
{
	p[0] = hex_char(b >> 4);
	p[1] = hex_char(b);
}

/* The 32 bits of x as eight bytes of one nibble each, the least
 * significant nibble in the lowest byte. */
static inline uint64_t
hex_spread32(uint32_t x)
{
	uint64_t y = x;

	y = (y | y << 16) & 0x0000ffff0000ffffULL;
	y = (y | y << 8) & 0x00ff00ff00ff00ffULL;
	return (y | y << 4) & 0x0f0f0f0f0f0f0f0fULL;
}

/* Eight nibbles (one a byte, as hex_spread32 gives them) as their digits:
 * '0' added to each, and 'a' - '0' - 10 more where the nibble is >= 10. */
static inline uint64_t
hex_digits8(uint64_t y)
{
	uint64_t ge10 = ((y + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;

	return y + 0x3030303030303030ULL + ge10 * ('a' - '0' - 10);
}

/* Sixteen digits of v at p, most significant first: all sixteen at once
 * in two words (a checksum per record written, one per line verified). */
static inline void
hex_put_u64(char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t hi = __builtin_bswap64(hex_digits8(hex_spread32((uint32_t)(v >> 32))));
	uint64_t lo = __builtin_bswap64(hex_digits8(hex_spread32((uint32_t)v)));

	__builtin_memcpy(p, &hi, 8);
	__builtin_memcpy(p + 8, &lo, 8);
#else
	for (int i = 15; i >= 0; i--) {
		p[i] = hex_char((unsigned)v);
		v >>= 4;
	}
#endif
}

/* 2 * n digits of src[0..n) at dst, not NUL-terminated. */
static inline void
hex_encode(const uint8_t *src, size_t n, char *dst)
{
	for (size_t i = 0; i < n; i++)
		hex_put_byte(dst + 2 * i, src[i]);
}

/* The 2 * n lower-case digits at s into dst[0..n); -EINVAL (dst then
 * partly written) if one is not a digit. */
static inline int
hex_decode_lower(const char *s, size_t n, uint8_t *dst)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value_lower((unsigned char)s[2 * i]);
		int lo = hex_value_lower((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
