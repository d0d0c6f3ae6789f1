/* Syslog message parsing and RFC 6587 stream framing (docs/syslog.md).
 * Pure and allocation-free: every result points into the input.  Never
 * fails on content: what is not well-formed syslog becomes the message, as
 * rsyslog and journald do.  It runs once per datagram, so it is written as
 * straight scans over the bytes: no sscanf, strptime or per-byte calls. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "datetime.h"
#include "parse.h"
#include "record.h"
#include "sdata.h"
#include "syslogmsg.h"

enum {
	SYSLOG_FACILITY_USER = 1,
	SYSLOG_SEVERITY_NOTICE = 5,
	SYSLOG_PRI_MAX = 191,	   /* facility 23, severity 7 */
	SYSLOG_HOSTNAME_MAX = 255, /* RFC 5424 §6.2.4 */
	SYSLOG_TAG_MAX = 255,	   /* RFC 3164 says 32; senders ignore it */
	SYSLOG_PID_MAX_DIGITS = 10,
	SYSLOG_PID_FIELD_MAX = 32, /* "[...]" after a TAG */
	SYSLOG_BSD_TIME_LEN = 15,  /* "Mmm dd hh:mm:ss" */
	SYSLOG_LEN_MAX_DIGITS = 9, /* RFC 6587 §3.4.1 MSG-LEN */
	SYSLOG_WEEK_S = 7 * 86400,
};

/* Characters rsyslog accepts in an RFC 3164 HOSTNAME, plus ':' for IPv6
 * literals. */
/* clang-format off */
static const bool syslog_hostname_char[256] = {
	['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
	['.'] = true, ['-'] = true, ['_'] = true, [':'] = true,
};
/* clang-format on */

/* RFC 3164 §4.1.1 / RFC 5424 §6.2.1 PRI: "<" 1*3DIGIT ">" with a value of
 * at most 191.  Returns its length, or 0 if buf does not start with one
 * (m is then untouched).  Leading zeros are tolerated, as rsyslog does. */
static size_t
syslog_parse_pri(const char *b, size_t len, struct syslog_msg *m)
{
	unsigned v = 0;
	size_t i = 1;

	if (len < 3 || b[0] != '<')
		return 0;
	for (; i < 4 && i < len && parse_is_digit(b[i]); i++)
		v = v * 10 + (unsigned)(b[i] - '0');
	if (i == 1 || i >= len || b[i] != '>' || v > SYSLOG_PRI_MAX)
		return 0;
	m->facility = (uint8_t)(v / 8);
	m->severity = (uint8_t)(v % 8);
	return i + 1;
}

/* RFC 3339 date-time as RFC 5424 §6.2.3 restricts it: "YYYY-MM-DDThh:mm:ss",
 * an optional fraction (digits past microseconds are ignored), then "Z" or
 * "+hh:mm"/"-hh:mm"; the whole of s[0..n) must match.  Times before 1970
 * are refused (the result is unsigned). */
static bool
syslog_parse_rfc3339(const char *s, size_t n, uint64_t *ret_us)
{
	unsigned y, mo, d, h, mi, se;
	uint32_t frac = 0;
	int64_t t;
	int off_min = 0, k;
	size_t i = 19;

	if (n < 20 || datetime_parse_date(s, &y, &mo, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
	    datetime_parse_hms(s + 11, &h, &mi, &se) < 0 || y < 1970)
		return false; /* 2026-02-31 is no claim (it used to become March 3) */
	k = datetime_parse_fraction(s + i, n - i, &frac);
	if (k < 0)
		return false;
	i += (size_t)k;
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (!(i + DATETIME_UTC_OFFSET_LEN == n && s[i + 3] == ':' &&
		     datetime_parse_utc_offset(s + i, &off_min) == DATETIME_UTC_OFFSET_LEN)) {
		return false;
	}
	t = datetime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	    (int64_t)off_min * 60;
	if (t < 0)
		return false;
	*ret_us = (uint64_t)t * 1000000 + frac;
	return true;
}

/* The UTC time of the RFC 3164 TIMESTAMP at s (its separators already
 * checked), or false if it is none: the year is now's, or the previous one
 * if that puts the time more than a week ahead (December's message read in
 * January); the wall-clock time is converted with utc_offset_s.  *ret_us
 * is 0 for a timestamp that names no day ("Feb 30"). */
static bool
syslog_bsd_time_value(const char *s, int64_t now_s, int32_t utc_offset_s, uint64_t *ret_us)
{
	unsigned mo, d, h, mi, se, now_mo, now_d;
	int64_t y, base, t;
	uint64_t dd;
	bool pad;
	int m;

	m = datetime_month_from_abbr(s);
	if (m < 0)
		return false;
	mo = (unsigned)m - 1;
	pad = s[4] == ' '; /* " 4" */
	if (parse_digits(s + 4 + pad, 2 - pad, &dd) < 0 ||
	    datetime_parse_hms(s + 7, &h, &mi, &se) < 0 || dd < 1 || dd > 31)
		return false;
	d = (unsigned)dd;

	base = (int64_t)(h * 3600 + mi * 60 + se) - utc_offset_s;
	datetime_civil_from_days((now_s + utc_offset_s) / 86400, &y, &now_mo, &now_d);
	t = datetime_days_from_civil(y, mo + 1, d) * 86400 + base;
	if (t > now_s + SYSLOG_WEEK_S)
		t = datetime_days_from_civil(--y, mo + 1, d) * 86400 + base;
	/* "Feb 30", or Feb 29 of a year without it: a timestamp, but no claim
	 * (it used to roll into March) */
	*ret_us = t > 0 && d <= datetime_days_in_month(y, mo + 1) ? (uint64_t)t * 1000000 : 0;
	return true;
}

/* Whether the 15 bytes at a and b are the same: two overlapping words
 * (memcmp of 15 bytes is a call). */
static bool
syslog_same15(const char *a, const char *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 7, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 7, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* RFC 3164 §4.1.2 TIMESTAMP "Mmm dd hh:mm:ss", the day space-padded (" 4",
 * as glibc and logger write it) or zero-padded, followed by SP or the end.
 * It has no year and no zone (syslog_bsd_time_value).  Returns the length
 * consumed (SP included), or 0 if s does not start with one.  The lines of
 * a stream mostly share their second: the last timestamp converted is
 * kept (per thread) with the now and the offset it was converted for, and
 * the same three give the same time without converting again. */
static size_t
syslog_parse_bsd_time(const char *s, size_t n, uint64_t now_us, int32_t utc_offset_s,
		      uint64_t *ret_us)
{
	static __thread struct {
		char text[SYSLOG_BSD_TIME_LEN];
		int64_t now_s;
		int32_t utc_offset_s;
		uint64_t us;
		bool ok;
	} last;
	int64_t now_s = (int64_t)(now_us / 1000000);
	uint64_t us;

	if (n < SYSLOG_BSD_TIME_LEN || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' ||
	    (n > SYSLOG_BSD_TIME_LEN && s[SYSLOG_BSD_TIME_LEN] != ' '))
		return 0;
	if (last.ok && last.now_s == now_s && last.utc_offset_s == utc_offset_s &&
	    syslog_same15(s, last.text)) {
		us = last.us;
	} else {
		if (!syslog_bsd_time_value(s, now_s, utc_offset_s, &us))
			return 0;
		memcpy(last.text, s, SYSLOG_BSD_TIME_LEN);
		last.now_s = now_s;
		last.utc_offset_s = utc_offset_s;
		last.us = us;
		last.ok = true;
	}
	*ret_us = us;
	return n > SYSLOG_BSD_TIME_LEN ? SYSLOG_BSD_TIME_LEN + 1 : SYSLOG_BSD_TIME_LEN;
}

/* rsyslog's forwarding format puts an RFC 3339 TIMESTAMP where RFC 3164
 * has its own: one word, followed by SP or the end.  Returns the length
 * consumed (SP included), or 0. */
static size_t
syslog_parse_rfc3339_word(const char *s, size_t n, uint64_t *ret_us)
{
	const char *sp;
	size_t w;

	if (n < 20 || !parse_is_digit(s[0]) || s[4] != '-')
		return 0;
	sp = memchr(s, ' ', n);
	w = sp ? (size_t)(sp - s) : n;
	if (!syslog_parse_rfc3339(s, w, ret_us))
		return 0;
	return sp ? w + 1 : w;
}

/* The next field of an RFC 5424 HEADER: one or more non-SP bytes, then SP
 * (RFC 5424 §6).  Advances *pos past the SP. */
static bool
syslog_5424_field(const char *b, size_t len, size_t *pos, const char **ret, size_t *ret_len)
{
	const char *sp;
	size_t start = *pos;

	if (start >= len)
		return false;
	sp = memchr(b + start, ' ', len - start);
	if (!sp || sp == b + start)
		return false;
	*ret = b + start;
	*ret_len = (size_t)(sp - *ret);
	*pos = (size_t)(sp - b) + 1;
	return true;
}

static bool
syslog_is_nil(const char *s, size_t n)
{
	return n == 1 && s[0] == '-';
}

/* RFC 5424 §6: "<PRI>1 TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
 * SP STRUCTURED-DATA [SP MSG]" where "-" is a missing field.  The message
 * counts as RFC 5424 when VERSION is 1 and the five header fields and a
 * well-formed STRUCTURED-DATA (sdata.h; kept as received) are there; a TIMESTAMP that is not RFC 3339 only leaves
 * claimed_time_us at 0.  A UTF-8 BOM that starts MSG is dropped (§6.4).
 * Returns false, m untouched, for anything else. */
static bool
syslog_parse_5424(const char *b, size_t len, size_t pos, struct syslog_msg *m)
{
	struct syslog_msg r = *m;
	const char *f;
	size_t n;
	uint64_t v;

	if (len - pos < 2 || b[pos] != '1' || b[pos + 1] != ' ')
		return false;
	pos += 2;
	if (!syslog_5424_field(b, len, &pos, &f, &n))
		return false;
	if (!syslog_is_nil(f, n) && !syslog_parse_rfc3339(f, n, &r.claimed_time_us))
		r.claimed_time_us = 0;
	if (!syslog_5424_field(b, len, &pos, &f, &n))
		return false;
	if (!syslog_is_nil(f, n)) {
		r.hostname = f;
		r.hostname_len = n;
	}
	if (!syslog_5424_field(b, len, &pos, &f, &n))
		return false;
	if (!syslog_is_nil(f, n)) {
		r.tag = f;
		r.tag_len = n;
	}
	if (!syslog_5424_field(b, len, &pos, &f, &n))
		return false;
	if (n <= SYSLOG_PID_MAX_DIGITS && parse_digits(f, n, &v) == 0)
		r.claimed_pid = (int64_t)v;
	if (!syslog_5424_field(b, len, &pos, &f, &n))
		return false;
	if (!syslog_is_nil(f, n)) {
		r.msgid = f;
		r.msgid_len = n;
	}
	if (pos < len && b[pos] == '-') {
		pos++;
	} else {
		n = sdata_span(b + pos, len - pos);
		if (n == 0)
			return false;
		r.sd = b + pos;
		r.sd_len = n;
		pos += n;
	}
	if (pos < len && b[pos] != ' ')
		return false;
	if (pos < len)
		pos++;
	if (len - pos >= 3 && memcmp(b + pos, "\xef\xbb\xbf", 3) == 0)
		pos += 3;
	r.msg = b + pos;
	r.msg_len = len - pos;
	*m = r;
	return true;
}

/* The HOSTNAME after an RFC 3164 TIMESTAMP is optional: glibc and logger
 * leave it out on a local socket.  Like rsyslog, the next word is taken as
 * the HOSTNAME only if it is made of hostname characters, does not end
 * with ':' and is followed by SP; "tag:" and "tag[123]:" thus stay TAGs.
 * Returns the length consumed (SP included), or 0. */
static size_t
syslog_parse_hostname(const char *b, size_t len, size_t pos, struct syslog_msg *m)
{
	size_t i = pos, end = len - pos > SYSLOG_HOSTNAME_MAX ? pos + SYSLOG_HOSTNAME_MAX : len;

	while (i < end && syslog_hostname_char[(unsigned char)b[i]])
		i++;
	if (i == pos || i >= len || b[i] != ' ' || b[i - 1] == ':')
		return 0;
	m->hostname = b + pos;
	m->hostname_len = i - pos;
	return i - pos + 1;
}

/* RFC 3164 §4.1.3 TAG as senders write it: up to 255 bytes other than SP,
 * ':' and '[', optionally "[PID]", then ':' and an optional SP before the
 * MSG.  Without the ':' there is no TAG (the word belongs to the message,
 * as journald has it).  A PID that is not 1-10 digits is not kept.
 * Returns where MSG starts. */
static size_t
syslog_parse_tag(const char *b, size_t len, size_t pos, struct syslog_msg *m)
{
	size_t i = pos, end = len - pos > SYSLOG_TAG_MAX ? pos + SYSLOG_TAG_MAX : len;
	size_t tag_end;
	int64_t pid = -1;

	while (i < end && b[i] != ' ' && b[i] != ':' && b[i] != '[')
		i++;
	if (i == pos || i >= len || (b[i] != ':' && b[i] != '['))
		return pos;
	tag_end = i;
	if (b[i] == '[') {
		size_t p = i + 1,
		       pend = len - p > SYSLOG_PID_FIELD_MAX ? p + SYSLOG_PID_FIELD_MAX : len;
		uint64_t v;

		for (i = p; i < pend && b[i] != ']' && b[i] != ' '; i++)
			;
		if (i >= pend || b[i] != ']')
			return pos;
		if (i - p >= 1 && i - p <= SYSLOG_PID_MAX_DIGITS && parse_digits(b + p, i - p, &v) == 0)
			pid = (int64_t)v;
		i++;
	}
	if (i >= len || b[i] != ':')
		return pos;
	i++;
	if (i < len && b[i] == ' ')
		i++;
	m->tag = b + pos;
	m->tag_len = tag_end - pos;
	m->claimed_pid = pid;
	return i;
}

/* After the PRI of an RFC 3164 message (§4.1) or its de-facto variants:
 * [TIMESTAMP SP [HOSTNAME SP]] [TAG["[" PID "]"] ":" [SP]] MSG.  Without a
 * TIMESTAMP the TAG is looked for right after the PRI (Python's
 * SysLogHandler sends "<PRI>ident: msg"). */
static void
syslog_parse_3164(const char *b, size_t len, size_t pos, uint64_t now_us, int32_t utc_offset_s,
		  struct syslog_msg *m)
{
	size_t k;

	k = syslog_parse_bsd_time(b + pos, len - pos, now_us, utc_offset_s, &m->claimed_time_us);
	if (k == 0)
		k = syslog_parse_rfc3339_word(b + pos, len - pos, &m->claimed_time_us);
	if (k > 0) {
		pos += k;
		pos += syslog_parse_hostname(b, len, pos, m);
	}
	pos = syslog_parse_tag(b, len, pos, m);
	m->msg = b + pos;
	m->msg_len = len - pos;
}

void
syslog_parse_local(const char *buf, size_t len, uint64_t now_us, int32_t utc_offset_s,
		   struct syslog_msg *ret)
{
	struct syslog_msg m;
	size_t pos;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	m = (struct syslog_msg){
	    .facility = SYSLOG_FACILITY_USER,
	    .severity = SYSLOG_SEVERITY_NOTICE,
	    .tag = buf,
	    .tag_len = 0,
	    .msg = buf,
	    .msg_len = len,
	    .claimed_pid = -1,
	};
	pos = syslog_parse_pri(buf, len, &m);
	if (pos > 0 && !syslog_parse_5424(buf, len, pos, &m))
		syslog_parse_3164(buf, len, pos, now_us, utc_offset_s, &m);
	*ret = m;
}

void
syslog_parse(const char *buf, size_t len, uint64_t now_us, struct syslog_msg *ret)
{
	syslog_parse_local(buf, len, now_us, 0, ret);
}

/* RFC 6587 §3.4.1 octet counting, "MSG-LEN SP SYSLOG-MSG" with MSG-LEN
 * NONZERO-DIGIT *DIGIT (here at most 9 digits).  Stray LF/NUL between
 * frames are dropped.  off bytes at the head of buf are already consumed. */
static int
syslog_frame_octet(struct syslog_framer *f, const char *buf, size_t len, size_t off, size_t max,
		   const char **ret_msg, size_t *ret_msg_len, size_t *ret_consumed)
{
	uint64_t n = 0;
	size_t i, digits = 0;

	while (off < len && (buf[off] == '\n' || buf[off] == '\0'))
		off++;
	*ret_consumed = off;
	if (parse_u64_prefix(buf + off, len - off, &n, &digits) == -ERANGE ||
	    digits > SYSLOG_LEN_MAX_DIGITS)
		return -EBADMSG;
	i = off + digits;
	if (i == len)
		return 0;
	if (digits == 0 || buf[i] != ' ' || buf[off] == '0')
		return -EBADMSG;
	i++;
	if (n > max) {
		uint64_t have = len - i;
		if (have >= n) {
			*ret_consumed = i + (size_t)n;
		} else {
			*ret_consumed = len;
			f->skip = n - have;
		}
		return -EMSGSIZE;
	}
	if (len - i < n)
		return 0;
	*ret_msg = buf + i;
	*ret_msg_len = (size_t)n;
	*ret_consumed = i + (size_t)n;
	return 1;
}

/* The first LF or NUL in buf[from..len), or len. */
static size_t
syslog_find_eol(const char *buf, size_t from, size_t len)
{
	const char *lf, *nul;
	size_t end;

	if (from >= len)
		return len;
	lf = memchr(buf + from, '\n', len - from);
	end = lf ? (size_t)(lf - buf) : len;
	nul = memchr(buf + from, '\0', end - from);
	return nul ? (size_t)(nul - buf) : end;
}

/* RFC 6587 §3.4.2 non-transparent framing: LF (or NUL, as Python's
 * SysLogHandler and glibc end stream messages) ends a message; empty lines
 * are dropped.  A line that grows past max is reported once and dropped up
 * to its LF.  f->scanned spares rescanning a partial line on every call
 * (a line dribbled in byte by byte would otherwise cost O(n^2)). */
static int
syslog_frame_lf(struct syslog_framer *f, const char *buf, size_t len, size_t off, size_t max,
		const char **ret_msg, size_t *ret_msg_len, size_t *ret_consumed)
{
	size_t from = f->scanned > off && f->scanned <= len ? f->scanned : off, eol;

	if (f->skip_to_lf) {
		eol = syslog_find_eol(buf, from, len);
		if (eol == len) {
			f->scanned = 0;
			*ret_consumed = len;
			return 0;
		}
		f->skip_to_lf = false;
		off = from = eol + 1;
	}
	while (off < len && (buf[off] == '\n' || buf[off] == '\0'))
		off++;
	from = from > off ? from : off;
	eol = syslog_find_eol(buf, from, len);
	if (eol == len) {
		if (len - off > max) {
			f->skip_to_lf = true;
			f->scanned = 0;
			*ret_consumed = len;
			return -EMSGSIZE;
		}
		f->scanned = len - off;
		*ret_consumed = off;
		return 0;
	}
	f->scanned = 0;
	*ret_consumed = eol + 1;
	if (eol - off > max)
		return -EMSGSIZE;
	*ret_msg = buf + off;
	*ret_msg_len = eol - off;
	return 1;
}

int
syslog_frame_next(struct syslog_framer *f, const char *buf, size_t len, size_t max,
		  const char **ret_msg, size_t *ret_msg_len, size_t *ret_consumed)
{
	size_t off = 0;

	*ret_consumed = 0;
	if (f->skip > 0) {
		off = len < f->skip ? len : (size_t)f->skip;
		f->skip -= off;
		*ret_consumed = off;
		if (f->skip > 0)
			return 0;
	}
	if (off == len)
		return 0;
	if (f->mode == SYSLOG_FRAMING_UNKNOWN)
		f->mode =
		    buf[off] >= '1' && buf[off] <= '9' ? SYSLOG_FRAMING_OCTET : SYSLOG_FRAMING_LF;
	if (f->mode == SYSLOG_FRAMING_OCTET)
		return syslog_frame_octet(f, buf, len, off, max, ret_msg, ret_msg_len,
					  ret_consumed);
	return syslog_frame_lf(f, buf, len, off, max, ret_msg, ret_msg_len, ret_consumed);
}

int
syslog_frame_end(const struct syslog_framer *f, const char *buf, size_t len, size_t max,
		 const char **ret_msg, size_t *ret_msg_len)
{
	size_t off = 0, end;

	if (f->skip > 0 || f->skip_to_lf)
		return 0;
	while (off < len && (buf[off] == '\n' || buf[off] == '\0'))
		off++;
	if (off == len)
		return 0;
	if (f->mode == SYSLOG_FRAMING_OCTET ||
	    (f->mode == SYSLOG_FRAMING_UNKNOWN && buf[off] >= '1' && buf[off] <= '9'))
		return -ENODATA;
	end = syslog_find_eol(buf, off, len); /* == len unless called too early */
	if (end - off > max)
		return -EMSGSIZE;
	*ret_msg = buf + off;
	*ret_msg_len = end - off;
	return 1;
}
