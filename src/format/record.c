/* The record line format (docs/format.md).  Pure code: no I/O, no
 * allocation.  Encoding is on the daemon's hot path (one call per record),
 * checking on verify's (one call per line at >= 1 GB/s), so both work
 * from tables and avoid per-byte calls. */
#include "config.h"

#include <errno.h>
#include <string.h>
#define XXH_INLINE_ALL /* the checksum of every record: inlined, no call through the PLT */
#include <xxhash.h>

#include "datetime.h"
#include "hex.h"
#include "parse.h"
#include "record.h"
#include "record_internal.h"
#include "utf8.h"

/* The names padded to 16 bytes, with their lengths: the encoder copies 16
 * bytes and advances by the length. */
struct record_name {
	char text[16];
	uint8_t len;
};
#define RECORD_NAME(s) { s, sizeof(s) - 1 }

static const struct record_name record_facilities[24] = {
	RECORD_NAME("kern"), RECORD_NAME("user"), RECORD_NAME("mail"), RECORD_NAME("daemon"),
	RECORD_NAME("auth"), RECORD_NAME("syslog"), RECORD_NAME("lpr"), RECORD_NAME("news"),
	RECORD_NAME("uucp"), RECORD_NAME("cron"), RECORD_NAME("authpriv"), RECORD_NAME("ftp"),
	RECORD_NAME("ntp"), RECORD_NAME("security"), RECORD_NAME("console"),
	RECORD_NAME("solaris-cron"), RECORD_NAME("local0"), RECORD_NAME("local1"),
	RECORD_NAME("local2"), RECORD_NAME("local3"), RECORD_NAME("local4"), RECORD_NAME("local5"),
	RECORD_NAME("local6"), RECORD_NAME("local7"),
};

static const struct record_name record_severities[8] = {
	RECORD_NAME("emerg"), RECORD_NAME("alert"), RECORD_NAME("crit"), RECORD_NAME("err"),
	RECORD_NAME("warning"), RECORD_NAME("notice"), RECORD_NAME("info"), RECORD_NAME("debug"),
};

const char *
record_facility_name(unsigned facility)
{
	return facility < 24 ? record_facilities[facility].text : NULL;
}

const char *
record_severity_name(unsigned severity)
{
	return severity < 8 ? record_severities[severity].text : NULL;
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
		if (record_word_eq(name, len, record_facilities[i].text))
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
		if (record_word_eq(name, len, record_severities[i].text))
			return i;
	return -EINVAL;
}

/* A decimal 0..max of one or two digits, else -EINVAL. */
static int
record_small_number(const char *s, size_t len, int max)
{
	uint64_t v;

	if (len > 2 || parse_u64_mem(s, len, &v) < 0 || v > (uint64_t)max)
		return -EINVAL;
	return (int)v;
}

/* A name from the command line or a config file, compared ignoring ASCII
 * case, into buf (NUL-terminated); false if it is too long for any name. */
static bool
record_lower(const char *s, size_t len, char buf[16])
{
	if (len >= 16)
		return false;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	buf[len] = '\0';
	return true;
}

int
record_facility_parse(const char *s, size_t len)
{
	char low[16];
	int v = record_small_number(s, len, 23);

	if (v >= 0 || !record_lower(s, len, low))
		return v;
	return record_facility_from_name(low, len);
}

int
record_severity_parse(const char *s, size_t len)
{
	char low[16];
	int v = record_small_number(s, len, 7);

	if (v >= 0 || !record_lower(s, len, low))
		return v;
	return record_severity_from_name(low, len);
}

/* --- time ---------------------------------------------------------------- */

/* The digit pairs 00..99, for times and numbers. */
static const char record_pairs[201] = "00010203040506070809101112131415161718192021222324"
				      "25262728293031323334353637383940414243444546474849"
				      "50515253545556575859606162636465666768697071727374"
				      "75767778798081828384858687888990919293949596979899";

/* Two seconds' "YYYY-MM-DDTHH:MM:SS." kept: a syslog record formats its
 * receive time and the time it claims, which would evict each other from
 * one.  A miss replaces the one not used last. */
struct record_time_text {
	uint64_t sec;
	char text[20];
};
static __thread struct record_time_text record_time_cache[2] = { { .sec = UINT64_MAX },
								 { .sec = UINT64_MAX } };
static __thread unsigned record_time_last;

static const struct record_time_text *
record_time_second(uint64_t sec)
{
	struct record_time_text *t;
	unsigned i = record_time_last;

	if (record_time_cache[i].sec != sec) {
		i ^= 1;
		t = &record_time_cache[i];
		if (t->sec != sec) {
			int64_t y;
			unsigned mo, d, sod = (unsigned)(sec % 86400);
			datetime_civil_from_days((int64_t)(sec / 86400), &y, &mo, &d);
			datetime_put_date(t->text, y, mo, d);
			t->text[10] = 'T';
			datetime_put_hms(t->text + 11, sod / 3600, sod / 60 % 60, sod % 60);
			t->text[19] = '.';
			t->sec = sec;
		}
		record_time_last = i;
	}
	return &record_time_cache[i];
}

/* Times after datetime_max_us (a client's claimed time can be any u64)
 * are written as datetime_max_us, so every line the encoder writes
 * decodes; the year field would otherwise wrap to a wrong or invalid
 * year.  The microseconds go in as three digit pairs. */
void
record_format_time(uint64_t time_us, char *buf)
{
	if (time_us > datetime_max_us)
		time_us = datetime_max_us;

	unsigned us = (unsigned)(time_us % 1000000), r = us % 10000;

	memcpy(buf, record_time_second(time_us / 1000000)->text, 20);
	memcpy(buf + 20, record_pairs + 2 * (us / 10000), 2);
	memcpy(buf + 22, record_pairs + 2 * (r / 100), 2);
	memcpy(buf + 24, record_pairs + 2 * (r % 100), 2);
	buf[26] = 'Z';
}

/* No leap second, nothing before 1970: what record_format_time() writes. */
int
record_parse_time(const char *s, size_t len, uint64_t *ret_time_us)
{
	/* consecutive lines mostly share the minute: "YYYY-MM-DDTHH:MM" of the
	 * last line parsed and its seconds since the epoch (per thread; verify
	 * checks segments in parallel), so that most lines only read SS.uuuuuu */
	enum { MINUTE_LEN = 16 };
	static __thread struct {
		char text[MINUTE_LEN];
		uint64_t base_s;
		bool ok;
	} last;
	unsigned y, mo, d, h, mi, sec;
	uint64_t us, ss;

	if (len != RECORD_TIME_LEN || s[16] != ':' || parse_digits(s + 17, 2, &ss) < 0 ||
	    ss > 59 || s[19] != '.' || parse_digits(s + 20, 6, &us) < 0 || s[26] != 'Z')
		return -EBADMSG;
	if (!last.ok || memcmp(s, last.text, MINUTE_LEN) != 0) {
		if (datetime_parse_date(s, &y, &mo, &d) < 0 || s[10] != 'T' ||
		    datetime_parse_hms(s + 11, &h, &mi, &sec) < 0 || y < 1970)
			return -EBADMSG;
		memcpy(last.text, s, MINUTE_LEN);
		last.base_s = (uint64_t)datetime_days_from_civil(y, mo, d) * 86400 + h * 3600u +
			      mi * 60u;
		last.ok = true;
	}
	*ret_time_us = (last.base_s + ss) * 1000000u + us;
	return 0;
}

/* --- numbers -------------------------------------------------------------- */

/* The number of decimal digits of v, 1..20: from the bit length
 * (log10(2) ~ 1233 / 4096), corrected by one compare. */
static unsigned
record_digits(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
		1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
		100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
		1000000000000000000u, 10000000000000000000u,
	};
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;

	return t - (v < pow10[t]) + 1;
}

/* Two digits per division (the digit pairs 00..99), written from the end
 * of the number's own place, whose length is counted first: it runs for
 * every seq, pid and time.  One digit (a uid or gid 0) is one store. */
char *
record_put_u64(char *p, uint64_t v)
{
	char *b, *e;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	b = e = p + record_digits(v);
	for (; v >= 100; v /= 100) {
		b -= 2;
		memcpy(b, record_pairs + 2 * (v % 100), 2);
	}
	if (v >= 10)
		memcpy(b - 2, record_pairs + 2 * v, 2);
	else
		b[-1] = (char)('0' + v);
	return e;
}

int
record_check_csum(const char *line, size_t len)
{
	/* ... SP CSUM LF.  The checksum is formatted and compared rather than
	 * parsed: no branch per digit (parsing was a quarter of verify's CPU),
	 * and only the 16 lowercase digits the encoder writes can match. */
	const char *c;
	char want[RECORD_CSUM_LEN];

	if (len < RECORD_CSUM_LEN + 3 || line[len - 1] != '\n')
		return -EBADMSG;
	c = line + len - 1 - RECORD_CSUM_LEN;
	if (c[-1] != ' ')
		return -EBADMSG;
	hex_put_u64(want, XXH3_64bits(line, (size_t)(c - 1 - line)));
	return memcmp(want, c, RECORD_CSUM_LEN) == 0 ? 0 : -EBADMSG;
}

/* --- records -------------------------------------------------------------- */

size_t
record_line_max(size_t tag_len, size_t payload_len)
{
	/* time, seq, fac.sev, pid, uid, gid, cpid, ctime, separators, csum,
	 * plus (version 2) hostname, msgid and the structured data's "-" */
	return RECORD_TIME_LEN + 1 + 20 + 1 + 24 + 1 + 20 + 1 + 10 + 1 + 10 + 1 + 4 * tag_len + 1 +
	       1 + 20 + 1 + RECORD_TIME_LEN + 1 + 4 * payload_len + 1 + RECORD_CSUM_LEN + 1 + 8 +
	       4 * RECORD_HOST_MAX + 1 + 4 * RECORD_MSGID_MAX + 1 + 2;
}

size_t
record_size_max(const struct record *r)
{
	return record_line_max(r->tag_len, r->msg_len + r->sd_len);
}

/* A field that may be empty and holds no raw SP (tag, hostname, msgid,
 * structured data): "-" when empty, "\x2d" for the one-byte "-", else
 * escaped with SP escaped. */
static char *
record_put_token(char *p, const char *s, size_t n)
{
	if (n == 0) {
		*p++ = '-';
	} else if (n == 1 && s[0] == '-') {
		memcpy(p, "\\x2d", 4);
		p += 4;
	} else {
		p += record_escape(s, n, p, true);
	}
	return p;
}

/* A facility or severity name: 16 bytes copied, its length kept.  The
 * line goes on for more than 16 bytes after either (at least the three
 * ids, the tag, the claims and the checksum), so the copy never writes
 * past the line's end. */
static char *
record_put_name(char *p, const struct record_name *name)
{
	memcpy(p, name->text, sizeof(name->text));
	return p + name->len;
}

/* Appends " CSUM LF" for everything written since buf. */
size_t
record_finish(char *buf, char *p)
{
	uint64_t h = XXH3_64bits(buf, (size_t)(p - buf));
	*p++ = ' ';
	hex_put_u64(p, h);
	p += RECORD_CSUM_LEN;
	*p++ = '\n';
	return (size_t)(p - buf);
}

size_t
record_encode_version(const struct record *r, unsigned version, char *buf)
{
	char *p = buf;

	record_format_time(r->time_us, p);
	p += RECORD_TIME_LEN;
	*p++ = ' ';
	p = record_put_u64(p, r->seq);
	*p++ = ' ';
	p = record_put_name(p, &record_facilities[r->facility % 24]);
	*p++ = '.';
	p = record_put_name(p, &record_severities[r->severity % 8]);
	*p++ = ' ';
	p = record_put_u64(p, (uint64_t)(r->pid < 0 ? 0 : r->pid));
	*p++ = ' ';
	p = record_put_u64(p, r->uid);
	*p++ = ' ';
	p = record_put_u64(p, r->gid);
	*p++ = ' ';
	p = record_put_token(p, r->tag, r->tag_len);
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
	if (version >= 2) {
		p = record_put_token(p, r->hostname, r->hostname_len);
		*p++ = ' ';
		p = record_put_token(p, r->msgid, r->msgid_len);
		*p++ = ' ';
		p = record_put_token(p, r->sd, r->sd_len);
		*p++ = ' ';
	}
	p += record_escape(r->msg, r->msg_len, p, false);
	return record_finish(buf, p);
}

size_t
record_encode(const struct record *r, char *buf)
{
	return record_encode_version(r, RECORD_FORMAT_VERSION, buf);
}

/* Splits the next SP-terminated field off [*pos, end). */
int
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
	if (record_field(pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &r->seq) < 0 ||
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
		    !record_word_eq(dot + 1, n - (size_t)(dot - f) - 1, record_severities[se].text))
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
	if (record_field(pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &v) < 0 ||
	    v > INT64_MAX)
		REJECT("bad pid field");
	r->pid = (int64_t)v;
	if (record_field(pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &v) < 0 ||
	    v > UINT32_MAX)
		REJECT("bad uid field");
	r->uid = (uint32_t)v;
	if (record_field(pos, end, &f, &n) < 0 || parse_u64_canonical(f, n, &v) < 0 ||
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
	else if (parse_u64_canonical(f, n, &v) < 0 || v > INT64_MAX)
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

/* Decodes a token written by record_put_token into scratch: *ret NULL and
 * *ret_len 0 for "-". */
static int
record_decode_token(const char *f, size_t n, size_t max, char **scratch, const char **ret,
		    size_t *ret_len)
{
	ssize_t k;

	if (n == 0)
		return -EBADMSG;
	if (n == 1 && f[0] == '-') {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	if (n == 4 && memcmp(f, "\\x2d", 4) == 0) {
		(*scratch)[0] = '-';
		k = 1;
	} else {
		k = record_unescape_strict(f, n, *scratch, true);
		if (k < 0)
			return -EBADMSG;
		if ((size_t)k > max)
			return -EMSGSIZE;
	}
	*ret = *scratch;
	*ret_len = (size_t)k;
	*scratch += k;
	return 0;
}

static bool
record_is_meta_type(const char *s, size_t n)
{
	if (n == 0 || n > RECORD_META_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return !(n == 6 && memcmp(s, "seglog", 6) == 0);
}

int
record_meta_decode(const char *line, size_t len, char *scratch, const char **ret_type,
		   size_t *ret_type_len, const char **ret_body, size_t *ret_body_len)
{
	const char *pos = line + 1, *end, *type;
	size_t type_n;
	ssize_t k;

	if (len < 2 || line[0] != '#' || record_check_csum(line, len) < 0)
		return -EBADMSG;
	end = line + len - 1 - RECORD_CSUM_LEN;
	if (record_field(&pos, end, &type, &type_n) < 0 || !record_is_meta_type(type, type_n) ||
	    pos > end - 1)
		return -EBADMSG;
	k = record_unescape_strict(pos, (size_t)(end - 1 - pos), scratch, false);
	if (k < 0)
		return -EBADMSG;
	*ret_type = type;
	*ret_type_len = type_n;
	*ret_body = scratch;
	*ret_body_len = (size_t)k;
	return 0;
}

size_t
record_meta_encode(const char *type, size_t type_len, const char *body, size_t body_len,
		   char *buf)
{
	char *p = buf;

	*p++ = '#';
	memcpy(p, type, type_len);
	p += type_len;
	*p++ = ' ';
	p += record_escape(body, body_len, p, false);
	return record_finish(buf, p);
}

/* A '#' line where a record may stand: in version 2 a valid meta line is
 * RECORD_LINE_META (checked without unescaping its body), anything else
 * an error. */
static int
record_check_hash_line(unsigned version, const char *line, size_t len, const char **ret_reason)
{
	const char *pos = line + 1, *end, *type;
	size_t type_n;

	if (len >= 8 && memcmp(line, "#seglog ", 8) == 0)
		REJECT("a segment header where a record was expected");
	if (version < 2)
		REJECT("a '#' line where a record was expected (meta lines exist in version 2)");
	end = line + len - 1 - RECORD_CSUM_LEN;
	if (record_field(&pos, end, &type, &type_n) < 0 || !record_is_meta_type(type, type_n))
		REJECT("bad meta line type");
	if (pos > end - 1)
		REJECT("meta line without a body field"); /* "#TYPE CSUM" */
	return RECORD_LINE_META;
}

/* A meta line's BODY as decoding checks it: escaped like a message (no
 * raw control byte, one encoding for every byte string). */
static int
record_check_meta_body(const char *line, size_t len, char *scratch, const char **ret_reason)
{
	const char *end = line + len - 1 - RECORD_CSUM_LEN, *body = memchr(line, ' ', len);

	if (!body || body + 1 > end - 1 ||
	    record_unescape_strict(body + 1, (size_t)(end - 1 - (body + 1)), scratch, false) < 0)
		REJECT("bad escape or raw control byte in meta line body");
	return RECORD_LINE_META;
}

int
record_decode_version(unsigned version, const char *line, size_t len, char *scratch,
		      struct record *ret, const char **ret_reason)
{
	struct record r = { .claimed_pid = RECORD_NO_CLAIMED_PID };
	const char *pos = line, *end, *f;
	size_t n;
	ssize_t k;

	if (record_check_csum(line, len) < 0)
		REJECT("checksum mismatch or no checksum");
	if (line[0] == '#') {
		k = record_check_hash_line(version, line, len, ret_reason);
		return k == RECORD_LINE_META ? record_check_meta_body(line, len, scratch, ret_reason)
					     : (int)k;
	}
	end = line + len - 1 - RECORD_CSUM_LEN; /* the SP before CSUM ends MSG */
	if (record_parse_head(line, len, &pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	if (record_field(&pos, end, &f, &n) < 0 || n == 0)
		REJECT("missing tag");
	k = record_decode_token(f, n, RECORD_TAG_MAX, &scratch, &r.tag, &r.tag_len);
	if (k == -EMSGSIZE)
		REJECT("tag too long");
	if (k < 0)
		REJECT("bad escape in tag");
	if (!r.tag)
		r.tag = scratch;
	if (record_parse_claims(&pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	if (version >= 2 && (record_field(&pos, end, &f, &n) < 0 ||
			     record_decode_token(f, n, RECORD_HOST_MAX, &scratch, &r.hostname,
						 &r.hostname_len) < 0))
		REJECT("bad hostname field");
	if (version >= 2 && (record_field(&pos, end, &f, &n) < 0 ||
			     record_decode_token(f, n, RECORD_MSGID_MAX, &scratch, &r.msgid,
						 &r.msgid_len) < 0))
		REJECT("bad msgid field");
	if (version >= 2 && (record_field(&pos, end, &f, &n) < 0 ||
			     record_decode_token(f, n, SIZE_MAX, &scratch, &r.sd, &r.sd_len) < 0))
		REJECT("bad structured data field");
	if (pos > end - 1)
		REJECT("missing message");
	/* message: everything up to the SP before CSUM; with nothing to
	 * unescape (printable ASCII, no backslash) it stays in the line */
	n = (size_t)(end - 1 - pos);
	if (utf8_ascii_run((const unsigned char *)pos, n, '\\', '\\') == n) {
		r.msg = pos;
		r.msg_len = n;
		*ret = r;
		return 0;
	}
	k = record_unescape_strict(pos, n, scratch, false);
	if (k < 0)
		REJECT("bad escape or raw control byte in message");
	r.msg = scratch;
	r.msg_len = (size_t)k;
	*ret = r;
	return 0;
}

int
record_decode(const char *line, size_t len, char *scratch, struct record *ret,
	      const char **ret_reason)
{
	return record_decode_version(RECORD_FORMAT_VERSION, line, len, scratch, ret, ret_reason);
}

int
record_check_version(unsigned version, const char *line, size_t len, uint64_t *ret_seq,
		     uint64_t *ret_time_us, const char **ret_reason)
{
	struct record r;
	const char *pos = line, *end;

	if (record_check_csum(line, len) < 0)
		REJECT("checksum mismatch or no checksum");
	if (line[0] == '#')
		return record_check_hash_line(version, line, len, ret_reason);
	end = line + len - 1 - RECORD_CSUM_LEN;
	if (record_parse_head(line, len, &pos, end, &r, ret_reason) < 0)
		return -EBADMSG;
	*ret_seq = r.seq;
	*ret_time_us = r.time_us;
	return 0;
}

int
record_check(const char *line, size_t len, uint64_t *ret_seq, uint64_t *ret_time_us,
	     const char **ret_reason)
{
	return record_check_version(RECORD_FORMAT_VERSION, line, len, ret_seq, ret_time_us,
				    ret_reason);
}
