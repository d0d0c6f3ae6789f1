/* The native protocol (docs/protocol.md): pure encoders and decoders, no I/O.
 *
 * A stream of frames in both directions.  Every frame:
 *
 *	u32le  len     bytes that follow this field (>= 1)
 *	u8     type
 *	u8[len - 1]    body
 *
 * Client to daemon: HELLO first, then any number of RECORD, STATUS_REQ and
 * (version 2) CONTROL, pipelined.  Records are numbered 1, 2, ... in the
 * order sent.  Daemon to client: HELLO_OK, then ACK (cumulative), ERROR,
 * STATUS and (version 2) CONTROL_DONE.
 * All integers little-endian. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PROTO_VERSION = 2,	  /* the highest this codec speaks */
	PROTO_VERSION_MIN = 1,	  /* the lowest */
	PROTO_VERSION_CONTROL = 2, /* CONTROL and CONTROL_DONE need it */
	PROTO_MAGIC = 0x4c474553, /* "SEGL" little-endian */
	PROTO_FRAME_HEADER = 5,   /* u32 len + u8 type */
	PROTO_FRAME_HARD_MAX = 16 << 20, /* longer: garbage, not a frame */
	PROTO_RECORD_FIXED = 4,	  /* facility, severity, flags, tag_len */
	PROTO_ACK_LEN = PROTO_FRAME_HEADER + 16,
	PROTO_HELLO_LEN = PROTO_FRAME_HEADER + 12,
	PROTO_HELLO_OK_LEN = PROTO_FRAME_HEADER + 20,
	/* Added with the codec: body sizes, for callers that size buffers. */
	PROTO_HELLO_BODY = 12,	  /* at least; a longer HELLO body is accepted */
	PROTO_HELLO_OK_BODY = 20, /* exactly */
	PROTO_ACK_BODY = 16,	  /* exactly */
	PROTO_ERROR_FIXED = 10,	  /* u64 recno + u16 code, before the text */
	PROTO_FACILITY_MAX = 23,  /* syslog facilities 0 (kern) .. 23 (local7) */
	PROTO_SEVERITY_MAX = 7,	  /* syslog severities 0 (emerg) .. 7 (debug) */
	PROTO_TAG_MAX = 255,	  /* tag_len is one byte */
	PROTO_CONTROL_BODY = 26,  /* at least; a longer CONTROL body is accepted */
	PROTO_CONTROL_LEN = PROTO_FRAME_HEADER + 26,
	PROTO_CONTROL_DONE_FIXED = 10, /* u8 verb, u8 status, u64 value, before the text */
	/* Most bytes a RECORD body holds besides its message. */
	PROTO_RECORD_OVERHEAD_MAX = PROTO_RECORD_FIXED + 8 + 4 + PROTO_TAG_MAX,
};

enum proto_type {
	PROTO_HELLO = 0x01,	 /* u32 magic, u16 min_version, u16 max_version, u32 flags */
	PROTO_RECORD = 0x02,	 /* see struct proto_record */
	PROTO_STATUS_REQ = 0x03, /* empty */
	PROTO_CONTROL = 0x04,	 /* version 2: u8 verb, u8 flags, u64 max_bytes,
				    u64 max_age_us, u64 max_files */
	PROTO_HELLO_OK = 0x81,	 /* u16 version, u8 durability, u8 0, u32 max_record,
				    u32 max_tag, u64 next_seq */
	PROTO_ACK = 0x82,	 /* u64 recno, u64 seq */
	PROTO_ERROR = 0x83,	 /* u64 recno, u16 code, text */
	PROTO_STATUS = 0x84,	 /* "key value\n" lines */
	PROTO_CONTROL_DONE = 0x85, /* version 2: u8 verb, u8 status, u64 value, text */
};

/* CONTROL verbs (docs/protocol.md, "Control") */
enum proto_verb {
	PROTO_VERB_ROTATE = 1, /* seal current; done once sealed */
	PROTO_VERB_SYNC = 2,   /* done once every record received before it is durable */
	PROTO_VERB_RELOAD = 3, /* re-read the configuration (as SIGHUP) */
	PROTO_VERB_VACUUM = 4, /* remove the oldest sealed segments over the limits given */
	PROTO_VERB_MAX = 4,
};

/* CONTROL flags */
enum {
	PROTO_CTL_FORCE = 1 << 0, /* vacuum: also what the shipper has not shipped */
	PROTO_CTL_SIZE = 1 << 1,  /* vacuum: max_bytes is given */
	PROTO_CTL_TIME = 1 << 2,  /* vacuum: max_age_us is given */
	PROTO_CTL_FILES = 1 << 3, /* vacuum: max_files is given */
	PROTO_CTL_KNOWN = PROTO_CTL_FORCE | PROTO_CTL_SIZE | PROTO_CTL_TIME | PROTO_CTL_FILES,
};

/* CONTROL_DONE status */
enum proto_ctl_status {
	PROTO_CTL_OK = 0,
	PROTO_CTL_REFUSED = 1, /* not done: not allowed, unknown verb, bad arguments */
	PROTO_CTL_FAILED = 2,  /* tried and failed (the text says why) */
};

/* RECORD flags */
enum {
	PROTO_REC_CTIME = 1 << 0, /* u64 claimed time (µs) follows the fixed part */
	PROTO_REC_CPID = 1 << 1,  /* u32 claimed pid follows (after ctime) */
	PROTO_REC_KNOWN = PROTO_REC_CTIME | PROTO_REC_CPID, /* any other bit: invalid */
};

enum proto_error_code {
	PROTO_ERR_MALFORMED = 1,   /* framing broken: the connection closes */
	PROTO_ERR_TOO_LARGE = 2,   /* record larger than max_record */
	PROTO_ERR_RATE_LIMITED = 3,
	PROTO_ERR_INVALID = 4,	   /* record body does not parse */
	PROTO_ERR_VERSION = 5,	   /* no common version: the connection closes */
	PROTO_ERR_TOO_MANY_CLIENTS = 6, /* a connection limit refuses it: closes */
	PROTO_ERR_SHUTDOWN = 7,
	PROTO_ERR_SLOW_READER = 8, /* acks not read: the connection closes */
	PROTO_ERR_STORAGE = 9,	   /* the daemon cannot write (disk full, I/O error) */
	PROTO_ERR_STALLED = 10,	   /* a frame unfinished for frame_timeout: closes */
};

enum proto_durability {
	PROTO_DURABILITY_FSYNC = 0,
	PROTO_DURABILITY_WRITE = 1,
};

struct proto_hello {
	uint16_t min_version;
	uint16_t max_version;
	uint32_t flags;
};

struct proto_hello_ok {
	uint16_t version;
	uint8_t durability;
	uint32_t max_record;
	uint32_t max_tag;
	uint64_t next_seq;
};

struct proto_record {
	uint8_t facility;
	uint8_t severity;
	uint8_t flags;
	uint64_t claimed_time_us; /* valid with PROTO_REC_CTIME */
	uint32_t claimed_pid;	  /* valid with PROTO_REC_CPID */
	const char *tag;
	size_t tag_len;
	const char *msg;
	size_t msg_len;
};

struct proto_control {
	uint8_t verb;
	uint8_t flags;
	uint64_t max_bytes;  /* vacuum, with its flag (PROTO_CTL_SIZE, ...) */
	uint64_t max_age_us;
	uint64_t max_files;
};

struct proto_control_done {
	uint8_t verb;
	uint8_t status;
	uint64_t value; /* rotate, sync: the seq covered; vacuum: segments removed */
	const char *text;
	size_t text_len;
};

struct proto_ack {
	uint64_t recno;
	uint64_t seq;
};

struct proto_error {
	uint64_t recno;
	uint16_t code;
	const char *text;
	size_t text_len;
};

/* Reads a frame header from buf.  Returns 0 if fewer than
 * PROTO_FRAME_HEADER bytes are there, PROTO_FRAME_HEADER on success, or
 * -EBADMSG if the length is 0 or above PROTO_FRAME_HARD_MAX.  The body of
 * body_len bytes follows the header. */
int proto_frame_header(const uint8_t *buf, size_t len, uint8_t *ret_type, uint32_t *ret_body_len);

/* Body parsers: -EBADMSG on a malformed body, 0 on success.  *ret is
 * written only on success; the tag, msg and text pointers point into body. */
int proto_parse_hello(const uint8_t *body, size_t len, struct proto_hello *ret);
int proto_parse_hello_ok(const uint8_t *body, size_t len, struct proto_hello_ok *ret);
int proto_parse_record(const uint8_t *body, size_t len, struct proto_record *ret);
int proto_parse_ack(const uint8_t *body, size_t len, struct proto_ack *ret);
int proto_parse_error(const uint8_t *body, size_t len, struct proto_error *ret);
/* Length only: an unknown verb or flag parses, and is refused by the
 * daemon with CONTROL_DONE (the connection stays). */
int proto_parse_control(const uint8_t *body, size_t len, struct proto_control *ret);
int proto_parse_control_done(const uint8_t *body, size_t len, struct proto_control_done *ret);

/* Encoders write a whole frame into buf and return its length.  The
 * caller provides enough room: the fixed sizes above, or
 * proto_record_size() / PROTO_FRAME_HEADER + 10 + text_len. */
size_t proto_put_hello(uint8_t *buf, const struct proto_hello *h);
size_t proto_put_hello_ok(uint8_t *buf, const struct proto_hello_ok *h);
size_t proto_record_size(const struct proto_record *r);
size_t proto_put_record(uint8_t *buf, const struct proto_record *r);
size_t proto_put_status_req(uint8_t *buf);
size_t proto_put_ack(uint8_t *buf, const struct proto_ack *a);
size_t proto_put_error(uint8_t *buf, uint64_t recno, uint16_t code, const char *text,
		       size_t text_len);
size_t proto_put_control(uint8_t *buf, const struct proto_control *c);
/* buf needs PROTO_FRAME_HEADER + PROTO_CONTROL_DONE_FIXED + text_len. */
size_t proto_put_control_done(uint8_t *buf, const struct proto_control_done *d);
/* Frame header for a STATUS body of body_len bytes (the body follows). */
size_t proto_put_status_header(uint8_t *buf, uint32_t body_len);

const char *proto_error_name(uint16_t code);
