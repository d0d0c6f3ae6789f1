/* Syslog parsing and RFC 6587 framing.  The "captured" vectors are the
 * exact bytes real senders produced on Debian 12 (util-linux logger 2.38.1,
 * glibc 2.36 syslog(3), Python 3.11 logging.handlers.SysLogHandler),
 * received on a Unix datagram or stream socket; the early-December ones
 * came from logger run with its clock set to 2026-12-05T02:04:05Z.  Each
 * parser vector is a test of its own (a loop test over the tables). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "syslogmsg.h"
#include "testutil.h"

#define LIT(s) (s), (sizeof(s) - 1)
/* An assertion for hot loops: Check's own ck_assert* report every passing
 * check to the parent process, which dominates a 100k-iteration fuzz run. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)
#define US 1000000ull
#define NOV24 (1795515600ull * US)   /* 2026-11-24T10:20:00Z: "now" unless a vector says */
#define T_NOV24 (1795515463ull * US) /* 2026-11-24T10:17:43Z */
#define T_DEC05 (1796436245ull * US) /* 2026-12-05T02:04:05Z */
#define NO_HOST NULL
#define NO_TAG ""
#define NO_PID (-1)
#define NO_TIME 0

/* One parser case: input (NUL bytes allowed), the time it is parsed at, and
 * every field of the expected result. */
struct vector {
	const char *in;
	size_t len;
	uint64_t now_us;
	int32_t utc_offset_s;
	uint8_t facility, severity;
	const char *hostname;
	const char *tag;
	int64_t pid;
	uint64_t time_us;
	const char *msg;
};

/* clang-format off */
#define V(in, fac, sev, host, tag, pid, time, msg) \
	{ LIT(in), NOV24, 0, fac, sev, host, tag, pid, time, msg }
#define V_AT(in, now, off, fac, sev, host, tag, pid, time, msg) \
	{ LIT(in), now, off, fac, sev, host, tag, pid, time, msg }

static const struct vector captured[] = {
	/* logger -u SOCK -t mytag -p local3.warning hello */
	V("<156>Nov 24 10:17:43 mytag: hello", 19, 4, NO_HOST, "mytag", NO_PID, T_NOV24, "hello"),
	/* logger -u SOCK -i -t mytag hello pid */
	V("<13>Nov 24 10:17:43 mytag[12390]: hello pid", 1, 5, NO_HOST, "mytag", 12390, T_NOV24,
	  "hello pid"),
	/* logger -u SOCK hello default-tag (as root) */
	V("<13>Nov 24 10:17:43 root: hello default-tag", 1, 5, NO_HOST, "root", NO_PID, T_NOV24,
	  "hello default-tag"),
	/* logger -u SOCK --rfc3164 -t mytag -p local3.warning hello 3164 */
	V("<156>Nov 24 10:17:43 vm mytag: hello 3164", 19, 4, "vm", "mytag", NO_PID, T_NOV24,
	  "hello 3164"),
	/* logger -u SOCK --rfc3164 -i -t mytag hello 3164pid */
	V("<13>Nov 24 10:17:43 vm mytag[12394]: hello 3164pid", 1, 5, "vm", "mytag", 12394,
	  T_NOV24, "hello 3164pid"),
	/* logger -u SOCK --rfc5424 -t mytag -p local3.warning hello 5424 */
	V("<156>1 2026-11-24T10:17:43.889798+00:00 vm mytag - - [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"] hello 5424",
	  19, 4, "vm", "mytag", NO_PID, T_NOV24 + 889798, "hello 5424"),
	/* logger -u SOCK --rfc5424 -i -t mytag --msgid MID --sd-id x@32473
	 *        --sd-param 'k="v \"q\" \]"' hello sd */
	V("<13>1 2026-11-24T10:17:43.907661+00:00 vm mytag 12391 MID [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"][x@32473 k=\"v \\\"q\\\" \\]\"] hello sd",
	  1, 5, "vm", "mytag", 12391, T_NOV24 + 907661, "hello sd"),
	/* logger -u SOCK --rfc5424=notq -t mytag hello notq */
	V("<13>1 2026-11-24T10:17:43.913540+00:00 vm mytag - - - hello notq", 1, 5, "vm", "mytag",
	  NO_PID, T_NOV24 + 913540, "hello notq"),
	/* logger -u SOCK --rfc5424=notime,nohost -t mytag hello notime */
	V("<13>1 - - mytag - - - hello notime", 1, 5, NO_HOST, "mytag", NO_PID, NO_TIME,
	  "hello notime"),
	/* SysLogHandler(address=SOCK, facility='local1').warning(...) */
	V("<140>python warning\0", 17, 4, NO_HOST, NO_TAG, NO_PID, NO_TIME, "python warning"),
	/* ... with handler.ident = 'pyapp: ', .info(...) */
	V("<142>pyapp: python ident\0", 17, 6, NO_HOST, "pyapp", NO_PID, NO_TIME, "python ident"),
	/* openlog("gtag", LOG_PID, LOG_DAEMON); syslog(LOG_ERR, "glibc %s", "msg") */
	V("<27>Nov 24 10:17:56 gtag[12524]: glibc msg", 3, 3, NO_HOST, "gtag", 12524,
	  T_NOV24 + 13 * US, "glibc msg"),
	/* openlog("gtag2", 0, LOG_USER); syslog(LOG_INFO, "no pid") */
	V("<14>Nov 24 10:17:56 gtag2: no pid", 1, 6, NO_HOST, "gtag2", NO_PID, T_NOV24 + 13 * US,
	  "no pid"),
	/* logger -i -t viadevlog hello devlog, to /dev/log */
	V("<13>Nov 24 10:17:56 viadevlog[12525]: hello devlog", 1, 5, NO_HOST, "viadevlog", 12525,
	  T_NOV24 + 13 * US, "hello devlog"),
	/* glibc syslog(3) on a stream /dev/log: NUL-terminated */
	V("<27>Nov 24 10:18:07 gtag[12638]: glibc msg\0", 3, 3, NO_HOST, "gtag", 12638,
	  T_NOV24 + 24 * US, "glibc msg"),
	/* logger -T -u SOCK ...: the framer removes the LF, the parser would too */
	V("<156>Nov 24 10:18:07 mytag: hello stream\n", 19, 4, NO_HOST, "mytag", NO_PID,
	  T_NOV24 + 24 * US, "hello stream"),
	/* logger -i -t early hello early on 2026-12-05: space-padded day */
	V_AT("<13>Dec  5 02:04:05 early[12725]: hello early", T_DEC05, 0, 1, 5, NO_HOST, "early",
	     12725, T_DEC05, "hello early"),
	/* logger --rfc3164 -t early hello early3164 */
	V_AT("<13>Dec  5 02:04:05 vm early: hello early3164", T_DEC05, 0, 1, 5, "vm", "early",
	     NO_PID, T_DEC05, "hello early3164"),
	/* logger --rfc5424 -t early hello early5424 */
	V("<13>1 2026-12-05T02:04:05.000007+00:00 vm early - - [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"] hello early5424",
	  1, 5, "vm", "early", NO_PID, T_DEC05 + 7, "hello early5424"),
	/* TZ=Europe/Berlin logger --rfc5424 -t early hello berlin */
	V("<13>1 2026-12-05T03:04:05.000007+01:00 vm early - - [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"] hello berlin",
	  1, 5, "vm", "early", NO_PID, T_DEC05 + 7, "hello berlin"),
};

static const struct vector rfc5424[] = {
	/* RFC 5424 §6.5 example 3, with a BOM before MSG */
	V("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 4711 ID47 "
	  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
	  "\xef\xbb\xbf"
	  "An application event log entry...",
	  20, 5, "mymachine.example.com", "evntslog", 4711, 1065910455003000ull,
	  "An application event log entry..."),
	/* every field nil, with or without SP and MSG after the SD */
	V("<0>1 - - - - - -", 0, 0, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	V("<0>1 - - - - - - ", 0, 0, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	V("<0>1 - - - - - - msg", 0, 0, NO_HOST, NO_TAG, NO_PID, NO_TIME, "msg"),
	/* PROCID: numeric (leading zeros, 10 digits) or not */
	V("<13>1 - h app 0042 - - x", 1, 5, "h", "app", 42, NO_TIME, "x"),
	V("<13>1 - h app 4294967295 - - x", 1, 5, "h", "app", 4294967295, NO_TIME, "x"),
	V("<13>1 - h app 12345678901 - - x", 1, 5, "h", "app", NO_PID, NO_TIME, "x"),
	V("<13>1 - h app worker-3 - - x", 1, 5, "h", "app", NO_PID, NO_TIME, "x"),
	/* TIMESTAMP offsets and fractions */
	V("<13>1 2026-12-04T22:34:05-03:30 h a - - - x", 1, 5, "h", "a", NO_PID, T_DEC05, "x"),
	V("<13>1 2026-12-05T02:04:05Z h a - - - x", 1, 5, "h", "a", NO_PID, T_DEC05, "x"),
	V("<13>1 2026-12-05t02:04:05z h a - - - x", 1, 5, "h", "a", NO_PID, T_DEC05, "x"),
	V("<13>1 2026-12-05T02:04:05.123456789Z h a - - - x", 1, 5, "h", "a", NO_PID,
	  T_DEC05 + 123456, "x"),
	V("<13>1 2026-12-05T02:04:05.5Z h a - - - x", 1, 5, "h", "a", NO_PID, T_DEC05 + 500000,
	  "x"),
	/* a bad TIMESTAMP only loses the time */
	V("<13>1 2026-13-01T00:00:00Z h a - - - m", 1, 5, "h", "a", NO_PID, NO_TIME, "m"),
	V("<13>1 2026-11-24T10:17:43 h a - - - m", 1, 5, "h", "a", NO_PID, NO_TIME, "m"),
	V("<13>1 2026-11-24T10:17:43.Z h a - - - m", 1, 5, "h", "a", NO_PID, NO_TIME, "m"),
	V("<13>1 1969-12-31T23:59:59Z h a - - - m", 1, 5, "h", "a", NO_PID, NO_TIME, "m"),
	/* SD: escaped ']' and '"', '[' and ']' inside values, several elements */
	V("<13>1 - h a - - [id k=\"a\\]b\\\"c[d\\\\\"][id2 x=\"]\"] m", 1, 5, "h", "a", NO_PID,
	  NO_TIME, "m"),
	V("<13>1 - h a - - [id k=\"\\\\\"] m2", 1, 5, "h", "a", NO_PID, NO_TIME, "m2"),
	V("<13>1 - h a - - [id k=\"v\"]", 1, 5, "h", "a", NO_PID, NO_TIME, ""),
	V("<13>1 - h a - - [x] \xef\xbb\xbfutf8", 1, 5, "h", "a", NO_PID, NO_TIME, "utf8"),
	V("<13>1 - h a - - - a\xef\xbb\xbf", 1, 5, "h", "a", NO_PID, NO_TIME, "a\xef\xbb\xbf"),
	V("<13>1 - h a - - - \xef\xbb", 1, 5, "h", "a", NO_PID, NO_TIME, "\xef\xbb"),
	/* not RFC 5424: the rest after the PRI is the message */
	V("<13>1 - h a - - [id k=\"v] m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "1 - h a - - [id k=\"v] m"),
	V("<13>1 - h a - - [id k=\"v\\\"]", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "1 - h a - - [id k=\"v\\\"]"),
	V("<13>1 - h a -", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "1 - h a -"),
	V("<13>1 - h a - - x msg", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "1 - h a - - x msg"),
	V("<13>1  - h a - - - msg", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "1  - h a - - - msg"),
	V("<13>2 - h a - - - msg", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "2 - h a - - - msg"),
};

static const struct vector rfc3164[] = {
	/* RFC 3164 §5.4 examples 1 and 3 */
	V("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", 4, 2,
	  "mymachine", "su", NO_PID, 1791756855ull * US,
	  "'su root' failed for lonvick on /dev/pts/8"),
	V("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", 1, 5, "10.0.0.99", NO_TAG, NO_PID,
	  1770312738ull * US, "Use the BFG!"),
	/* zero-padded day */
	V_AT("<13>Dec 05 02:04:05 vm early: x", T_DEC05, 0, 1, 5, "vm", "early", NO_PID, T_DEC05,
	     "x"),
	/* hostname rules: IPv6, not a hostname word, last word, tag-only characters */
	V("<13>Nov 24 10:17:43 fe80::1 tag: m", 1, 5, "fe80::1", "tag", NO_PID, T_NOV24, "m"),
	V("<13>Nov 24 10:17:43 hello, world", 1, 5, NO_HOST, NO_TAG, NO_PID, T_NOV24,
	  "hello, world"),
	V("<13>Nov 24 10:17:43 alone", 1, 5, NO_HOST, NO_TAG, NO_PID, T_NOV24, "alone"),
	V("<13>Nov 24 10:17:43 host my/prog.d-1: m", 1, 5, "host", "my/prog.d-1", NO_PID, T_NOV24,
	  "m"),
	V("<13>Nov 24 10:17:43 tag:", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, ""),
	V("<13>Nov 24 10:17:43 some text: here", 1, 5, "some", "text", NO_PID, T_NOV24, "here"),
	/* TAG forms */
	V("<13>Nov 24 10:17:43 tag:nospace", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, "nospace"),
	V("<13>Nov 24 10:17:43 tag:  two", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, " two"),
	V("<13>Nov 24 10:17:43 tag[abc]: m", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, "m"),
	V("<13>Nov 24 10:17:43 tag[]: m", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, "m"),
	V("<13>Nov 24 10:17:43 tag[12] m", 1, 5, NO_HOST, NO_TAG, NO_PID, T_NOV24, "tag[12] m"),
	V("<13>Nov 24 10:17:43 tag[12", 1, 5, NO_HOST, NO_TAG, NO_PID, T_NOV24, "tag[12"),
	V("<13>Nov 24 10:17:43 tag[12345678901]: m", 1, 5, NO_HOST, "tag", NO_PID, T_NOV24, "m"),
	/* no TIMESTAMP: TAG right after the PRI, never a HOSTNAME */
	V("<30>sshd[991]: Accepted key", 3, 6, NO_HOST, "sshd", 991, NO_TIME, "Accepted key"),
	V("<30>host tag: m", 3, 6, NO_HOST, NO_TAG, NO_PID, NO_TIME, "host tag: m"),
	V("<13>some text: here", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "some text: here"),
	/* not a TIMESTAMP */
	V("<13>Foo 24 10:17:43 tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "Foo 24 10:17:43 tag: m"),
	V("<13>Nov 24 10:17:43x tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "Nov 24 10:17:43x tag: m"),
	V("<13>Nov 24 25:17:43 tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "Nov 24 25:17:43 tag: m"),
	V("<13>Nov 24 10:17", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "Nov 24 10:17"),
	V("<13>Nov 24 10:17:43", 1, 5, NO_HOST, NO_TAG, NO_PID, T_NOV24, ""),
	/* rsyslog's forwarding format: RFC 3339 TIMESTAMP */
	V("<13>2026-11-24T10:17:43.5+00:00 web1 app[7]: m", 1, 5, "web1", "app", 7,
	  T_NOV24 + 500000, "m"),
	/* the year: December's message read in January is last year's; up to a
	 * week ahead is this year's, more is last year's; Feb 29 */
	V_AT("<13>Dec 31 23:00:00 t: m", 1798848000ull * US, 0, 1, 5, NO_HOST, "t", NO_PID,
	     1798758000ull * US, "m"),
	V("<13>Nov 30 00:00:00 t: m", 1, 5, NO_HOST, "t", NO_PID, 1795996800ull * US, "m"),
	V("<13>Dec  2 00:00:00 t: m", 1, 5, NO_HOST, "t", NO_PID, 1764633600ull * US, "m"),
	V_AT("<13>Feb 29 12:00:00 t: m", 1709208000ull * US, 0, 1, 5, NO_HOST, "t", NO_PID,
	     1709208000ull * US, "m"),
	/* syslog_parse_local: the sender's zone converts the wall clock; not
	 * RFC 5424's, which carries its own */
	V_AT("<13>Dec  5 03:04:05 early: m", T_DEC05, 3600, 1, 5, NO_HOST, "early", NO_PID,
	     T_DEC05, "m"),
	V_AT("<13>Dec  4 21:04:05 early: m", T_DEC05, -5 * 3600, 1, 5, NO_HOST, "early", NO_PID,
	     T_DEC05, "m"),
	V_AT("<13>1 2026-12-05T02:04:05Z h a - - - x", T_DEC05, 3600, 1, 5, "h", "a", NO_PID,
	     T_DEC05, "x"),
};

static const struct vector degenerate[] = {
	/* PRI extremes; leading zeros tolerated */
	V("<0>x: m", 0, 0, NO_HOST, "x", NO_PID, NO_TIME, "m"),
	V("<191>x: m", 23, 7, NO_HOST, "x", NO_PID, NO_TIME, "m"),
	V("<7>m", 0, 7, NO_HOST, NO_TAG, NO_PID, NO_TIME, "m"),
	V("<013>m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "m"),
	V("<1>", 0, 1, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	/* invalid or missing PRI: all of it is the message, user.notice */
	V("<192>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<192>tag: m"),
	V("<>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<>tag: m"),
	V("<1234>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<1234>tag: m"),
	V("<a>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<a>tag: m"),
	V("<13tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<13tag: m"),
	V("<-1>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<-1>tag: m"),
	V(" <13>tag: m", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, " <13>tag: m"),
	V("<13", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<13"),
	V("<", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<"),
	V("Nov 24 10:17:43 host tag[1]: hello", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME,
	  "Nov 24 10:17:43 host tag[1]: hello"),
	V("just text\n", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "just text"),
	/* empty, and trailing LF/NUL bytes (several) */
	V("", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	V("\n\0\n", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	V("<13>tag: m\n\0\0\n\n", 1, 5, NO_HOST, "tag", NO_PID, NO_TIME, "m"),
	V("<13>tag: a\nb\n", 1, 5, NO_HOST, "tag", NO_PID, NO_TIME, "a\nb"),
	V("<13>1 - h a - - - m\0", 1, 5, "h", "a", NO_PID, NO_TIME, "m"),
	V("<13>\n", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, ""),
	V("<13\n>", 1, 5, NO_HOST, NO_TAG, NO_PID, NO_TIME, "<13\n>"),
};
/* clang-format on */

static bool
span_eq(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && (n == 0 || memcmp(p, want, n) == 0);
}

#define assert_span(what, p, n, want)                                                              \
	ck_assert_msg(span_eq((p), (n), (want)), "%s: got \"%.*s\" (%zu bytes), want \"%s\"",      \
		      (what), (int)(n), (p) ? (p) : "", (size_t)(n), (want))

/* Every pointer of the result lies within the input. */
static void
assert_within(const char *buf, size_t len, const struct syslog_msg *r)
{
	CHECK(r->msg >= buf && r->msg_len <= len && r->msg + r->msg_len <= buf + len);
	CHECK(r->tag_len == 0 || (r->tag >= buf && r->tag + r->tag_len <= buf + len));
	CHECK(r->tag_len <= 255);
	CHECK(r->hostname ? r->hostname >= buf && r->hostname + r->hostname_len <= buf + len &&
				r->hostname_len > 0
			  : r->hostname_len == 0);
	CHECK(r->facility <= 23 && r->severity <= 7 && r->claimed_pid >= -1);
}

/* Parses an exact-size heap copy of the vector (so that ASan and valgrind
 * catch any read past len) and compares every field. */
static void
check_vector(const struct vector *v)
{
	_cleanup_free_ char *buf = malloc(v->len ? v->len : 1);
	struct syslog_msg m;
	size_t end = v->len;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, v->in, v->len);
	if (v->utc_offset_s == 0)
		syslog_parse(buf, v->len, v->now_us, &m);
	else
		syslog_parse_local(buf, v->len, v->now_us, v->utc_offset_s, &m);
	assert_within(buf, v->len, &m);
	ck_assert_msg(m.facility == v->facility && m.severity == v->severity,
		      "%s: PRI %u.%u, want %u.%u", v->in, m.facility, m.severity, v->facility,
		      v->severity);
	if (v->hostname)
		assert_span("hostname", m.hostname, m.hostname_len, v->hostname);
	else
		ck_assert_msg(!m.hostname, "%s: unexpected hostname \"%.*s\"", v->in,
			      (int)m.hostname_len, m.hostname);
	assert_span("tag", m.tag, m.tag_len, v->tag);
	ck_assert_msg(m.claimed_pid == v->pid, "%s: pid %lld, want %lld", v->in,
		      (long long)m.claimed_pid, (long long)v->pid);
	ck_assert_msg(m.claimed_time_us == v->time_us, "%s: time %llu, want %llu", v->in,
		      (unsigned long long)m.claimed_time_us, (unsigned long long)v->time_us);
	assert_span("msg", m.msg, m.msg_len, v->msg);
	/* the message runs to the end of the input, less trailing LF/NUL */
	while (end > 0 && (v->in[end - 1] == '\n' || v->in[end - 1] == '\0'))
		end--;
	ck_assert_ptr_eq(m.msg + m.msg_len, buf + end);
}

/* An impossible date is no claimed time, and the rest parses as usual
 * (a hostile test: 2026-02-31 became March 3). */
/* The last RFC 3164 timestamp converted is kept: the same text at
 * another now (a new year) or in another zone is converted anew, and
 * alternating between them gives each its own time. */
START_TEST(test_bsd_time_cache)
{
	static const char line[] = "<13>Dec 31 23:00:00 t: m";
	static const struct {
		uint64_t now_s;
		int32_t offset;
		uint64_t want_s;
	} at[] = {
		{ 1798848000u, 0, 1798758000u },    /* 2027-01-01: last year's Dec 31 */
		{ 1767225600u, 0, 1767222000u },    /* 2026-01-01: 2025-12-31 */
		{ 1798848000u, 3600, 1798754400u }, /* the same now, UTC+1 */
		{ 1798848000u, 0, 1798758000u },
	};
	struct syslog_msg m;

	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			syslog_parse_local(line, sizeof(line) - 1, at[i].now_s * US + 5, at[i].offset,
					   &m);
			ck_assert_uint_eq(m.claimed_time_us, at[i].want_s * US);
			ck_assert_uint_eq(m.tag_len, 1);
		}
	/* a text that differs only in the seconds, at the same now */
	syslog_parse_local("<13>Dec 31 23:00:01 t: m", 24, at[0].now_s * US, 0, &m);
	ck_assert_uint_eq(m.claimed_time_us, (at[0].want_s + 1) * US);
	/* not a timestamp after one was kept: no claim, all of it the message */
	syslog_parse_local("<13>Dec 31 23:00:0x t: m", 24, at[0].now_s * US, 0, &m);
	ck_assert_uint_eq(m.claimed_time_us, 0);
}
END_TEST

START_TEST(test_impossible_dates)
{
	struct syslog_msg m;
	static const char *const in[] = {
		"<13>1 2026-02-31T00:00:00Z host app - - - bad day",
		"<13>1 2026-04-31T10:00:00Z host app - - - bad day",
		"<13>1 2025-02-29T10:00:00Z host app - - - bad day",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		syslog_parse(in[i], strlen(in[i]), 1795510955123456u, &m);
		ck_assert_msg(m.claimed_time_us == 0, "%s: claimed %llu", in[i],
			      (unsigned long long)m.claimed_time_us);
		ck_assert_uint_eq(m.tag_len, 3);
		ck_assert_uint_eq(m.hostname_len, 4);
	}
	syslog_parse("<13>1 2024-02-29T10:00:00Z host app - - - leap", 46, 1795510955123456u, &m);
	ck_assert_uint_ne(m.claimed_time_us, 0);
	/* RFC 3164: Feb 30 is a timestamp without a claim; the TAG still parses */
	syslog_parse("<13>Feb 30 10:00:00 app: x", 26, 1795510955123456u, &m);
	ck_assert_uint_eq(m.claimed_time_us, 0);
	ck_assert_int_eq(memcmp(m.tag, "app", 3), 0);
	syslog_parse("<13>Feb 28 10:00:00 app: x", 26, 1795510955123456u, &m);
	ck_assert_uint_ne(m.claimed_time_us, 0);
}
END_TEST

START_TEST(test_captured)
{
	check_vector(&captured[_i]);
}
END_TEST

START_TEST(test_rfc5424)
{
	check_vector(&rfc5424[_i]);
}
END_TEST

START_TEST(test_rfc3164)
{
	check_vector(&rfc3164[_i]);
}
END_TEST

START_TEST(test_degenerate)
{
	check_vector(&degenerate[_i]);
}
END_TEST

START_TEST(test_invalid_pri_keeps_input)
{
	static const char in[] = "<192>x";
	struct syslog_msg m;

	syslog_parse(LIT(in), NOV24, &m);
	ck_assert_ptr_eq(m.msg, in);
	ck_assert_uint_eq(m.msg_len, 6);
	syslog_parse(NULL, 0, NOV24, &m);
	ck_assert_uint_eq(m.msg_len, 0);
	ck_assert_uint_eq(m.tag_len, 0);
}
END_TEST

START_TEST(test_tag_length)
{
	char buf[600];
	struct syslog_msg m;
	int n;

	n = snprintf(buf, sizeof(buf), "<13>%0255d: m", 7);
	syslog_parse(buf, (size_t)n, NOV24, &m);
	ck_assert_uint_eq(m.tag_len, 255);
	assert_span("msg", m.msg, m.msg_len, "m");

	n = snprintf(buf, sizeof(buf), "<13>%0256d: m", 7);
	syslog_parse(buf, (size_t)n, NOV24, &m);
	ck_assert_uint_eq(m.tag_len, 0);
	ck_assert_uint_eq(m.msg_len, 256 + 3);
}
END_TEST

/* --- fuzz: parser ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* clang-format off */
static const char *const fuzz_tokens[] = {
	"<13>", "<191>", "<0>", "<192>", "<", ">", "1 ", "1", " ", "  ", "-", "- ", "[", "]",
	"\"", "\\", "=", ":", ": ", "tag", "[123]", "[", "host ", "\n", "", "\xef\xbb\xbf",
	"2026-11-24T10:17:43.889798+00:00 ", "2026-11-24T10:17:43Z", "Nov 24 10:17:43 ",
	"Dec  5 02:04:05", "Feb 29 12:00:00 ", "[id k=\"v\"]", "x@1 a=\"\\]\"", "12345678901",
	"9", "0", "\xff", "fe80::1 ",
};

/* Well-formed messages that mutations start from. */
static const char *const fuzz_seeds[] = {
	"<156>Nov 24 10:17:43 mytag: hello",
	"<13>Nov 24 10:17:43 vm mytag[12394]: hello 3164pid",
	"<13>Dec  5 02:04:05 early[12725]: hello early",
	"<13>1 2026-11-24T10:17:43.907661+00:00 vm mytag 12391 MID [timeQuality "
	"tzKnown=\"1\" isSynced=\"0\"][x@32473 k=\"v \\\"q\\\" \\]\"] hello sd",
	"<13>1 - - mytag - - - \xef\xbb\xbfhello notime",
	"<142>pyapp: python ident",
	"<13>2026-11-24T10:17:43.5+00:00 web1 app[7]: m",
};
/* clang-format on */

static void
fuzz_append_token(char *buf, size_t *n, size_t cap)
{
	const char *t = fuzz_tokens[rng() % (sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))];
	size_t tl = strlen(t) ? strlen(t) : 1; /* "" stands for a NUL byte */

	if (*n + tl <= cap) {
		memcpy(buf + *n, t, tl);
		*n += tl;
	}
}

/* A random buffer: raw bytes, a concatenation of syslog-ish tokens, or a
 * real message with a few bytes overwritten, cut out or inserted, so that
 * the deep paths are reached and not just the PRI check. */
static size_t
fuzz_fill(char *buf, size_t cap)
{
	size_t n = 0;

	switch (rng() % 3) {
	case 0:
		n = rng() % cap;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)rng();
		return n;
	case 1:
		for (unsigned k = (unsigned)(rng() % 24); k > 0; k--)
			fuzz_append_token(buf, &n, cap);
		break;
	default: {
		const char *seed = fuzz_seeds[rng() % (sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]))];
		char tail[512];
		size_t at, tn;

		n = strlen(seed);
		CHECK(n <= cap);
		memcpy(buf, seed, n);
		for (unsigned k = (unsigned)(rng() % 4); k > 0 && n > 0; k--) {
			at = rng() % n;
			switch (rng() % 3) {
			case 0: /* overwrite a byte */
				buf[at] = "<>[]\\\" :-0123\n"[rng() % 14];
				break;
			case 1: /* cut a range */
				tn = rng() % (n - at + 1);
				memmove(buf + at, buf + at + tn, n - at - tn);
				n -= tn;
				break;
			default: /* insert a token */
				tn = n - at;
				memcpy(tail, buf + at, tn);
				n = at;
				fuzz_append_token(buf, &n, cap - tn);
				memcpy(buf + n, tail, tn);
				n += tn;
				break;
			}
		}
		break;
	}
	}
	if (n > 0 && rng() % 4 == 0) /* end inside a field */
		n = rng() % n;
	return n;
}

START_TEST(test_fuzz_parse)
{
	char src[512];
	unsigned parsed_tags = 0, parsed_hosts = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 100000; i++) {
		size_t n = fuzz_fill(src, sizeof(src));
		uint64_t now = rng() % (4102444800ull * US); /* up to 2100 */
		_cleanup_free_ char *buf = malloc(n ? n : 1);
		struct syslog_msg r;

		CHECK(buf);
		memcpy(buf, src, n);
		syslog_parse_local(buf, n, now, (int32_t)(rng() % 100801) - 50400, &r);
		assert_within(buf, n, &r);
		CHECK(r.msg_len == 0 ||
		      (r.msg[r.msg_len - 1] != '\n' && r.msg[r.msg_len - 1] != '\0'));
		parsed_tags += r.tag_len > 0;
		parsed_hosts += r.hostname != NULL;
	}
	/* the generator does reach the interesting paths */
	ck_assert_uint_gt(parsed_tags, 1000);
	ck_assert_uint_gt(parsed_hosts, 1000);
}
END_TEST

/* --- framing ----------------------------------------------------------------- */

enum { EV_MAX = 64, EV_TEXT = 128 };

/* What a caller saw on one connection: messages (or "!EMSGSIZE",
 * "!EBADMSG"), in order. */
struct events {
	char text[EV_MAX][EV_TEXT];
	int n;
	int oversize;
	bool bad;
};

static void
events_add(struct events *ev, const char *p, size_t n)
{
	CHECK(ev->n < EV_MAX);
	CHECK(n < EV_TEXT);
	memcpy(ev->text[ev->n], p, n);
	ev->text[ev->n][n] = '\0';
	ev->n++;
}

/* Feeds a stream to a framer the way conn.c does, with a buffer of
 * max + 10 bytes, in chunks of `chunk` bytes (0: random 1..64), and checks
 * the framer's contract on every call. */
static void
feed(const char *stream, size_t len, size_t max, size_t chunk, struct events *ev)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	size_t cap = max + 10, have = 0, pos = 0;
	_cleanup_free_ char *buf = malloc(cap);

	CHECK(buf);
	memset(ev, 0, sizeof(*ev));
	while (!ev->bad) {
		size_t want = chunk ? chunk : 1 + (size_t)(rng() % 64);
		size_t n = want < cap - have ? want : cap - have;
		bool input_done;

		n = n < len - pos ? n : len - pos;
		memcpy(buf + have, stream + pos, n);
		have += n;
		pos += n;
		input_done = pos == len;
		for (;;) {
			const char *msg = NULL;
			size_t mlen = 0, used = 12345;
			_cleanup_free_ char *exact = malloc(have ? have : 1);
			int k;

			/* an exact-size copy so that reads past `have` are caught */
			CHECK(exact);
			memcpy(exact, buf, have);
			k = syslog_frame_next(&f, exact, have, max, &msg, &mlen, &used);
			CHECK(used <= have);
			if (k == 1) {
				CHECK(msg >= exact && msg + mlen <= exact + used);
				CHECK(mlen <= max);
				events_add(ev, msg, mlen);
			} else if (k == -EMSGSIZE) {
				CHECK(used > 0);
				ev->oversize++;
				events_add(ev, "!EMSGSIZE", 9);
			} else if (k == -EBADMSG) {
				ev->bad = true;
				events_add(ev, "!EBADMSG", 8);
				break;
			} else {
				CHECK(k == 0);
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			if (k == 0 && used == 0)
				break;
		}
		/* a full buffer that the framer cannot use would hang a client */
		CHECK(ev->bad || have < cap); /* else: stuck with a full buffer */
		if (input_done)
			break;
	}
}

static void
assert_events(const struct events *ev, const char *const *want, int n)
{
	ck_assert_int_eq(ev->n, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(ev->text[i], want[i]);
}

/* Streams and what a caller must see, however they are chunked: messages,
 * "!EMSGSIZE" and "!EBADMSG", in order (want ends with NULL). */
struct stream_case {
	const char *in;
	size_t len;
	size_t max;
	const char *want[8];
};

#define LF_ONE "<13>Nov 24 10:18:07 multi: line one"
#define LF_TWO "<13>Nov 24 10:18:07 multi: line two"
#define OCT5424                                                                                    \
	"<13>1 2026-11-24T10:18:07.131530+00:00 vm mytag - - [timeQuality tzKnown=\"1\" "          \
	"isSynced=\"0\"] hello octet5424"

/* clang-format off */
static const struct stream_case streams[] = {
	/* captured: logger -T -u SOCK -t mytag -p local3.warning hello stream */
	{ LIT("<156>Nov 24 10:18:07 mytag: hello stream\n"), 200,
	  { "<156>Nov 24 10:18:07 mytag: hello stream" } },
	/* captured: printf 'line one\nline two\n' | logger -T -u SOCK -t multi;
	 * also with max the exact message length */
	{ LIT(LF_ONE "\n" LF_TWO "\n"), 200, { LF_ONE, LF_TWO } },
	{ LIT(LF_ONE "\n" LF_TWO "\n"), 35, { LF_ONE, LF_TWO } },
	/* captured: SysLogHandler(address=SOCK, socktype=SOCK_STREAM), two records */
	{ LIT("<12>py stream one\0<11>py stream two\0"), 100,
	  { "<12>py stream one", "<11>py stream two" } },
	/* captured: glibc syslog(3) on a stream /dev/log */
	{ LIT("<27>Nov 24 10:18:07 gtag[12638]: glibc msg\0"), 100,
	  { "<27>Nov 24 10:18:07 gtag[12638]: glibc msg" } },
	/* captured: logger --octet-count -T -u SOCK -t mytag hello octet (and --rfc5424) */
	{ LIT("38 <13>Nov 24 10:18:07 mytag: hello octet"), 100,
	  { "<13>Nov 24 10:18:07 mytag: hello octet" } },
	{ LIT("106 " OCT5424), 200, { OCT5424 } },
	/* captured: printf 'line one\nline two\n' | logger --octet-count -T -u SOCK -t multi */
	{ LIT("35 " LF_ONE "35 " LF_TWO), 100, { LF_ONE, LF_TWO } },
	{ LIT("35 " LF_ONE "35 " LF_TWO), 35, { LF_ONE, LF_TWO } },
	/* empty lines are dropped */
	{ LIT("\n\n\nabc\n\n\0\ndef\n\n"), 20, { "abc", "def" } },
	{ LIT("\n\n\n"), 20, { NULL } },
	/* the mode is chosen once: a later digit is just a line, a later '<' a
	 * bad count; newline framing when the first byte is neither */
	{ LIT("<13>a\n12 bcdefghijklmno\n"), 40, { "<13>a", "12 bcdefghijklmno" } },
	{ LIT("3 abc<13>x\n"), 40, { "abc", "!EBADMSG" } },
	{ LIT("hello\n5 world\n"), 40, { "hello", "5 world" } },
	/* stray LF/NUL between octet-counted frames */
	{ LIT("3 abc\n\n4 defg\0002 hi"), 40, { "abc", "defg", "hi" } },
	/* too long, max 10: reported once and dropped whatever the chunking */
	{ LIT("short\n012345678901234567890123456789\nok\n0123456789\n01234567890\nend\n"), 10,
	  { "short", "!EMSGSIZE", "ok", "0123456789", "!EMSGSIZE", "end" } },
	{ LIT("5 short30 012345678901234567890123456789" "2 ok11 01234567890" "10 0123456789"), 10,
	  { "short", "!EMSGSIZE", "ok", "!EMSGSIZE", "0123456789" } },
};
/* clang-format on */

/* Feeds the stream whole, byte by byte and in random chunks; all must see
 * the same events. */
START_TEST(test_frame_stream)
{
	const struct stream_case *c = &streams[_i];
	struct events ev;
	int n = 0;

	while (n < 8 && c->want[n])
		n++;
	feed(c->in, c->len, c->max, c->len ? c->len : 1, &ev);
	assert_events(&ev, c->want, n);
	feed(c->in, c->len, c->max, 1, &ev);
	assert_events(&ev, c->want, n);
	rng_state = 42 + (uint64_t)_i;
	for (int i = 0; i < 20; i++) {
		feed(c->in, c->len, c->max, 0, &ev);
		assert_events(&ev, c->want, n);
	}
}
END_TEST

/* A framed message goes to the parser as it is. */
START_TEST(test_frame_then_parse)
{
	static const char in[] = "106 " OCT5424;
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	struct syslog_msg m;
	const char *msg;
	size_t mlen, used;

	ck_assert_int_eq(syslog_frame_next(&f, LIT(in), 200, &msg, &mlen, &used), 1);
	ck_assert_int_eq(f.mode, SYSLOG_FRAMING_OCTET);
	ck_assert_uint_eq(used, sizeof(in) - 1);
	syslog_parse(msg, mlen, NOV24, &m);
	assert_span("tag", m.tag, m.tag_len, "mytag");
	assert_span("msg", m.msg, m.msg_len, "hello octet5424");
	ck_assert_uint_eq(m.claimed_time_us, T_NOV24 + 24 * US + 131530);
}
END_TEST

START_TEST(test_frame_lf_too_long_state)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	const char *msg;
	size_t mlen, used;

	/* 12 bytes without LF, max 10: reported, all consumed, skipping on */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("<13>aaaaaaaa"), 10, &msg, &mlen, &used),
			 -EMSGSIZE);
	ck_assert_uint_eq(used, 12);
	ck_assert(f.skip_to_lf);
	/* more of the same line: dropped silently */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("bbbbbbbbbbbbbbbbbbbb"), 10, &msg, &mlen, &used),
			 0);
	ck_assert_uint_eq(used, 20);
	ck_assert(f.skip_to_lf);
	/* its end and the next message in one buffer */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("cc\n<13>ok\nrest"), 10, &msg, &mlen, &used), 1);
	ck_assert(!f.skip_to_lf);
	ck_assert_uint_eq(used, 10);
	assert_span("msg", msg, mlen, "<13>ok");
	/* a partial line: nothing consumed, wait */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("rest"), 10, &msg, &mlen, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(f.scanned, 4); /* not searched again */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("rest\n"), 10, &msg, &mlen, &used), 1);
	assert_span("msg", msg, mlen, "rest");
	/* a too-long line whose LF is in the buffer: consumed whole */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("01234567890\nx\n"), 10, &msg, &mlen, &used),
			 -EMSGSIZE);
	ck_assert_uint_eq(used, 12);
	ck_assert(!f.skip_to_lf);
}
END_TEST

START_TEST(test_frame_octet_too_long_state)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	const char *msg;
	size_t mlen, used;

	/* LEN 30 > max 10 with 5 bytes of it here: consume 8, skip 25 more */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("30 abcde"), 10, &msg, &mlen, &used), -EMSGSIZE);
	ck_assert_uint_eq(used, 8);
	ck_assert_uint_eq(f.skip, 25);
	ck_assert_int_eq(syslog_frame_next(&f, LIT("0123456789"), 10, &msg, &mlen, &used), 0);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(f.skip, 15);
	/* the rest of it, then the next frame, in one buffer */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("0123456789abcde2 ok"), 10, &msg, &mlen, &used),
			 1);
	ck_assert_uint_eq(f.skip, 0);
	ck_assert_uint_eq(used, 19);
	assert_span("msg", msg, mlen, "ok");
	/* a whole too-long frame in the buffer: consumed, no skip left */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("11 01234567890x"), 10, &msg, &mlen, &used),
			 -EMSGSIZE);
	ck_assert_uint_eq(used, 14);
	ck_assert_uint_eq(f.skip, 0);
	/* the largest LEN: 9 digits */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("999999999 x"), 10, &msg, &mlen, &used),
			 -EMSGSIZE);
	ck_assert_uint_eq(used, 11);
	ck_assert_uint_eq(f.skip, 999999999 - 1);
}
END_TEST

START_TEST(test_frame_octet_bad_count)
{
	static const char *const bad[] = {
	    "01 a", "0 ", "1234567890 a", "12x", "3\tabc", "5 hello\rx",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct syslog_framer f = {.mode = SYSLOG_FRAMING_OCTET};
		const char *msg;
		size_t mlen, used, l = strlen(bad[i]);
		int k = syslog_frame_next(&f, bad[i], l, 100, &msg, &mlen, &used);

		if (k == 1) /* "5 hello" then the bad "\rx" */
			k = syslog_frame_next(&f, bad[i] + used, l - used, 100, &msg, &mlen, &used);
		ck_assert_msg(k == -EBADMSG, "%s: %d", bad[i], k);
	}
	/* 9 digits so far without SP: wait, not an error */
	{
		struct syslog_framer f = SYSLOG_FRAMER_INIT;
		const char *msg;
		size_t mlen, used;

		ck_assert_int_eq(syslog_frame_next(&f, LIT("123456789"), 100, &msg, &mlen, &used),
				 0);
		ck_assert_uint_eq(used, 0);
		ck_assert_int_eq(f.mode, SYSLOG_FRAMING_OCTET);
	}
}
END_TEST

START_TEST(test_frame_need_more)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	const char *msg;
	size_t mlen, used;

	ck_assert_int_eq(syslog_frame_next(&f, "", 0, 10, &msg, &mlen, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(f.mode, SYSLOG_FRAMING_UNKNOWN);
	ck_assert_int_eq(syslog_frame_next(&f, LIT("5 abc"), 10, &msg, &mlen, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(syslog_frame_next(&f, LIT("5 abcde5 fg"), 10, &msg, &mlen, &used), 1);
	ck_assert_uint_eq(used, 7);
	assert_span("msg", msg, mlen, "abcde");
}
END_TEST

/* The end of the stream: an unterminated last line is a message, after
 * the LF/NUL bytes before it; an octet-counted frame cut short is not; the
 * rest of a too-long message being dropped is nothing. */
START_TEST(test_frame_end)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	const char *msg = NULL;
	size_t mlen = 0, used;

	ck_assert_int_eq(syslog_frame_end(&f, "", 0, 10, &msg, &mlen), 0);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("\n\0\n"), 10, &msg, &mlen), 0);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("\n\0<13>last"), 10, &msg, &mlen), 1);
	assert_span("msg", msg, mlen, "<13>last");
	ck_assert_int_eq(syslog_frame_end(&f, LIT("<13>too long"), 10, &msg, &mlen), -EMSGSIZE);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("12 <13>abc"), 100, &msg, &mlen), -ENODATA);

	/* newline framing chosen: a leading digit is then text */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("<13>a\n5 x"), 10, &msg, &mlen, &used), 1);
	ck_assert_uint_eq(used, 6);
	ck_assert_int_eq(syslog_frame_next(&f, LIT("5 x"), 10, &msg, &mlen, &used), 0);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("5 x"), 10, &msg, &mlen), 1);
	assert_span("msg", msg, mlen, "5 x");
	/* a too-long line being dropped up to its LF */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("0123456789abc"), 10, &msg, &mlen, &used),
			 -EMSGSIZE);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("def"), 10, &msg, &mlen), 0);

	/* octet counting chosen: what is left is a frame cut short */
	f = SYSLOG_FRAMER_INIT;
	ck_assert_int_eq(syslog_frame_next(&f, LIT("2 ok<13>"), 10, &msg, &mlen, &used), 1);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("<13>"), 10, &msg, &mlen), -ENODATA);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("\n"), 10, &msg, &mlen), 0);
	/* the rest of a too-long frame still to come */
	ck_assert_int_eq(syslog_frame_next(&f, LIT("30 abc"), 10, &msg, &mlen, &used), -EMSGSIZE);
	ck_assert_int_eq(syslog_frame_end(&f, LIT("def"), 10, &msg, &mlen), 0);
}
END_TEST

/* Random streams of frames, valid and not, both framings: whole, byte by
 * byte and randomly chunked feeding must agree, and feed() checks the
 * contract on every call. */
START_TEST(test_fuzz_frame)
{
	static const char *const parts[] = {
	    "<13>a\n", "\n", "",    "x",    "0123456789abcdef", "5 hello", "12 ", "0 ", "\n\n",
	    "3 abc",   "<",  "99 ", "2 ok",
	};
	char stream[600];

	for (int round = 0; round < 2000; round++) {
		struct events whole, bytes, random;
		size_t n = 0, max = 1 + (size_t)(round % 24);

		rng_state = 1000 + (uint64_t)round;
		for (unsigned k = (unsigned)(rng() % 40); k > 0; k--) {
			const char *t = parts[rng() % (sizeof(parts) / sizeof(parts[0]))];
			size_t tl = strlen(t) ? strlen(t) : 1; /* "" stands for a NUL byte */
			if (n + tl > sizeof(stream))
				break;
			memcpy(stream + n, t, tl);
			n += tl;
		}
		feed(stream, n, max, n ? n : 1, &whole);
		feed(stream, n, max, 1, &bytes);
		feed(stream, n, max, 0, &random);
		CHECK(whole.n == bytes.n && whole.n == random.n);
		for (int i = 0; i < whole.n; i++)
			CHECK(strcmp(whole.text[i], bytes.text[i]) == 0 &&
			      strcmp(whole.text[i], random.text[i]) == 0);
	}
}
END_TEST

static Suite *
syslogmsg_suite(void)
{
	Suite *s = suite_create("syslogmsg");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_captured, 0, sizeof(captured) / sizeof(captured[0]));
	tcase_add_loop_test(tc, test_rfc5424, 0, sizeof(rfc5424) / sizeof(rfc5424[0]));
	tcase_add_loop_test(tc, test_rfc3164, 0, sizeof(rfc3164) / sizeof(rfc3164[0]));
	tcase_add_loop_test(tc, test_degenerate, 0, sizeof(degenerate) / sizeof(degenerate[0]));
	tcase_add_test(tc, test_impossible_dates);
	tcase_add_test(tc, test_bsd_time_cache);
	tcase_add_test(tc, test_invalid_pri_keeps_input);
	tcase_add_test(tc, test_tag_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_loop_test(tc, test_frame_stream, 0, sizeof(streams) / sizeof(streams[0]));
	tcase_add_test(tc, test_frame_then_parse);
	tcase_add_test(tc, test_frame_lf_too_long_state);
	tcase_add_test(tc, test_frame_octet_too_long_state);
	tcase_add_test(tc, test_frame_octet_bad_count);
	tcase_add_test(tc, test_frame_need_more);
	tcase_add_test(tc, test_frame_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fuzz_parse);
	tcase_add_test(tc, test_fuzz_frame);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(syslogmsg_suite());
}
