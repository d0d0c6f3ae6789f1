/* /dev/kmsg record parsing (kmsg.h); pure, no I/O.  The format is the
 * kernel's Documentation/ABI/testing/dev-kmsg. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hex.h"
#include "kmsg.h"
#include "parse.h"

/* Copies runs between backslashes with memcpy, so plain text costs one
 * memchr and one memcpy per record. */
size_t
kmsg_unescape(const char *src, size_t n, char *dst)
{
	const char *end = src + n;
	char *out = dst;

	while (src < end) {
		const char *bs = memchr(src, '\\', (size_t)(end - src));
		size_t run = bs ? (size_t)(bs - src) : (size_t)(end - src);
		int hi, lo;

		memcpy(out, src, run);
		out += run;
		src += run;
		if (!bs)
			break;
		if (end - bs >= 4 && bs[1] == 'x' && (hi = hex_value((unsigned char)bs[2])) >= 0 &&
		    (lo = hex_value((unsigned char)bs[3])) >= 0) {
			*out++ = (char)(hi << 4 | lo);
			src = bs + 4;
		} else {
			*out++ = '\\';
			src = bs + 1;
		}
	}
	return (size_t)(out - dst);
}

/* Reads a decimal number (at most UINT64_MAX) ending at sep; advances *p
 * past sep. */
static int
kmsg_number(const char **p, const char *end, char sep, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v;
	size_t n;

	if (parse_u64_prefix(s, (size_t)(end - s), &v, &n) < 0 || s + n == end || s[n] != sep)
		return -EBADMSG;
	*p = s + n + 1;
	*ret = v;
	return 0;
}

/* The prefix "PRI,SEQ,TS_USEC,FLAGS[,...];" is ASCII and never escaped;
 * fields after FLAGS are skipped as the ABI document asks of readers. */
int
kmsg_parse(const char *buf, size_t len, char *scratch, struct kmsg_record *ret)
{
	const char *p = buf, *end = buf + len, *semi, *nl, *msg_end;
	uint64_t pri, seq, ts;
	char flag;

	if (kmsg_number(&p, end, ',', &pri) < 0 || pri > KMSG_PRI_MAX ||
	    kmsg_number(&p, end, ',', &seq) < 0 || kmsg_number(&p, end, ',', &ts) < 0)
		return -EBADMSG;
	semi = memchr(p, ';', (size_t)(end - p));
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!semi || semi == p || (nl && nl < semi))
		return -EBADMSG;
	flag = *p;
	if (p + 1 != semi && p[1] != ',')
		return -EBADMSG; /* FLAGS is one character */
	p = semi + 1;
	nl = memchr(p, '\n', (size_t)(end - p));
	msg_end = nl ? nl : end;
	*ret = (struct kmsg_record){
		.seq = seq,
		.ts_us = ts,
		.facility = (uint8_t)(pri >> 3),
		.severity = (uint8_t)(pri & 7),
		.flag = flag,
		.msg = scratch,
		.msg_len = kmsg_unescape(p, (size_t)(msg_end - p), scratch),
		.dict = nl && nl + 1 < end ? nl + 1 : NULL,
		.dict_len = nl && nl + 1 < end ? (size_t)(end - nl - 1) : 0,
	};
	return 0;
}

int
kmsg_dict_next(const struct kmsg_record *r, size_t *pos, const char **ret_key,
	       size_t *ret_key_len, const char **ret_value, size_t *ret_value_len)
{
	const char *s, *end, *line_end, *eq;

	for (;;) {
		if (!r->dict || *pos >= r->dict_len)
			return 0;
		s = r->dict + *pos;
		end = r->dict + r->dict_len;
		line_end = memchr(s, '\n', (size_t)(end - s));
		if (!line_end)
			line_end = end;
		*pos = (size_t)(line_end - r->dict) + (line_end < end);
		if (s < line_end && *s == ' ')
			s++;
		if (s < line_end)
			break; /* empty lines are skipped */
	}
	eq = memchr(s, '=', (size_t)(line_end - s));
	*ret_key = s;
	*ret_key_len = (size_t)((eq ? eq : line_end) - s);
	*ret_value = eq ? eq + 1 : line_end;
	*ret_value_len = (size_t)(line_end - *ret_value);
	return 1;
}
