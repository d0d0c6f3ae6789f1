/* Formatting of records for seglog tail/cat (see output.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "datetime.h"
#include "hex.h"
#include "output.h"
#include "sdata.h"
#include "utf8.h"


enum {
	OUTPUT_SD_ITEMS_MAX = 512, /* output_json_sd: beyond, the raw string */
};

void
output_init(struct output *o, enum output_mode mode, bool color, bool escape)
{
	*o = (struct output){ .mode = mode, .color = color, .escape = escape,
			      .cached_sec = UINT64_MAX };
}

void
output_set_local_host(struct output *o, const char *name)
{
	size_t n = strnlen(name, RECORD_HOST_MAX);

	memcpy(o->local_host, name, n);
	o->local_host[n] = '\0';
	o->local_host_len = n;
}

int
output_mode_from_name(const char *name)
{
	if (strcmp(name, "short") == 0)
		return OUTPUT_SHORT;
	if (strcmp(name, "json") == 0)
		return OUTPUT_JSON;
	if (strcmp(name, "raw") == 0 || strcmp(name, "cat") == 0)
		return OUTPUT_RAW;
	if (strcmp(name, "short-iso") == 0)
		return OUTPUT_SHORT_ISO;
	if (strcmp(name, "short-precise") == 0)
		return OUTPUT_SHORT_PRECISE;
	return -EINVAL;
}

size_t
output_max(const struct record *r)
{
	/* the SD object repeats no byte of the SD more than once, each as at
	 * most 6 bytes of JSON, plus quotes, colons, commas and brackets: at
	 * most 8 bytes per SD byte */
	size_t host = r->hostname_len > RECORD_HOST_MAX ? r->hostname_len : RECORD_HOST_MAX;

	/* (host: the record's, or the local one -o short shows instead) */
	return 320 + 6 * (r->tag_len + r->msg_len + host + r->msgid_len) + 8 * r->sd_len;
}

bool
output_utf8_valid(const char *s, size_t n)
{
	return utf8_valid(s, n);
}

/* Format characters that reorder or hide text on a terminal ("Trojan
 * Source", CVE-2021-42574): bidirectional embeddings, overrides and
 * isolates, and the directional marks. */
static bool
output_is_bidi(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static char *
output_put_hex_byte(char *d, unsigned c)
{
	d[0] = '\\';
	d[1] = 'x';
	hex_put_byte(d + 2, (uint8_t)c);
	return d + 4;
}

size_t
output_escape_terminal(const char *src, size_t n, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		uint32_t cp;
		size_t k;

		if (c >= 0x20 && c < 0x7f) {
			*d++ = (char)c;
			i++;
			continue;
		}
		if (c == '\n' || c == '\t' || c == '\r') {
			*d++ = '\\';
			*d++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			i++;
			continue;
		}
		k = c >= 0x80 ? utf8_decode(s + i, n - i, &cp) : 0;
		if (k == 0 || cp < 0xa0) { /* C0, DEL, C1, invalid: byte by byte */
			d = output_put_hex_byte(d, c);
			i++;
			continue;
		}
		if (output_is_bidi(cp)) {
			d += sprintf(d, "\\u%04" PRIx32, cp);
		} else {
			memcpy(d, s + i, k);
			d += k;
		}
		i += k;
	}
	return (size_t)(d - dst);
}

size_t
output_json_value(const char *src, size_t n, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;

	/* the common case, all printable ASCII: 8 bytes per test, no UTF-8
	 * pass, one copy */
	if (utf8_ascii_run(s, n, '"', '\\') == n) {
		*d++ = '"';
		memcpy(d, s, n);
		d[n] = '"';
		return n + 2;
	}
	if (!output_utf8_valid(src, n)) {
		*d++ = '[';
		for (i = 0; i < n; i++)
			d += sprintf(d, i ? ",%u" : "%u", s[i]);
		*d++ = ']';
		return (size_t)(d - dst);
	}
	*d++ = '"';
	while (i < n) {
		unsigned c = s[i];
		uint32_t cp = 0; /* set by utf8_decode; the compiler cannot see it */
		size_t k;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			size_t run = utf8_ascii_run(s + i, n - i, '"', '\\');
			memcpy(d, s + i, run);
			d += run;
			i += run;
			continue;
		}
		if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
		    c == '\f') {
			*d++ = '\\';
			*d++ = c == '\n'   ? 'n'
			       : c == '\t' ? 't'
			       : c == '\r' ? 'r'
			       : c == '\b' ? 'b'
			       : c == '\f' ? 'f'
					   : (char)c;
			i++;
			continue;
		}
		k = utf8_decode(s + i, n - i, &cp); /* valid: never 0 */
		if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || output_is_bidi(cp)) {
			d += sprintf(d, "\\u%04" PRIx32, cp);
		} else {
			memcpy(d, s + i, k);
			d += k;
		}
		i += k;
	}
	*d++ = '"';
	return (size_t)(d - dst);
}

/* "Nov 24 09:02:35" in local time, as journalctl's short output. */
/* The time of a short line: "Nov 24 09:02:35" (short), with ".123456"
 * (short-precise), or "2026-11-24T09:02:35+01:00" (short-iso), local or
 * UTC.  The part down to the second is cached per second. */
static size_t
output_time(struct output *o, uint64_t time_us, char *buf)
{
	uint64_t sec = time_us / 1000000;
	size_t n;

	if (sec != o->cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		char *p = o->cached;
		if (!(o->utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
			memset(&tm, 0, sizeof(tm));
		if (o->mode == OUTPUT_SHORT_ISO) {
			datetime_put_date(p, tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
					  (unsigned)tm.tm_mday);
			p[10] = 'T';
			datetime_put_hms(p + 11, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
					 (unsigned)tm.tm_sec);
			datetime_put_utc_offset(p + 19, o->utc ? 0 : tm.tm_gmtoff);
			o->cached_len = 25;
		} else {
			memcpy(p, datetime_month_abbr[(unsigned)tm.tm_mon % 12], 3);
			p[3] = ' ';
			datetime_put2(p + 4, (unsigned)tm.tm_mday);
			p[6] = ' ';
			datetime_put_hms(p + 7, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
					 (unsigned)tm.tm_sec);
			o->cached_len = 15;
		}
		o->cached_sec = sec;
	}
	memcpy(buf, o->cached, o->cached_len);
	n = o->cached_len;
	if (o->mode == OUTPUT_SHORT_PRECISE) {
		unsigned us = (unsigned)(time_us % 1000000);
		buf[n++] = '.';
		for (int i = 5; i >= 0; i--, us /= 10)
			buf[n + (size_t)i] = (char)('0' + us % 10);
		n += 6;
	}
	return n;
}

/* journalctl's choice: errors and worse red, warnings yellow, notices
 * bold, debug dimmed, info plain. */
static const char *
output_color(unsigned severity)
{
	if (severity <= 3)
		return "\033[1;31m";
	if (severity == 4)
		return "\033[1;33m";
	if (severity == 5)
		return "\033[1m";
	if (severity == 7)
		return "\033[2m";
	return NULL;
}

static size_t
output_short(struct output *o, const struct record *r, char *buf)
{
	const char *color = o->color ? output_color(r->severity) : NULL;
	char *p = buf;

	p += output_time(o, r->time_us, p);
	*p++ = ' ';
	if (r->hostname_len) {
		p += output_escape_terminal(r->hostname, r->hostname_len, p);
		*p++ = ' ';
	} else if (o->local_host_len) {
		p += output_escape_terminal(o->local_host, o->local_host_len, p);
		*p++ = ' ';
	}
	p += output_escape_terminal(r->tag, r->tag_len, p);
	p += sprintf(p, "[%" PRId64 "]: ", r->pid);
	if (color)
		p = stpcpy(p, color);
	p += output_escape_terminal(r->msg, r->msg_len, p);
	if (color)
		p = stpcpy(p, "\033[0m");
	*p++ = '\n';
	return (size_t)(p - buf);
}

/* The values of parameter name (of SD-ID id) in every element with that
 * SD-ID, as one JSON value: a string, or an array if there are several. */
static size_t
output_json_sd_param(const char *sd, size_t sd_len, const char *id, size_t id_len,
		     const char *name, size_t name_len, char *scratch, char *dst)
{
	struct sdata_iter it = sdata_iter_init(sd, sd_len), ps;
	const char *eid, *pn, *pv;
	size_t eid_len, pn_len, pv_len, count = 0;
	char *d = dst, *first = dst + 1;

	*d++ = '[';
	while (sdata_next_element(&it, &eid, &eid_len, &ps)) {
		if (eid_len != id_len || memcmp(eid, id, id_len) != 0)
			continue;
		while (sdata_next_param(&ps, &pn, &pn_len, &pv, &pv_len)) {
			if (pn_len != name_len || memcmp(pn, name, name_len) != 0)
				continue;
			if (count++)
				*d++ = ',';
			d += output_json_value(scratch, sdata_unescape(pv, pv_len, scratch), d);
		}
	}
	if (count == 1) { /* one value: the string alone */
		size_t n = (size_t)(d - first);
		memmove(dst, first, n);
		return n;
	}
	*d++ = ']';
	return (size_t)(d - dst);
}

/* True if the element before `upto` in sd already had SD-ID id (or, with
 * name, the parameter name within that SD-ID): it was written then. */
static bool
output_sd_seen(const char *sd, size_t sd_len, const char *upto, const char *id, size_t id_len,
	       const char *name, size_t name_len)
{
	struct sdata_iter it = sdata_iter_init(sd, sd_len), ps;
	const char *eid, *pn, *pv;
	size_t eid_len, pn_len, pv_len;

	while (sdata_next_element(&it, &eid, &eid_len, &ps) && eid < upto) {
		if (eid_len != id_len || memcmp(eid, id, id_len) != 0)
			continue;
		if (!name)
			return true;
		while (sdata_next_param(&ps, &pn, &pn_len, &pv, &pv_len))
			if (pn < upto && pn_len == name_len && memcmp(pn, name, name_len) == 0)
				return true;
	}
	return false;
}

/* Elements plus parameters of a STRUCTURED-DATA field. */
static size_t
output_sd_items(const char *sd, size_t sd_len)
{
	struct sdata_iter it = sdata_iter_init(sd, sd_len), ps;
	const char *id, *pn, *pv;
	size_t id_len, pn_len, pv_len, n = 0;

	while (sdata_next_element(&it, &id, &id_len, &ps)) {
		n++;
		while (sdata_next_param(&ps, &pn, &pn_len, &pv, &pv_len))
			n++;
	}
	return n;
}

/* RFC 5424 STRUCTURED-DATA as a JSON object: SD-ID -> {PARAM-NAME: value},
 * a parameter given several times (in one element or in repeated elements
 * of one SD-ID) as an array of its values, in order (PRODUCT.md §3).  What
 * does not parse as STRUCTURED-DATA (a hand-made line) is a string, and so
 * is one of more than OUTPUT_SD_ITEMS_MAX elements and parameters: merging
 * repeats is quadratic, and one datagram must not stall a reader or the
 * shipper (a hostile test: 50,000 params took 92 s of CPU). */
static size_t
output_json_sd(const char *sd, size_t sd_len, char *dst)
{
	struct sdata_iter it = sdata_iter_init(sd, sd_len), ps;
	const char *id, *pn, *pv;
	size_t id_len, pn_len, pv_len;
	_cleanup_free_ char *scratch = NULL;
	char *d = dst;
	bool first_id = true;

	if (sdata_span(sd, sd_len) != sd_len || output_sd_items(sd, sd_len) > OUTPUT_SD_ITEMS_MAX ||
	    !(scratch = malloc(sd_len)))
		return output_json_value(sd, sd_len, dst);
	*d++ = '{';
	while (sdata_next_element(&it, &id, &id_len, &ps)) {
		bool first_param = true;
		if (output_sd_seen(sd, sd_len, id, id, id_len, NULL, 0))
			continue;
		if (!first_id)
			*d++ = ',';
		first_id = false;
		d += output_json_value(id, id_len, d);
		*d++ = ':';
		*d++ = '{';
		/* every parameter of this SD-ID, in every element that has it */
		struct sdata_iter all = sdata_iter_init(sd, sd_len), aps;
		const char *aid;
		size_t aid_len;
		while (sdata_next_element(&all, &aid, &aid_len, &aps)) {
			if (aid_len != id_len || memcmp(aid, id, id_len) != 0)
				continue;
			while (sdata_next_param(&aps, &pn, &pn_len, &pv, &pv_len)) {
				if (output_sd_seen(sd, sd_len, pn, id, id_len, pn, pn_len))
					continue;
				if (!first_param)
					*d++ = ',';
				first_param = false;
				d += output_json_value(pn, pn_len, d);
				*d++ = ':';
				d += output_json_sd_param(sd, sd_len, id, id_len, pn, pn_len, scratch,
							  d);
			}
		}
		*d++ = '}';
	}
	*d++ = '}';
	return (size_t)(d - dst);
}

static char *
output_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return record_put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return record_put_u64(p, (uint64_t)v);
}

static size_t
output_json(const struct record *r, char *buf)
{
	const char *fac = record_facility_name(r->facility);
	const char *sev = record_severity_name(r->severity);
	char *p = buf;

	/* (by hand, not sprintf: a third of the shipper's formatting time) */
	p = stpcpy(p, "{\"seq\":");
	p = record_put_u64(p, r->seq);
	p = stpcpy(p, ",\"time\":\"");
	record_format_time(r->time_us, p);
	p += RECORD_TIME_LEN;
	p = stpcpy(p, "\",\"pid\":");
	p = output_put_i64(p, r->pid);
	p = stpcpy(p, ",\"uid\":");
	p = record_put_u64(p, r->uid);
	p = stpcpy(p, ",\"gid\":");
	p = record_put_u64(p, r->gid);
	p = stpcpy(p, ",\"facility\":\"");
	p = stpcpy(p, fac ? fac : "user");
	p = stpcpy(p, "\",\"severity\":\"");
	p = stpcpy(p, sev ? sev : "info");
	p = stpcpy(p, "\",\"tag\":");
	p += output_json_value(r->tag, r->tag_len, p);
	p = stpcpy(p, ",\"message\":");
	p += output_json_value(r->msg, r->msg_len, p);
	if (r->hostname_len) {
		p = stpcpy(p, ",\"hostname\":");
		p += output_json_value(r->hostname, r->hostname_len, p);
	}
	if (r->msgid_len) {
		p = stpcpy(p, ",\"msgid\":");
		p += output_json_value(r->msgid, r->msgid_len, p);
	}
	if (r->sd_len) {
		p = stpcpy(p, ",\"sd\":");
		p += output_json_sd(r->sd, r->sd_len, p);
	}
	if (r->claimed_pid >= 0) {
		p = stpcpy(p, ",\"claimed_pid\":");
		p = output_put_i64(p, r->claimed_pid);
	}
	if (r->claimed_time_us) {
		p = stpcpy(p, ",\"claimed_time\":\"");
		record_format_time(r->claimed_time_us, p);
		p += RECORD_TIME_LEN;
		*p++ = '"';
	}
	*p++ = '}';
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t
output_format(struct output *o, const struct record *r, char *buf)
{
	switch (o->mode) {
	case OUTPUT_JSON:
		return output_json(r, buf);
	case OUTPUT_RAW: {
		size_t n;
		if (o->escape) {
			n = output_escape_terminal(r->msg, r->msg_len, buf);
		} else {
			memcpy(buf, r->msg, r->msg_len);
			n = r->msg_len;
		}
		buf[n] = '\n';
		return n + 1;
	}
	case OUTPUT_SHORT:
	default:
		return output_short(o, r, buf);
	}
}
