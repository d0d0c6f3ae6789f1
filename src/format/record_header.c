/* The segment header line (docs/format.md §2): "#seglog VERSION FIRST-SEQ
 * CREATED DIR-ID [ATTRS] CSUM".  Pure code, beside record.c. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "datetime.h"
#include "hex.h"
#include "parse.h"
#include "record.h"
#include "record_internal.h"

#define RECORD_HEADER_MAGIC "#seglog "

bool
record_is_header(const char *line, size_t len)
{
	return len >= 1 && line[0] == '#';
}

size_t
record_header_encode(const struct segment_header *h, char *buf)
{
	char *p = buf;

	memcpy(p, RECORD_HEADER_MAGIC, strlen(RECORD_HEADER_MAGIC));
	p += strlen(RECORD_HEADER_MAGIC);
	p = record_put_u64(p, h->version);
	*p++ = ' ';
	p = record_put_u64(p, h->first_seq);
	*p++ = ' ';
	record_format_time(h->created_us, p);
	p += RECORD_TIME_LEN;
	*p++ = ' ';
	hex_encode(h->dir_id, RECORD_DIR_ID_LEN, p);
	p += 2 * RECORD_DIR_ID_LEN;
	if (h->version >= 2) {
		size_t n = h->attrs_len < RECORD_ATTRS_MAX ? h->attrs_len : RECORD_ATTRS_MAX;
		*p++ = ' ';
		if (n == 0)
			*p++ = '-';
		memcpy(p, h->attrs, n);
		p += n;
	}
	return record_finish(buf, p);
}

/* Version 2 header attributes: "-" or key=value[,key=value...], keys of
 * [a-z0-9-], values of printable ASCII other than SP and ",". */
static bool
record_attrs_valid(const char *s, size_t n)
{
	bool in_key = true, have_key = false;

	if (n == 0 || n > RECORD_ATTRS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ',') {
			if (in_key)
				return false;
			in_key = true;
			have_key = false;
		} else if (in_key && c == '=') {
			if (!have_key)
				return false;
			in_key = false;
		} else if (in_key) {
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
			have_key = true;
		} else if (c <= ' ' || c > '~') {
			return false;
		}
	}
	return !in_key;
}

int
record_header_decode(const char *line, size_t len, struct segment_header *ret,
		     const char **ret_reason)
{
	struct segment_header h = { 0 };
	const char *pos, *end, *f;
	size_t n;
	uint64_t v;

	if (len < strlen(RECORD_HEADER_MAGIC) ||
	    memcmp(line, RECORD_HEADER_MAGIC, strlen(RECORD_HEADER_MAGIC)) != 0)
		REJECT("not a segment header");
	pos = line + strlen(RECORD_HEADER_MAGIC);
	if (record_check_csum(line, len) < 0)
		REJECT("header checksum mismatch");
	end = line + len - 1 - RECORD_CSUM_LEN;
	if (record_field(&pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &v) < 0)
		REJECT("bad format version");
	if (v < 1 || v > RECORD_FORMAT_MAX)
		REJECT("unsupported format version");
	h.version = (uint32_t)v;
	if (record_field(&pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &h.first_seq) < 0 ||
	    h.first_seq == 0)
		REJECT("bad first seq");
	if (record_field(&pos, end, &f, &n) < 0 || record_parse_time(f, n, &h.created_us) < 0)
		REJECT("bad creation time");
	if (record_field(&pos, end, &f, &n) < 0 || n != 2 * RECORD_DIR_ID_LEN ||
	    (h.version == 1 && pos != end))
		REJECT("bad directory id");
	if (hex_decode_lower(f, RECORD_DIR_ID_LEN, h.dir_id) < 0)
		REJECT("bad directory id");
	if (h.version >= 2) {
		if (record_field(&pos, end, &f, &n) < 0 || pos != end)
			REJECT("bad header attributes");
		if (!(n == 1 && f[0] == '-')) {
			if (!record_attrs_valid(f, n))
				REJECT("bad header attributes");
			memcpy(h.attrs, f, n);
			h.attrs_len = n;
		}
	}
	*ret = h;
	return 0;
}
