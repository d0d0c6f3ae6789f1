/* The record line format (docs/format.md): pure code, no I/O.
 *
 * A segment is UTF-8 text.  Line 1 is the header; every further line is one
 * record:
 *
 *   TIME SP SEQ SP FAC.SEV SP PID SP UID SP GID SP TAG SP CPID SP CTIME SP MSG SP CSUM LF
 *
 *   2026-11-24T09:02:35.123456Z 42 user.info 1234 1000 1000 myapp - - hello world 9f3a5c2e1b7d4a60
 *
 * TIME   receive time, RFC 3339 UTC with microseconds, always 27 bytes.
 * SEQ    decimal, no leading zeros, 1 .. 2^64-1.
 * FAC.SEV syslog names (record_facility_name / record_severity_name).
 * PID UID GID  trusted credentials from the kernel, decimal.
 * TAG    escaped (see below) and additionally with SP escaped; "-" is the
 *        empty tag; a literal "-" tag is written "\x2d".
 * CPID   the pid the client claimed (decimal) or "-".
 * CTIME  the time the client claimed, same form as TIME, or "-".
 * MSG    escaped message bytes; may contain SP; may be empty.
 * CSUM   XXH3-64 of every byte before the SP that precedes it, 16 lowercase
 *        hex digits.
 *
 * Escaping (tag and message): "\\" for a backslash, "\xHH" (lowercase hex) for
 * every byte < 0x20, 0x7f, every byte of an invalid or overlong UTF-8
 * sequence, of a surrogate, and of the C1 controls U+0080..U+009F.  Every
 * other byte is copied, so printable text is found by plain grep.  Decoding
 * gives back exactly the bytes that were encoded.
 *
 * The header line:
 *
 *   #seglog 1 FIRSTSEQ CREATED DIRID CSUM LF
 *
 * "1" is the format version, FIRSTSEQ the seq of the segment's first record
 * (decimal), CREATED a TIME, DIRID 32 lowercase hex digits naming the data
 * directory the segment was created in, CSUM as above. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	RECORD_TIME_LEN = 27,	  /* "2026-11-24T09:02:35.123456Z" */
	RECORD_CSUM_LEN = 16,
	RECORD_TAG_MAX = 255,	  /* raw bytes */
	RECORD_FORMAT_VERSION = 1,
	RECORD_HEADER_MAX = 160,
	RECORD_DIR_ID_LEN = 16,	  /* bytes; 32 hex digits on disk */
};

enum {
	RECORD_NO_CLAIMED_PID = -1,
};

struct record {
	uint64_t seq;
	uint64_t time_us; /* receive time, microseconds since the epoch, UTC */
	int64_t pid;	  /* trusted, from the kernel */
	uint32_t uid;
	uint32_t gid;
	uint8_t facility; /* 0..23 */
	uint8_t severity; /* 0..7 */
	const char *tag;  /* not NUL-terminated */
	size_t tag_len;	  /* <= RECORD_TAG_MAX */
	const char *msg;  /* not NUL-terminated, any bytes */
	size_t msg_len;
	int64_t claimed_pid;	  /* RECORD_NO_CLAIMED_PID if none */
	uint64_t claimed_time_us; /* 0 if none */
};

struct segment_header {
	uint32_t version;
	uint64_t first_seq;
	uint64_t created_us;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
};

/* Upper bound of the encoded line length (with LF) for these field sizes. */
size_t record_line_max(size_t tag_len, size_t msg_len);
/* Encodes r into buf, which holds at least record_line_max() bytes; returns
 * the line length including the final LF. */
size_t record_encode(const struct record *r, char *buf);

/* Decodes one line (len counts the LF, which must be there).  Tag and
 * message are unescaped into scratch, which must hold len bytes; ret's
 * pointers point into it.  On error returns -EBADMSG and, if ret_reason is
 * not NULL, a static string saying what is wrong. */
int record_decode(const char *line, size_t len, char *scratch, struct record *ret,
		  const char **ret_reason);
/* Checks syntax and checksum of a record line without unescaping; the fast
 * path of verify and recovery.  Fills *ret_seq and *ret_time_us. */
int record_check(const char *line, size_t len, uint64_t *ret_seq, uint64_t *ret_time_us,
		 const char **ret_reason);

size_t record_header_encode(const struct segment_header *h, char *buf);
int record_header_decode(const char *line, size_t len, struct segment_header *ret,
			 const char **ret_reason);
bool record_is_header(const char *line, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t record_days_from_civil(int64_t y, unsigned m, unsigned d);

/* RFC 3339 UTC with microseconds: writes exactly RECORD_TIME_LEN bytes (no NUL). */
void record_format_time(uint64_t time_us, char *buf);
/* Parses exactly the form record_format_time writes. */
int record_parse_time(const char *s, size_t len, uint64_t *ret_time_us);

const char *record_facility_name(unsigned facility); /* NULL if out of range */
const char *record_severity_name(unsigned severity);
int record_facility_from_name(const char *name, size_t len); /* -EINVAL if unknown */
int record_severity_from_name(const char *name, size_t len);

/* Escapes src into dst (capacity >= 4 * n); with_space also escapes SP.
 * Returns the bytes written. */
size_t record_escape(const char *src, size_t n, char *dst, bool with_space);
/* Reverses record_escape; returns bytes written to dst (capacity >= n) or
 * -EBADMSG on a malformed escape. */
ssize_t record_unescape(const char *src, size_t n, char *dst);
