/* Which records `seglog tail` and `seglog cat` show: pure selection on a
 * decoded record, no I/O.  Every criterion that is set must hold (AND);
 * several tags, hostnames, msgids or facilities are alternatives (OR), as
 * journalctl's -t and --facility. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum {
	FILTER_TAGS_MAX = 64,
};

struct filter {
	bool have_since, have_until;
	uint64_t since_us; /* time >= since */
	uint64_t until_us; /* time <= until */
	uint64_t after_seq; /* seq > after_seq (0: any) */
	const char *tags[FILTER_TAGS_MAX]; /* borrowed, NUL-terminated */
	size_t n_tags;
	const char *hosts[FILTER_TAGS_MAX]; /* claimed hostnames, case-insensitive;
					     * "-" is "none claimed" */
	size_t n_hosts;
	const char *msgids[FILTER_TAGS_MAX]; /* RFC 5424 MSGIDs; "-" is none */
	size_t n_msgids;
	uint32_t facilities; /* bit per facility 0..23; 0 is any */
	void *grep;	     /* --grep: a compiled PCRE2 pattern (filter_set_grep) */
	void *grep_match;    /* and its match data */
	int sev_min, sev_max; /* severity within [min, max]; 0..7 is any */
	bool have_uid, have_pid;
	uint32_t uid;
	int64_t pid;
};

void filter_init(struct filter *f);
/* -p: "err", "3", or a range "crit..warning" (either order, inclusive).
 * A single level means that level and every more severe one (0..level). */
int filter_set_level(struct filter *f, const char *spec);
int filter_add_tag(struct filter *f, const char *tag);
/* --hostname and --msgid (repeatable: any of them). */
int filter_add_host(struct filter *f, const char *host);
int filter_add_msgid(struct filter *f, const char *msgid);
/* --facility: "auth", "4" or a list "auth,authpriv" (names as written in
 * a record line, or 0..23); repeatable, any of them. */
int filter_add_facilities(struct filter *f, const char *spec);

/* --grep: the message must match the PCRE2 pattern; case-insensitive
 * unless the pattern has an upper-case letter (journalctl's rule).  UTF-8
 * mode, invalid sequences in a message matched as bytes.  -EINVAL with the
 * compiler's message in err (errlen bytes) for a bad pattern. */
int filter_set_grep(struct filter *f, const char *pattern, char *err, size_t errlen);
/* Frees what filter_set_grep allocated. */
void filter_done(struct filter *f);

bool filter_match(const struct filter *f, const struct record *r);
/* True when r and everything after it in seq order are past --until: time
 * only grows with seq (the daemon stamps records in seq order), so reading
 * may stop. */
bool filter_past_end(const struct filter *f, const struct record *r);
