/* The record line format (docs/format.md): pure code, no I/O.
 *
 * A segment is UTF-8 text.  Line 1 is the header; every further line is one
 * record (version 2, the version new segments are written in):
 *
 *   TIME SP SEQ SP FAC.SEV SP PID SP UID SP GID SP TAG SP CPID SP CTIME SP
 *	HOST SP MSGID SP SD SP MSG SP CSUM LF
 *
 *   2026-11-24T09:02:35.123456Z 42 user.info 1234 1000 1000 myapp - - web-1 - - hello 9f3a5c2e1b7d4a60
 *
 * TIME   receive time, RFC 3339 UTC with microseconds, always 27 bytes.
 * SEQ    decimal, no leading zeros, 1 .. 2^64-1.
 * FAC.SEV syslog names (record_facility_name / record_severity_name).
 * PID UID GID  trusted credentials from the kernel, decimal.
 * TAG    a token: escaped (see below) and additionally with SP escaped;
 *        "-" is the empty tag; a literal "-" tag is written "\x2d".
 * CPID   the pid the client claimed (decimal) or "-".
 * CTIME  the time the client claimed, same form as TIME, or "-".
 * HOST   the HOSTNAME the sender claimed (RFC 3164/5424), a token.
 * MSGID  the RFC 5424 MSGID, a token.
 * SD     the RFC 5424 STRUCTURED-DATA as received, a token.
 * MSG    escaped message bytes; may contain SP; may be empty.
 * CSUM   XXH3-64 of every byte before the SP that precedes it, 16 lowercase
 *        hex digits.
 *
 * Version 1 lines are the same without HOST, MSGID and SD: the first nine
 * fields mean the same in both versions.  Version 2 also allows meta lines
 * ("#TYPE BODY CSUM", record_meta_encode) where a record may stand.
 *
 * Escaping (tokens and message): "\\" for a backslash, "\xHH" (lowercase
 * hex) for every byte < 0x20, 0x7f, every byte of an invalid or overlong
 * UTF-8 sequence, of a surrogate, and of the C1 controls U+0080..U+009F.
 * Every other byte is copied, so printable text is found by plain grep.
 * Decoding gives back exactly the bytes that were encoded.
 *
 * The header line:
 *
 *   #seglog 2 FIRSTSEQ CREATED DIRID ATTRS CSUM LF
 *
 * "2" is the format version, FIRSTSEQ the seq of the segment's first record
 * (decimal), CREATED a TIME, DIRID 32 lowercase hex digits naming the data
 * directory the segment was created in, ATTRS "-" or key=value,...
 * (room for sealing), CSUM as above.  A version 1 header has no ATTRS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	RECORD_TIME_LEN = 27,	  /* "2026-11-24T09:02:35.123456Z" */
	RECORD_CSUM_LEN = 16,
	RECORD_TAG_MAX = 255,	  /* raw bytes */
	RECORD_HOST_MAX = 255,	  /* raw bytes (RFC 5424 §6.2.4) */
	RECORD_MSGID_MAX = 255,	  /* raw bytes (RFC 5424 allows 32) */
	RECORD_FORMAT_VERSION = 2, /* the version new segments are written in */
	RECORD_FORMAT_MAX = 2,	  /* the newest version readers understand */
	RECORD_ATTRS_MAX = 256,	  /* version 2 header attributes */
	RECORD_HEADER_MAX = 512,  /* a header line is never longer */
	RECORD_DIR_ID_LEN = 16,	  /* bytes; 32 hex digits on disk */
	RECORD_META_TYPE_MAX = 32,
};

/* record_decode_version / record_check_version: a valid meta line (version
 * 2 "#TYPE BODY CSUM" lines other than the header, e.g. the seal lines of
 * tamper-evident sealing), which readers skip. */
enum {
	RECORD_LINE_META = 1,
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
	/* version 2 only (a version 1 line has none of them): */
	const char *hostname;	  /* claimed HOSTNAME; hostname_len 0 if none */
	size_t hostname_len;	  /* <= RECORD_HOST_MAX */
	const char *msgid;	  /* RFC 5424 MSGID */
	size_t msgid_len;	  /* <= RECORD_MSGID_MAX */
	const char *sd;		  /* RFC 5424 STRUCTURED-DATA as received */
	size_t sd_len;
};

struct segment_header {
	uint32_t version;
	uint64_t first_seq;
	uint64_t created_us;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	/* version 2: "key=value,..." attributes (none yet; room for sealing),
	 * NUL-terminated; readers ignore keys they do not know */
	char attrs[RECORD_ATTRS_MAX + 1];
	size_t attrs_len;
};

/* Upper bound of the encoded line length (with LF), in any version, of a
 * record with a tag of tag_len bytes and payload_len bytes of message and
 * structured data together (a hostname and msgid of maximal length
 * included). */
size_t record_line_max(size_t tag_len, size_t payload_len);
/* record_line_max() for this record. */
size_t record_size_max(const struct record *r);
/* Encodes r in RECORD_FORMAT_VERSION into buf, which holds at least
 * record_size_max(r) bytes; returns the line length including the LF. */
size_t record_encode(const struct record *r, char *buf);
/* The same in a given version (1 or 2); version 1 drops the hostname,
 * msgid and structured data. */
size_t record_encode_version(const struct record *r, unsigned version, char *buf);

/* Decodes one line of a segment of the given format version (len counts
 * the LF, which must be there).  Text fields are unescaped into scratch,
 * which must hold len bytes; ret's pointers point into it, or into line
 * where there was nothing to unescape (so both must outlive ret).  Returns 0 for
 * a record, RECORD_LINE_META for a valid version 2 meta line (ret
 * untouched), and on error -EBADMSG and, if ret_reason is not NULL, a
 * static string saying what is wrong. */
int record_decode_version(unsigned version, const char *line, size_t len, char *scratch,
			  struct record *ret, const char **ret_reason);
/* Checks syntax and checksum of a line without unescaping; the fast path
 * of verify and recovery.  Returns as record_decode_version and fills
 * *ret_seq and *ret_time_us for a record. */
int record_check_version(unsigned version, const char *line, size_t len, uint64_t *ret_seq,
			 uint64_t *ret_time_us, const char **ret_reason);
/* The same in RECORD_FORMAT_VERSION. */
int record_decode(const char *line, size_t len, char *scratch, struct record *ret,
		  const char **ret_reason);
int record_check(const char *line, size_t len, uint64_t *ret_seq, uint64_t *ret_time_us,
		 const char **ret_reason);

/* Version 2 meta lines: "#" TYPE SP BODY SP CSUM LF, TYPE 1..32 of [a-z0-9-]
 * (not "seglog", which is the header), BODY escaped text (may be empty).
 * Encode writes at most RECORD_META_TYPE_MAX + 4 * body_len + 20 bytes;
 * decode unescapes BODY into scratch (len bytes) and points into line for
 * the type. */
size_t record_meta_encode(const char *type, size_t type_len, const char *body, size_t body_len,
			  char *buf);
int record_meta_decode(const char *line, size_t len, char *scratch, const char **ret_type,
		       size_t *ret_type_len, const char **ret_body, size_t *ret_body_len);

size_t record_header_encode(const struct segment_header *h, char *buf);
int record_header_decode(const char *line, size_t len, struct segment_header *ret,
			 const char **ret_reason);
bool record_is_header(const char *line, size_t len);

/* RFC 3339 UTC with microseconds: writes exactly RECORD_TIME_LEN bytes (no NUL). */
void record_format_time(uint64_t time_us, char *buf);
/* v in decimal at p (at most 20 bytes, no NUL); returns the end.  For the
 * per-record paths, where printf costs more than the rest of a field. */
char *record_put_u64(char *p, uint64_t v);
/* Parses exactly the form record_format_time writes. */
int record_parse_time(const char *s, size_t len, uint64_t *ret_time_us);

const char *record_facility_name(unsigned facility); /* NULL if out of range */
const char *record_severity_name(unsigned severity);
int record_facility_from_name(const char *name, size_t len); /* -EINVAL if unknown */
int record_severity_from_name(const char *name, size_t len);
/* The one parser of facilities and levels a person types (seglog send
 * -p, seglog cat -p and --facility, seglogd.conf's log_level): a name
 * ignoring case (levels also panic, error, warn), or a number 0..23 /
 * 0..7.  -EINVAL otherwise. */
int record_facility_parse(const char *s, size_t len);
int record_severity_parse(const char *s, size_t len);

/* Escapes src into dst (capacity >= 4 * n); with_space also escapes SP.
 * Returns the bytes written. */
size_t record_escape(const char *src, size_t n, char *dst, bool with_space);
/* Reverses record_escape; returns bytes written to dst (capacity >= n) or
 * -EBADMSG on a malformed escape. */
ssize_t record_unescape(const char *src, size_t n, char *dst);
/* The strict inverse of record_escape(with_space): every byte string has
 * exactly one accepted encoding. */
ssize_t record_unescape_strict(const char *src, size_t n, char *dst, bool with_space);
