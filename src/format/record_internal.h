/* What record.c shares with record_header.c (and nothing else: private to
 * src/format). */
#pragma once

#include <errno.h>
#include <stddef.h>

/* Checks the " CSUM LF" at the end of line; -EBADMSG if it is wrong. */
int record_check_csum(const char *line, size_t len);
/* Appends " CSUM LF" for everything written since buf; the line's length. */
size_t record_finish(char *buf, char *p);
/* Splits the next SP-terminated field off [*pos, end). */
int record_field(const char **pos, const char *end, const char **ret, size_t *ret_len);

/* In a function with `const char **ret_reason`: says why, fails. */
#define REJECT(why)                        \
	do {                               \
		if (ret_reason)            \
			*ret_reason = why; \
		return -EBADMSG;           \
	} while (0)
