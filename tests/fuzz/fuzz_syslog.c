/* Fuzzes the syslog side (src/format/syslogmsg.h): syslog_parse on the input as
 * one datagram, and the RFC 6587 stream framer fed the input in chunks
 * whose sizes the input picks, following the framer's caller contract to
 * the letter.  Properties:
 *
 * - every pointer syslog_parse returns lies inside its input, facility
 *   and severity are in range, kept structured data is well-formed and
 *   its elements and parameters walk to its exact end; parsing it again,
 *   after another now and zone, gives the same result (the kept
 *   timestamp of syslog_parse_bsd_time);
 * - the framer makes progress whenever it holds max + 10 bytes, never
 *   consumes more than it was given, and returns messages inside buf;
 * - chunking does not change the outcome: the messages, the count of
 *   -EMSGSIZE reports and where -EBADMSG stops are the same as when the
 *   whole stream is handed over at once.
 *
 * Input: byte 0 picks max (the record size limit), byte 1 the chunking
 * and the time zone offset, the rest is the stream / datagram. */
#include "config.h"

#include <errno.h>

#include "cleanup.h"
#include "sdata.h"
#include "syslogmsg.h"
#include "fuzz.h"

static const uint64_t fuzz_now = 1795510955123456u; /* 2026-11-24T09:02:35.123456Z */

static void
fuzz_check_msg(const char *buf, size_t len, const struct syslog_msg *m)
{
	const char *end = buf + len;

	FUZZ_CHECK(m->facility <= 23 && m->severity <= 7);
	FUZZ_CHECK(m->msg && m->msg >= buf && m->msg_len <= len && m->msg + m->msg_len <= end);
	FUZZ_CHECK(m->tag && m->tag >= buf && m->tag_len <= len && m->tag + m->tag_len <= end);
	FUZZ_CHECK(!m->hostname || (m->hostname >= buf && m->hostname + m->hostname_len <= end));
	FUZZ_CHECK(!m->msgid || (m->msgid >= buf && m->msgid + m->msgid_len <= end));
	FUZZ_CHECK(m->msgid || m->msgid_len == 0);
	FUZZ_CHECK(m->sd || m->sd_len == 0);
	if (m->sd) {
		/* kept structured data is well-formed, and walking it ends
		 * exactly at its end */
		struct sdata_iter it = sdata_iter_init(m->sd, m->sd_len), p;
		const char *id, *name, *val;
		size_t idl, nl, vl, elements = 0;
		FUZZ_CHECK(m->sd >= buf && m->sd + m->sd_len <= end);
		FUZZ_CHECK(sdata_span(m->sd, m->sd_len) == m->sd_len);
		while (sdata_next_element(&it, &id, &idl, &p)) {
			FUZZ_CHECK(idl >= 1 && idl <= SDATA_NAME_MAX);
			while (sdata_next_param(&p, &name, &nl, &val, &vl))
				FUZZ_CHECK(val >= m->sd && val + vl <= m->sd + m->sd_len);
			FUZZ_CHECK(p.p == p.end);
			elements++;
		}
		FUZZ_CHECK(it.p == it.end && elements > 0);
	}
	FUZZ_CHECK(m->claimed_pid >= -1);
}

static void
fuzz_datagram(const char *data, size_t len, int32_t offset)
{
	_cleanup_free_ char *buf = fuzz_dup(data, len);
	struct syslog_msg m;

	syslog_parse(buf, len, fuzz_now, &m);
	fuzz_check_msg(buf, len, &m);
	syslog_parse_local(buf, len, fuzz_now, offset, &m);
	fuzz_check_msg(buf, len, &m);
	/* the kept RFC 3164 timestamp: another now and zone in between, then
	 * the first again, gives the first result */
	struct syslog_msg again;
	syslog_parse_local(buf, len, fuzz_now + 400 * 86400000000u, offset + 1800, &again);
	fuzz_check_msg(buf, len, &again);
	syslog_parse_local(buf, len, fuzz_now, offset, &again);
	FUZZ_CHECK(again.claimed_time_us == m.claimed_time_us && again.msg == m.msg &&
		   again.msg_len == m.msg_len && again.tag == m.tag && again.tag_len == m.tag_len &&
		   again.hostname == m.hostname && again.claimed_pid == m.claimed_pid);
}

/* What a stream produced, in order: a hash of the messages, how many,
 * how many -EMSGSIZE, and whether and after how many messages it failed. */
struct outcome {
	uint64_t hash;
	size_t messages;
	size_t too_long;
	bool bad;
};

static void
outcome_add(struct outcome *o, const char *msg, size_t len)
{
	/* FNV-1a over the length and the bytes */
	uint64_t h = o->hash ^ len;
	h *= 1099511628211u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)msg[i];
		h *= 1099511628211u;
	}
	o->hash = h;
	o->messages++;
}

/* Feeds data to a framer in chunks (chunk sizes from seed; 0 = all at
 * once), as a connection's read buffer would: unconsumed bytes stay at
 * the front, new bytes go after them. */
static void
fuzz_stream(const char *data, size_t len, size_t max, unsigned seed, struct outcome *o)
{
	struct syslog_framer f = SYSLOG_FRAMER_INIT;
	_cleanup_free_ char *buf = fuzz_alloc(len);
	size_t have = 0, fed = 0;
	unsigned rnd = seed;

	*o = (struct outcome){ .hash = 14695981039346656037u };
	for (;;) {
		const char *msg = NULL;
		size_t msg_len = 0, consumed = (size_t)-1;
		int k;

		if (fed < len) {
			size_t step = len - fed;
			if (seed) {
				rnd = rnd * 1103515245u + 12345u;
				step = 1 + (rnd >> 16) % (seed % 32 + 1);
				if (step > len - fed)
					step = len - fed;
			}
			memcpy(buf + have, data + fed, step);
			have += step;
			fed += step;
		}
		/* call until the framer wants more bytes */
		for (;;) {
			_cleanup_free_ char *exact = fuzz_dup(buf, have);

			msg = NULL;
			consumed = (size_t)-1;
			k = syslog_frame_next(&f, exact, have, max, &msg, &msg_len, &consumed);
			FUZZ_CHECK(consumed <= have);
			if (k == 1) {
				FUZZ_CHECK(msg >= exact && msg_len <= max);
				FUZZ_CHECK(msg + msg_len <= exact + consumed);
				struct syslog_msg m;
				_cleanup_free_ char *one = fuzz_dup(msg, msg_len);
				syslog_parse(one, msg_len, fuzz_now, &m);
				fuzz_check_msg(one, msg_len, &m);
				outcome_add(o, msg, msg_len);
			} else if (k == -EMSGSIZE) {
				FUZZ_CHECK(consumed >= 1);
				o->too_long++;
			} else if (k == -EBADMSG) {
				FUZZ_CHECK(f.mode == SYSLOG_FRAMING_OCTET);
				o->bad = true;
				return;
			} else {
				FUZZ_CHECK(k == 0);
			}
			memmove(buf, buf + consumed, have - consumed);
			have -= consumed;
			if (k == 0 && consumed == 0) {
				/* waiting for more: only allowed below max + 10 bytes */
				FUZZ_CHECK(have < max + 10);
				break;
			}
		}
		if (fed == len)
			return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned b0 = (unsigned)fuzz_take(&in, 1), b1 = (unsigned)fuzz_take(&in, 1);
	const char *s = (const char *)in.p;
	size_t max = b0 < 128 ? b0 % 64 + 1 : (b0 < 192 ? 1024 : 65536);
	struct outcome whole, chunked;

	fuzz_datagram(s, in.n, (int32_t)(b1 % 53 - 26) * 1800);
	fuzz_stream(s, in.n, max, 0, &whole);
	fuzz_stream(s, in.n, max, b1 | 1, &chunked);
	FUZZ_CHECK(whole.messages == chunked.messages && whole.hash == chunked.hash);
	FUZZ_CHECK(whole.too_long == chunked.too_long && whole.bad == chunked.bad);
	return 0;
}
