/* Escaping of tag and message bytes in record lines (docs/format.md §5):
 * reversible, printable text unchanged, every control and every byte that
 * is not valid UTF-8 written as "\\xHH".  Pure code, table-driven (the
 * encoder runs once per record on the daemon's hot path). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hex.h"
#include "record.h"
#include "utf8.h"

/* Byte classes for escaping: 0 = copy, 1 = always escape (controls, DEL,
 * backslash), 2 = lead byte of a multi-byte UTF-8 sequence (validate),
 * 3 = never valid in UTF-8 (stray continuation, C0/C1 leads, F5..FF). */
enum { CL_COPY, CL_ESC, CL_LEAD, CL_BAD };
static const uint8_t record_class[256] = {
	[0x00 ... 0x1f] = CL_ESC, [0x20 ... 0x5b] = CL_COPY, ['\\'] = CL_ESC,
	[0x5d ... 0x7e] = CL_COPY, [0x7f] = CL_ESC,
	[0x80 ... 0xc1] = CL_BAD, [0xc2 ... 0xf4] = CL_LEAD, [0xf5 ... 0xff] = CL_BAD,
};

/* Length of the valid, non-C1 UTF-8 sequence at p, or 0: the C1
 * controls U+0080..U+009F are escaped like the C0 ones. */
static size_t
record_utf8_len(const unsigned char *p, size_t avail)
{
	uint32_t cp;
	size_t n = utf8_decode(p, avail, &cp);

	return n && (cp < 0x80 || cp > 0x9f) ? n : 0;
}

size_t
record_escape(const char *src, size_t n, char *dst, bool with_space)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		uint8_t cl = record_class[c];

		if (cl == CL_COPY && !(with_space && c == ' ')) {
			/* the output left is at least the n - i bytes of input left */
			size_t run = utf8_ascii_copy(s + i, n - i, d, '\\', with_space ? ' ' : '\\');
			d += run;
			i += run;
			continue;
		}
		if (cl == CL_LEAD) {
			size_t k = record_utf8_len(s + i, n - i);
			if (k) {
				memcpy(d, s + i, k);
				d += k;
				i += k;
				continue;
			}
		}
		if (c == '\\') {
			*d++ = '\\';
			*d++ = '\\';
		} else {
			d[0] = '\\';
			d[1] = 'x';
			hex_put_byte(d + 2, (uint8_t)c);
			d += 4;
		}
		i++;
	}
	return (size_t)(d - dst);
}

/* Decodes up to max bytes of the escaped text at s[i..n) leniently (raw
 * bytes as they are, escapes as their value), stopping at anything
 * malformed; returns how many it decoded.  Only used to look ahead. */
static size_t
record_peek(const unsigned char *s, size_t i, size_t n, unsigned char *out, size_t max)
{
	size_t k = 0;

	while (k < max && i < n) {
		if (s[i] != '\\') {
			out[k++] = s[i++];
		} else if (i + 1 < n && s[i + 1] == '\\') {
			out[k++] = '\\';
			i += 2;
		} else if (i + 3 < n && s[i + 1] == 'x' && hex_value_lower(s[i + 2]) >= 0 &&
			   hex_value_lower(s[i + 3]) >= 0) {
			out[k++] = (unsigned char)(hex_value_lower(s[i + 2]) << 4 |
						   hex_value_lower(s[i + 3]));
			i += 4;
		} else {
			break;
		}
	}
	return k;
}

/* Whether record_escape writes byte c, which starts the decoded text
 * s[i..n), as "\xHH": DEL, controls, bytes that are not part of a valid
 * UTF-8 sequence, SP when with_space. */
static bool
record_escaped_as_hex(unsigned c, const unsigned char *s, size_t i, size_t n, bool with_space)
{
	unsigned char ahead[4];

	switch (record_class[c]) {
	case CL_COPY:
		return with_space && c == ' ';
	case CL_ESC:
		return c != '\\';
	case CL_LEAD:
		ahead[0] = (unsigned char)c;
		return record_utf8_len(ahead, 1 + record_peek(s, i + 4, n, ahead + 1, 3)) == 0;
	default:
		return true;
	}
}

/* Strict inverse of record_escape: rejects raw bytes that record_escape
 * would have escaped and escapes it would not have written ("\x41" for
 * "A", "\xc3\xa9" for a valid "é"), so each byte string has exactly one
 * encoding and decoding a line then encoding it again gives the same
 * bytes.  with_space: SP is written "\x20" (tags) rather than raw. */
ssize_t
record_unescape_strict(const char *src, size_t n, char *dst, bool with_space)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		uint8_t cl = record_class[c];

		if (cl == CL_COPY) {
			size_t run = utf8_ascii_run(s + i, n - i, '\\', '\\');
			memcpy(d, s + i, run);
			d += run;
			i += run;
			continue;
		}
		if (cl == CL_LEAD) {
			size_t k = record_utf8_len(s + i, n - i);
			if (!k)
				return -EBADMSG;
			memcpy(d, s + i, k);
			d += k;
			i += k;
			continue;
		}
		if (c != '\\' || i + 1 >= n)
			return -EBADMSG;
		if (s[i + 1] == '\\') {
			*d++ = '\\';
			i += 2;
			continue;
		}
		if (s[i + 1] != 'x' || i + 3 >= n)
			return -EBADMSG;
		int h = hex_value_lower(s[i + 2]), l = hex_value_lower(s[i + 3]);
		if (h < 0 || l < 0)
			return -EBADMSG;
		c = (unsigned)(h << 4 | l);
		if (!record_escaped_as_hex(c, s, i, n, with_space))
			return -EBADMSG;
		*d++ = (char)c;
		i += 4;
	}
	return d - dst;
}

/* Accepts what record_escape writes with or without with_space (a tag's
 * "\x20" as well as a message's raw SP). */
ssize_t
record_unescape(const char *src, size_t n, char *dst)
{
	return record_unescape_strict(src, n, dst, true);
}

