/* Syslog message parsing (pure, no I/O): RFC 3164 and RFC 5424 messages as
 * util-linux logger, glibc syslog(3) and language handlers send them, and
 * RFC 6587 stream framing (octet counting or newline), detected per
 * connection.  docs/syslog.md describes what is accepted and how the
 * fields map.
 *
 * A message longer than max is reported once (-EMSGSIZE) and its bytes are
 * then dropped by later calls, whatever the chunking: the framer keeps the
 * skipping state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct syslog_msg {
	uint8_t facility; /* 0..23; "user" (1) when the PRI is missing */
	uint8_t severity; /* 0..7; "notice" (5) when the PRI is missing */
	const char *tag;  /* RFC 3164 TAG or RFC 5424 APP-NAME; points into the input */
	size_t tag_len;	  /* 0 if none */
	const char *msg;  /* the MSG part; points into the input */
	size_t msg_len;
	int64_t claimed_pid;	  /* from TAG[pid] or PROCID, or -1 */
	uint64_t claimed_time_us; /* TIMESTAMP if parseable, else 0 */
	const char *hostname;	  /* claimed HOSTNAME or NULL */
	size_t hostname_len;
	const char *msgid;	  /* RFC 5424 MSGID or NULL */
	size_t msgid_len;
	const char *sd;		  /* RFC 5424 STRUCTURED-DATA (sdata.h) as received, or NULL */
	size_t sd_len;
};

/* Parses one datagram or framed message.  Never fails on content: anything
 * that is not well-formed syslog becomes the message with default PRI (as
 * rsyslog and journald do).  now_us supplies the year for RFC 3164
 * timestamps.  Trailing NUL and newline bytes are stripped.  Reads only
 * buf[0..len); every pointer in *ret points into it (tag and msg are never
 * NULL unless buf is), nothing is allocated. */
void syslog_parse(const char *buf, size_t len, uint64_t now_us, struct syslog_msg *ret);

/* syslog_parse() for a sender in a known time zone.  An RFC 3164 TIMESTAMP
 * is the sender's local wall-clock time without a zone; utc_offset_s (the
 * zone's offset east of UTC, as tm_gmtoff gives it) converts it to UTC.
 * syslog_parse() reads it as UTC (offset 0).  RFC 5424 timestamps carry
 * their own offset and are not affected. */
void syslog_parse_local(const char *buf, size_t len, uint64_t now_us, int32_t utc_offset_s,
			struct syslog_msg *ret);

enum syslog_framing {
	SYSLOG_FRAMING_UNKNOWN,
	SYSLOG_FRAMING_OCTET, /* RFC 6587 3.4.1: "LEN SP MSG" */
	SYSLOG_FRAMING_LF,    /* RFC 6587 3.4.2: MSG LF (also NUL-terminated) */
};

/* Per-connection framing state; zero-initialise it (SYSLOG_FRAMER_INIT). */
struct syslog_framer {
	enum syslog_framing mode;
	uint64_t skip;	 /* octet counting: bytes of a too-long frame still to drop */
	bool skip_to_lf; /* newline framing: dropping a too-long line up to its LF */
	size_t scanned;	 /* newline framing: leading bytes of the unconsumed input
			  * already searched for LF/NUL in vain (not searched again) */
};

#define SYSLOG_FRAMER_INIT ((struct syslog_framer){.mode = SYSLOG_FRAMING_UNKNOWN})

/* Finds the next message in a stream buffer.  Returns 1 and sets
 * *ret_msg, *ret_msg_len and *ret_consumed when a message is complete; 0 when
 * more bytes are needed; -EMSGSIZE when a message exceeds max (the caller
 * reports it and may discard *ret_consumed bytes, if set non-zero); -EBADMSG
 * for an octet count that is not a number.  The framing is chosen on the
 * first message of a connection: a leading digit means octet counting.
 *
 * The contract in detail:
 * - buf holds the bytes not yet consumed: after every call the caller drops
 *   the first *ret_consumed bytes and passes the rest again, first, followed
 *   by whatever arrived since (the framer remembers how far it searched).
 * - *ret_consumed is always written.  A return of 0 with *ret_consumed > 0
 *   means bytes were dropped (empty lines, the rest of a too-long message):
 *   call again.  0 with *ret_consumed == 0 means: wait for more bytes.
 * - -EMSGSIZE always consumes at least one byte, and the whole message when
 *   it is in buf.  An octet-counted frame whose LEN exceeds max is consumed
 *   as far as it is in buf and f->skip holds how many of its bytes are still
 *   to come; a line that has grown past max without LF is consumed whole
 *   (everything in buf) and f->skip_to_lf drops the rest up to its LF.
 *   Later calls drop those bytes silently (return 0, *ret_consumed > 0), so
 *   each too-long message is reported once.
 * - A returned message excludes the LEN SP prefix and the LF/NUL trailer;
 *   *ret_msg points into buf and *ret_consumed covers it and everything
 *   before it.
 * - -EBADMSG (octet counting: LEN empty, over 9 digits, with a leading zero
 *   or not followed by SP) leaves the stream unframeable: close it.
 *   Newline framing never fails.  Between octet-counted frames stray LF and
 *   NUL bytes are tolerated and dropped.
 * - To make progress the buffer must hold max + 10 bytes (octet counting:
 *   "LEN SP" plus a whole frame; newline framing: max bytes plus the LF). */
int syslog_frame_next(struct syslog_framer *f, const char *buf, size_t len, size_t max,
		      const char **ret_msg, size_t *ret_msg_len, size_t *ret_consumed);

/* At the end of the stream, what buf holds after syslog_frame_next() found
 * no more messages: with newline framing the unterminated last line is a
 * message (returns 1, *ret_msg into buf), as rsyslog, syslog-ng and
 * journald have it; 0 if nothing is left (or only LF/NUL, or the rest of a
 * too-long message being dropped); -EMSGSIZE for a line over max;
 * -ENODATA for an octet-counted frame the stream ended in (its count says
 * bytes are missing: not a message). */
int syslog_frame_end(const struct syslog_framer *f, const char *buf, size_t len, size_t max,
		     const char **ret_msg, size_t *ret_msg_len);
