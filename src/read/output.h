/* How `seglog tail` and `seglog cat` show a record: pure formatting into a
 * caller's buffer, no I/O.
 *
 *   short  "Nov 24 09:02:35 vm myapp[1234]: hello"  local time (or UTC) like
 *          journalctl(1), the sender's claimed hostname (else the local one)
 *          before the tag;
 *   short-iso      the same with "2026-11-24T09:02:35+01:00" (RFC 3339);
 *   short-precise  the same with "Nov 24 09:02:35.123456";
 *          tag and message with control bytes, C1 controls, bidirectional
 *          overrides and invalid UTF-8 escaped ("\n", "\t", "\x1b",
 *          "\u202e"), so nothing in a record can drive the terminal;
 *          optionally coloured by severity.
 *   json   one object a line with exactly the fields of PRODUCT.md §3:
 *          seq, time, pid, uid, gid, facility, severity, tag, message, and
 *          where the sender gave them hostname, msgid, sd (SD-ID ->
 *          {param: value}, repeated params as arrays), claimed_pid,
 *          claimed_time.  A
 *          tag or message that is not valid UTF-8 is an array of its byte
 *          values, as journald does; control characters (also DEL, C1,
 *          U+2028/U+2029) are \u-escaped, so the line is safe on a terminal.
 *   raw    the message bytes and a newline; escaped as in short when
 *          `escape` is set (stdout is a terminal).  "cat" is its
 *          journalctl name. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum output_mode {
	OUTPUT_SHORT,
	OUTPUT_JSON,
	OUTPUT_RAW,
	OUTPUT_SHORT_ISO,
	OUTPUT_SHORT_PRECISE,
};

struct output {
	enum output_mode mode;
	bool color;  /* short: ANSI colour by severity */
	bool escape; /* raw: escape as short does */
	bool utc;    /* short*: UTC instead of the local time zone */
	uint64_t cached_sec; /* time prefix of the last second formatted */
	char cached[32];
	size_t cached_len;
	/* short: shown for a record that claims no hostname, as journalctl
	 * shows _HOSTNAME (output_set_local_host; empty: nothing shown) */
	char local_host[RECORD_HOST_MAX + 1];
	size_t local_host_len;
};

void output_init(struct output *o, enum output_mode mode, bool color, bool escape);
/* The name -o short shows for records without a claimed hostname
 * (NUL-terminated; cut at RECORD_HOST_MAX). */
void output_set_local_host(struct output *o, const char *name);
/* "short", "short-iso", "short-precise", "json", "raw" (or "cat");
 * -EINVAL otherwise. */
int output_mode_from_name(const char *name);

/* An upper bound of output_format()'s length for r, in any mode. */
size_t output_max(const struct record *r);
/* Formats r with its final LF into buf (>= output_max(r) bytes); returns
 * the length.  Not thread-safe (localtime_r and the per-second cache). */
size_t output_format(struct output *o, const struct record *r, char *buf);

/* The terminal-safe form of n bytes (dst >= 4 * n bytes); returns its length. */
size_t output_escape_terminal(const char *src, size_t n, char *dst);
/* A JSON value for n bytes: a string if they are valid UTF-8, else an
 * array of byte values (dst >= 6 * n + 2 bytes); returns its length. */
size_t output_json_value(const char *src, size_t n, char *dst);
/* Valid UTF-8 (RFC 3629: no overlongs, surrogates or values > U+10FFFF). */
bool output_utf8_valid(const char *s, size_t n);
