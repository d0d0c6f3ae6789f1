/* The record line format (docs/format.md).  Pure code: no I/O, no
 * allocation.  Encoding is on the daemon's hot path (one call per record),
 * checking on verify's (one call per line at >= 1 GB/s), so both work
 * from tables and avoid per-byte calls. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <xxhash.h>

#include "record.h"
#include "utf8.h"

static const char record_hex[] = "0123456789abcdef";

static const char *const record_facilities[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const record_severities[8] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* Byte classes for escaping: 0 = copy, 1 = always escape (controls, DEL,
 * backslash), 2 = lead byte of a multi-byte UTF-8 sequence (validate),
 * 3 = never valid in UTF-8 (stray continuation, C0/C1 leads, F5..FF). */
enum { CL_COPY, CL_ESC, CL_LEAD, CL_BAD };
static const uint8_t record_class[256] = {
	[0x00 ... 0x1f] = CL_ESC, [0x20 ... 0x5b] = CL_COPY, ['\\'] = CL_ESC,
	[0x5d ... 0x7e] = CL_COPY, [0x7f] = CL_ESC,
	[0x80 ... 0xc1] = CL_BAD, [0xc2 ... 0xf4] = CL_LEAD, [0xf5 ... 0xff] = CL_BAD,
};

const char *
record_facility_name(unsigned facility)
{
	return facility < 24 ? record_facilities[facility] : NULL;
}

const char *
record_severity_name(unsigned severity)
{
	return severity < 8 ? record_severities[severity] : NULL;
}

static bool
record_word_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* The names journalctl uses (12..15 included); "security" is facility 13
 * as in systemd, not glibc's old alias for auth. */
int
record_facility_from_name(const char *name, size_t len)
{
	for (int i = 0; i < 24; i++)
		if (record_word_eq(name, len, record_facilities[i]))
			return i;
	return -EINVAL;
}

int
record_severity_from_name(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int value;
	} aliases[] = { { "panic", 0 }, { "error", 3 }, { "warn", 4 } };

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (record_word_eq(name, len, aliases[i].name))
			return aliases[i].value;
	for (int i = 0; i < 8; i++)
		if (record_word_eq(name, len, record_severities[i]))
			return i;
	return -EINVAL;
}

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
			*d++ = (char)c;
			i++;
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
			d[2] = record_hex[c >> 4];
			d[3] = record_hex[c & 15];
			d += 4;
		}
		i++;
	}
	return (size_t)(d - dst);
}

static int
record_hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
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
		} else if (i + 3 < n && s[i + 1] == 'x' && record_hexval(s[i + 2]) >= 0 &&
			   record_hexval(s[i + 3]) >= 0) {
			out[k++] = (unsigned char)(record_hexval(s[i + 2]) << 4 | record_hexval(s[i + 3]));
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
static ssize_t
record_unescape_mode(const char *src, size_t n, char *dst, bool with_space)
{
	const unsigned char *s = (const unsigned char *)src;
	char *d = dst;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		uint8_t cl = record_class[c];

		if (cl == CL_COPY) {
			*d++ = (char)c;
			i++;
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
		int h = record_hexval(s[i + 2]), l = record_hexval(s[i + 3]);
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
	return record_unescape_mode(src, n, dst, true);
}

/* --- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's
 * algorithms, public domain descriptions). */
int64_t
record_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
record_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static inline void
record_put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* 9999-12-31T23:59:59.999999Z, the last time the 4-digit year holds. */
static const uint64_t record_time_max = 253402300799999999u;

static __thread uint64_t record_time_cache_sec = UINT64_MAX;
static __thread char record_time_cache[20];

/* Times after record_time_max (a client's claimed time can be any u64)
 * are written as record_time_max, so every line the encoder writes
 * decodes; the year field would otherwise wrap to a wrong or invalid
 * year. */
void
record_format_time(uint64_t time_us, char *buf)
{
	if (time_us > record_time_max)
		time_us = record_time_max;

	uint64_t sec = time_us / 1000000;
	unsigned us = (unsigned)(time_us % 1000000);

	if (sec != record_time_cache_sec) {
		int64_t y;
		unsigned mo, d, sod = (unsigned)(sec % 86400);
		record_civil_from_days((int64_t)(sec / 86400), &y, &mo, &d);
		char *p = record_time_cache;
		unsigned yy = (unsigned)(y % 10000);
		p[0] = (char)('0' + yy / 1000);
		p[1] = (char)('0' + yy / 100 % 10);
		p[2] = (char)('0' + yy / 10 % 10);
		p[3] = (char)('0' + yy % 10);
		p[4] = '-';
		record_put2(p + 5, mo);
		p[7] = '-';
		record_put2(p + 8, d);
		p[10] = 'T';
		record_put2(p + 11, sod / 3600);
		p[13] = ':';
		record_put2(p + 14, sod / 60 % 60);
		p[16] = ':';
		record_put2(p + 17, sod % 60);
		p[19] = '.';
		record_time_cache_sec = sec;
	}
	memcpy(buf, record_time_cache, 20);
	for (int i = 25; i >= 20; i--) {
		buf[i] = (char)('0' + us % 10);
		us /= 10;
	}
	buf[26] = 'Z';
}

static int
record_digits(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int
record_parse_time(const char *s, size_t len, uint64_t *ret_time_us)
{
	unsigned y, mo, d, h, mi, sec, us;
	static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (len != RECORD_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return -EBADMSG;
	if (record_digits(s, 4, &y) || record_digits(s + 5, 2, &mo) ||
	    record_digits(s + 8, 2, &d) || record_digits(s + 11, 2, &h) ||
	    record_digits(s + 14, 2, &mi) || record_digits(s + 17, 2, &sec) ||
	    record_digits(s + 20, 6, &us))
		return -EBADMSG;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 59)
		return -EBADMSG;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EBADMSG;
	int64_t days = record_days_from_civil(y, mo, d);
	*ret_time_us = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + sec) * 1000000u + us;
	return 0;
}

/* --- numbers -------------------------------------------------------------- */

static char *
record_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* A decimal field: no sign, no leading zero (except "0"), no overflow. */
static int
record_parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static void
record_put_csum(char *p, uint64_t h)
{
	for (int i = 15; i >= 0; i--) {
		p[i] = record_hex[h & 15];
		h >>= 4;
	}
}

static int
record_check_csum(const char *line, size_t len)
{
	/* ... SP CSUM LF */
	const char *c;
	uint64_t want = 0;

	if (len < RECORD_CSUM_LEN + 3 || line[len - 1] != '\n')
		return -EBADMSG;
	c = line + len - 1 - RECORD_CSUM_LEN;
	if (c[-1] != ' ')
		return -EBADMSG;
	for (int i = 0; i < RECORD_CSUM_LEN; i++) {
		int v = record_hexval((unsigned char)c[i]);
		if (v < 0)
			return -EBADMSG;
		want = want << 4 | (unsigned)v;
	}
	return XXH3_64bits(line, (size_t)(c - 1 - line)) == want ? 0 : -EBADMSG;
}

/* --- records -------------------------------------------------------------- */

size_t
record_line_max(size_t tag_len, size_t msg_len)
{
	/* time, seq, fac.sev, pid, uid, gid, cpid, ctime, separators, csum */
	return RECORD_TIME_LEN + 1 + 20 + 1 + 24 + 1 + 20 + 1 + 10 + 1 + 10 + 1 + 4 * tag_len + 1 +
	       1 + 20 + 1 + RECORD_TIME_LEN + 1 + 4 * msg_len + 1 + RECORD_CSUM_LEN + 1 + 8;
}

size_t
record_encode(const struct record *r, char *buf)
{
	char *p = buf;
	const char *fac = record_facilities[r->facility % 24];
	const char *sev = record_severities[r->severity % 8];
	size_t n;

	record_format_time(r->time_us, p);
	p += RECORD_TIME_LEN;
	*p++ = ' ';
	p = record_put_u64(p, r->seq);
	*p++ = ' ';
	n = strlen(fac);
	memcpy(p, fac, n);
	p += n;
	*p++ = '.';
	n = strlen(sev);
	memcpy(p, sev, n);
	p += n;
	*p++ = ' ';
	p = record_put_u64(p, (uint64_t)(r->pid < 0 ? 0 : r->pid));
	*p++ = ' ';
	p = record_put_u64(p, r->uid);
	*p++ = ' ';
	p = record_put_u64(p, r->gid);
	*p++ = ' ';
	if (r->tag_len == 0) {
		*p++ = '-';
	} else if (r->tag_len == 1 && r->tag[0] == '-') {
		memcpy(p, "\\x2d", 4);
		p += 4;
	} else {
		p += record_escape(r->tag, r->tag_len, p, true);
	}
	*p++ = ' ';
	if (r->claimed_pid < 0)
		*p++ = '-';
	else
		p = record_put_u64(p, (uint64_t)r->claimed_pid);
	*p++ = ' ';
	if (r->claimed_time_us) {
		record_format_time(r->claimed_time_us, p);
		p += RECORD_TIME_LEN;
	} else {
		*p++ = '-';
	}
	*p++ = ' ';
	p += record_escape(r->msg, r->msg_len, p, false);
	uint64_t h = XXH3_64bits(buf, (size_t)(p - buf));
	*p++ = ' ';
	record_put_csum(p, h);
	p += RECORD_CSUM_LEN;
	*p++ = '\n';
	return (size_t)(p - buf);
}

/* Splits the next SP-terminated field off [*pos, end). */
static int
record_field(const char **pos, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *pos, *sp = memchr(s, ' ', (size_t)(end - s));
	if (!sp)
		return -EBADMSG;
	*ret = s;
	*ret_len = (size_t)(sp - s);
	*pos = sp + 1;
	return 0;
}

#define REJECT(why)                        \
	do {                               \
		if (ret_reason)            \
			*ret_reason = why; \
		return -EBADMSG;           \
	} while (0)

/* Parses the fixed fields; on success *pos points at the tag. */
static int
record_parse_head(const char *line, size_t len, const char **pos, const char *end,
		  struct record *r, const char **ret_reason)
{
	const char *f;
	size_t n;
	uint64_t v;

	if (record_is_header(line, len))
		REJECT("a segment header where a record was expected");
	if (record_field(pos, end, &f, &n) < 0 || record_parse_time(f, n, &r->time_us) < 0)
		REJECT("bad time field");
	if (record_field(pos, end, &f, &n) < 0 || record_parse_u64(f, n, &r->seq) < 0 ||
	    r->seq == 0)
		REJECT("bad seq field");
	if (record_field(pos, end, &f, &n) < 0)
		REJECT("missing facility.severity");
	/* consecutive lines mostly share FAC.SEV: remember the last one (per
	 * thread; verify checks segments in parallel) */
	static __thread struct {
		char text[24];
		size_t len;
		uint8_t facility, severity;
	} last;
	if (n > 0 && n == last.len && memcmp(f, last.text, n) == 0) {
		r->facility = last.facility;
		r->severity = last.severity;
	} else {
		const char *dot = memchr(f, '.', n);
		int fa = dot ? record_facility_from_name(f, (size_t)(dot - f)) : -1;
		int se = dot ? record_severity_from_name(dot + 1, n - (size_t)(dot - f) - 1) : -1;
		if (fa < 0 || se < 0 ||
		    !record_word_eq(dot + 1, n - (size_t)(dot - f) - 1, record_severities[se]))
			REJECT("unknown facility.severity");
		r->facility = (uint8_t)fa;
		r->severity = (uint8_t)se;
		if (n <= sizeof(last.text)) {
			memcpy(last.text, f, n);
			last.len = n;
			last.facility = r->facility;
			last.severity = r->severity;
		}
	}
	if (record_field(pos, end, &f, &n) < 0 || record_parse_u64(f, n, &v) < 0 ||
	    v > INT64_MAX)
		REJECT("bad pid field");
	r->pid = (int64_t)v;
	if (record_field(pos, end, &f, &n) < 0 || record_parse_u64(f, n, &v) < 0 ||
	    v > UINT32_MAX)
		REJECT("bad uid field");
	r->uid = (uint32_t)v;
	if (record_field(pos, end, &f, &n) < 0 || record_parse_u64(f, n, &v) < 0 ||
	    v > UINT32_MAX)
		REJECT("bad gid field");
	r->gid = (uint32_t)v;
	return 0;
}

static int
record_parse_claims(const char **pos, const char *end, struct record *r, const char **ret_reason)
{
	const char *f;
	size_t n;
	uint64_t v;

	if (record_field(pos, end, &f, &n) < 0)
		REJECT("missing claimed pid");
	if (n == 1 && f[0] == '-')
		r->claimed_pid = RECORD_NO_CLAIMED_PID;
	else if (record_parse_u64(f, n, &v) < 0 || v > INT64_MAX)
		REJECT("bad claimed pid");
	else
		r->claimed_pid = (int64_t)v;
	if (record_field(pos, end, &f, &n) < 0)
		REJECT("missing claimed time");
	if (n == 1 && f[0] == '-')
		r->claimed_time_us = 0;
	else if (record_parse_time(f, n, &r->claimed_time_us) < 0 || r->claimed_time_us == 0)
		REJECT("bad claimed time");
	return 0;
}

int
record_decode(const char *line, size_t len, char *scratch, struct record *ret,
	      const char **ret_reason)
{
	struct record r = { 0 };
	const char *pos = line, *end, *tag;
	size_t tag_n;
	ssize_t k;

	if (record_check_csum(line, len) < 0)
		REJECT("checksum mismatch or no checksum");
	end = line + len - 1 - RECORD_CSUM_LEN; /* the SP before CSUM ends MSG */
	if (record_parse_head(line, len, &pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	if (record_field(&pos, end, &tag, &tag_n) < 0 || tag_n == 0)
		REJECT("missing tag");
	if (record_parse_claims(&pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	if (pos > end - 1)
		REJECT("missing message");
	/* tag: "-" is the empty tag, "\x2d" the tag "-" */
	if (tag_n == 1 && tag[0] == '-') {
		r.tag_len = 0;
	} else if (tag_n == 4 && memcmp(tag, "\\x2d", 4) == 0) {
		scratch[0] = '-';
		r.tag_len = 1;
	} else {
		k = record_unescape_mode(tag, tag_n, scratch, true);
		if (k < 0)
			REJECT("bad escape in tag");
		if ((size_t)k > RECORD_TAG_MAX)
			REJECT("tag too long");
		r.tag_len = (size_t)k;
	}
	r.tag = scratch;
	/* message: everything up to the SP before CSUM */
	k = record_unescape_mode(pos, (size_t)(end - 1 - pos), scratch + r.tag_len, false);
	if (k < 0)
		REJECT("bad escape or raw control byte in message");
	r.msg = scratch + r.tag_len;
	r.msg_len = (size_t)k;
	*ret = r;
	return 0;
}

int
record_check(const char *line, size_t len, uint64_t *ret_seq, uint64_t *ret_time_us,
	     const char **ret_reason)
{
	struct record r;
	const char *pos = line, *end;

	if (record_check_csum(line, len) < 0)
		REJECT("checksum mismatch or no checksum");
	end = line + len - 1 - RECORD_CSUM_LEN;
	if (record_parse_head(line, len, &pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	*ret_seq = r.seq;
	*ret_time_us = r.time_us;
	return 0;
}

/* --- header --------------------------------------------------------------- */

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
	for (int i = 0; i < RECORD_DIR_ID_LEN; i++) {
		*p++ = record_hex[h->dir_id[i] >> 4];
		*p++ = record_hex[h->dir_id[i] & 15];
	}
	uint64_t x = XXH3_64bits(buf, (size_t)(p - buf));
	*p++ = ' ';
	record_put_csum(p, x);
	p += RECORD_CSUM_LEN;
	*p++ = '\n';
	return (size_t)(p - buf);
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
	if (record_field(&pos, end, &f, &n) < 0 || record_parse_u64(f, n, &v) < 0)
		REJECT("bad format version");
	if (v != RECORD_FORMAT_VERSION)
		REJECT("unsupported format version");
	h.version = (uint32_t)v;
	if (record_field(&pos, end, &f, &n) < 0 || record_parse_u64(f, n, &h.first_seq) < 0 ||
	    h.first_seq == 0)
		REJECT("bad first seq");
	if (record_field(&pos, end, &f, &n) < 0 || record_parse_time(f, n, &h.created_us) < 0)
		REJECT("bad creation time");
	if (record_field(&pos, end, &f, &n) < 0 || n != 2 * RECORD_DIR_ID_LEN || pos != end)
		REJECT("bad directory id");
	for (int i = 0; i < RECORD_DIR_ID_LEN; i++) {
		int hi = record_hexval((unsigned char)f[2 * i]);
		int lo = record_hexval((unsigned char)f[2 * i + 1]);
		if (hi < 0 || lo < 0)
			REJECT("bad directory id");
		h.dir_id[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret = h;
	return 0;
}
