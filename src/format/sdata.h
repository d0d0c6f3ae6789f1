/* RFC 5424 §6.3 STRUCTURED-DATA (pure, no I/O): finding where it ends in
 * a message, and walking its elements and parameters for output.
 *
 *   STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT
 *   SD-ELEMENT      = "[" SD-ID *(SP SD-PARAM) "]"
 *   SD-PARAM        = PARAM-NAME "=" %d34 PARAM-VALUE %d34
 *   SD-ID, PARAM-NAME = 1*32 PRINTUSASCII except "=", SP, "]", %d34
 *   PARAM-VALUE     = UTF-8, with '"', '\' and ']' escaped by '\' (§6.3.3)
 *
 * seglog keeps the STRUCTURED-DATA of a message as the exact bytes it
 * received (so it round-trips), after checking it against this grammar. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum {
	SDATA_NAME_MAX = 32,
};

/* Length of the 1*SD-ELEMENT at s[0..n), or 0 if s does not start with a
 * well-formed one (the NILVALUE "-" is not SD-ELEMENTs: 0). */
size_t sdata_span(const char *s, size_t n);

/* A cursor over well-formed STRUCTURED-DATA (sdata_span(s, n) == n). */
struct sdata_iter {
	const char *p, *end;
};

static inline struct sdata_iter
sdata_iter_init(const char *s, size_t n)
{
	return (struct sdata_iter){ s, s + n };
}

/* The next SD-ELEMENT: its SD-ID, and a cursor over its parameters.
 * Returns false at the end. */
bool sdata_next_element(struct sdata_iter *it, const char **ret_id, size_t *ret_id_len,
			struct sdata_iter *ret_params);
/* The next SD-PARAM of an element: its name and its value as written
 * (escaped; see sdata_unescape).  Returns false at the end. */
bool sdata_next_param(struct sdata_iter *it, const char **ret_name, size_t *ret_name_len,
		      const char **ret_value, size_t *ret_value_len);
/* Undoes the §6.3.3 escapes of a PARAM-VALUE: '\"', '\\' and '\]' become
 * the character; a '\' before anything else is kept (the RFC says so).
 * dst holds n bytes; returns the length written. */
size_t sdata_unescape(const char *v, size_t n, char *dst);
