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

/* Sixteen digits of v at p, most significant first. */
static inline void
hex_put_u64(char *p, uint64_t v)
{
	for (int i = 15; i >= 0; i--) {
		p[i] = hex_char((unsigned)v);
		v >>= 4;
	}
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
