/* Syslog message parsing (pure, no I/O): RFC 3164 and RFC 5424 messages as
 * util-linux logger, glibc syslog(3) and language handlers send them, and
 * RFC 6587 stream framing (octet counting or newline), detected per
 * connection. */
#pragma once

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
};

/* Parses one datagram or framed message.  Never fails on content: anything
 * that is not well-formed syslog becomes the message with default PRI (as
 * rsyslog and journald do).  now_us supplies the year for RFC 3164
 * timestamps.  Trailing NUL and newline bytes are stripped. */
void syslog_parse(const char *buf, size_t len, uint64_t now_us, struct syslog_msg *ret);

enum syslog_framing {
	SYSLOG_FRAMING_UNKNOWN,
	SYSLOG_FRAMING_OCTET, /* RFC 6587 3.4.1: "LEN SP MSG" */
	SYSLOG_FRAMING_LF,    /* RFC 6587 3.4.2: MSG LF (also NUL-terminated) */
};

struct syslog_framer {
	enum syslog_framing mode;
};

/* Finds the next message in a stream buffer.  Returns 1 and sets
 * *ret_msg, *ret_msg_len and *ret_consumed when a message is complete; 0 when
 * more bytes are needed; -EMSGSIZE when a message exceeds max (the caller
 * reports it and may discard *ret_consumed bytes, if set non-zero); -EBADMSG
 * for an octet count that is not a number.  The framing is chosen on the
 * first message of a connection: a leading digit means octet counting. */
int syslog_frame_next(struct syslog_framer *f, const char *buf, size_t len, size_t max,
		      const char **ret_msg, size_t *ret_msg_len, size_t *ret_consumed);
