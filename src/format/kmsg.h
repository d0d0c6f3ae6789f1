/* /dev/kmsg records (pure, no I/O): the kernel log as the kernel's
 * Documentation/ABI/testing/dev-kmsg describes it.  Each read() of
 * /dev/kmsg returns one record:
 *
 *   PRI,SEQ,TS_USEC,FLAGS[,MORE...];MESSAGE LF
 *   SP KEY=VALUE LF            (zero or more continuation lines)
 *
 * PRI is the syslog priority (facility << 3 | level) in decimal, SEQ the
 * 64-bit record sequence number (a gap means records were overwritten),
 * TS_USEC the CLOCK_MONOTONIC time of the printk in microseconds, FLAGS
 * "-" or, on old kernels, "c"/"+" for continuation fragments.  Fields after
 * FLAGS (e.g. the caller id, "caller=T123") are ignored, as the ABI asks.
 * In MESSAGE and in the values, the kernel writes every byte < 0x20,
 * >= 0x7f and the backslash as "\xHH"; kmsg_parse() undoes that, so the
 * message comes back with its newlines and tabs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
	KMSG_RECORD_MAX = 8192, /* the kernel's CONSOLE_EXT_LOG_MAX: one read() at most */
	KMSG_PRI_MAX = 2047,	/* facility is 8 bits */
};

struct kmsg_record {
	uint64_t seq;
	uint64_t ts_us;	  /* CLOCK_MONOTONIC of the printk, microseconds */
	uint8_t facility; /* PRI >> 3, as the kernel reports it (0 = kern) */
	uint8_t severity; /* PRI & 7 */
	char flag;	  /* '-', 'c' or '+' (any other byte is passed through) */
	const char *msg;  /* unescaped, in the caller's scratch; not NUL-terminated */
	size_t msg_len;
	/* The continuation lines as the kernel wrote them (" KEY=VALUE" LF ...,
	 * still escaped, so a value holds no LF), pointing into buf; dict_len 0
	 * if none.  kmsg_dict_next() walks them. */
	const char *dict;
	size_t dict_len;
};

/* Parses one record of len bytes as read() returned it (the trailing LF of
 * the last line may be missing).  MESSAGE is unescaped into scratch, which
 * must hold len bytes; ret->msg points into it, ret->dict into buf.
 * Returns 0, or -EBADMSG for a prefix that is not "PRI,SEQ,TS_USEC,FLAGS"
 * followed by ';' or a PRI over KMSG_PRI_MAX (ret is then untouched).  A
 * malformed escape is kept as it is: the kernel wrote it, so it is not
 * lost. */
int kmsg_parse(const char *buf, size_t len, char *scratch, struct kmsg_record *ret);

/* Walks the continuation lines of r: returns 1 and the next KEY and VALUE
 * (still escaped; kmsg_unescape() them) and advances *pos (start at 0); 0
 * at the end.  A line without '=' is returned as a KEY with an empty
 * VALUE. */
int kmsg_dict_next(const struct kmsg_record *r, size_t *pos, const char **ret_key,
		   size_t *ret_key_len, const char **ret_value, size_t *ret_value_len);

/* Undoes the kernel's "\xHH" escaping of n bytes of src into dst (capacity
 * n); returns the bytes written.  A backslash not followed by "x" and two
 * hex digits is copied as it is. */
size_t kmsg_unescape(const char *src, size_t n, char *dst);
