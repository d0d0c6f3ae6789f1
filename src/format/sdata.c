#include "config.h"

#include <string.h>

#include "sdata.h"

/* PRINTUSASCII (%d33-126) except '=', SP, ']' and '"'. */
static bool
sdata_name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"';
}

/* Length of the SD-NAME at s[i..n) (1..32 bytes), or 0. */
static size_t
sdata_name_len(const char *s, size_t i, size_t n)
{
	size_t k = 0;
	while (i + k < n && k <= SDATA_NAME_MAX && sdata_name_char((unsigned char)s[i + k]))
		k++;
	return k >= 1 && k <= SDATA_NAME_MAX ? k : 0;
}

/* Index just past the closing quote of the PARAM-VALUE whose opening
 * quote is at s[i], or 0.  Escapes are skipped as pairs.  An unescaped ']'
 * (which §6.3.3 says MUST be escaped, and some senders do not) is taken as
 * part of the value, as rsyslog does; UTF-8 validity is the record
 * encoder's business (it escapes invalid bytes reversibly). */
static size_t
sdata_value_end(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Length of the SD-ELEMENT at s[i..n), or 0. */
static size_t
sdata_element_len(const char *s, size_t i, size_t n)
{
	size_t start = i, k;

	if (i >= n || s[i] != '[')
		return 0;
	i++;
	if (!(k = sdata_name_len(s, i, n)))
		return 0;
	i += k;
	while (i < n && s[i] == ' ') {
		i++;
		if (!(k = sdata_name_len(s, i, n)))
			return 0;
		i += k;
		if (i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
			return 0;
		if (!(i = sdata_value_end(s, i + 1, n)))
			return 0;
	}
	if (i >= n || s[i] != ']')
		return 0;
	return i + 1 - start;
}

size_t
sdata_span(const char *s, size_t n)
{
	size_t i = 0, k;

	while ((k = sdata_element_len(s, i, n)))
		i += k;
	return i;
}

bool
sdata_next_element(struct sdata_iter *it, const char **ret_id, size_t *ret_id_len,
		   struct sdata_iter *ret_params)
{
	size_t n = (size_t)(it->end - it->p), len = sdata_element_len(it->p, 0, n);
	size_t id_len;

	if (!len)
		return false;
	id_len = sdata_name_len(it->p, 1, n);
	*ret_id = it->p + 1;
	*ret_id_len = id_len;
	*ret_params = (struct sdata_iter){ it->p + 1 + id_len, it->p + len - 1 };
	it->p += len;
	return true;
}

bool
sdata_next_param(struct sdata_iter *it, const char **ret_name, size_t *ret_name_len,
		 const char **ret_value, size_t *ret_value_len)
{
	size_t n = (size_t)(it->end - it->p), k, end;

	if (n < 5 || it->p[0] != ' ' || !(k = sdata_name_len(it->p, 1, n)))
		return false;
	if (1 + k + 1 >= n || it->p[1 + k] != '=' || it->p[2 + k] != '"')
		return false;
	if (!(end = sdata_value_end(it->p, 2 + k, n)))
		return false;
	*ret_name = it->p + 1;
	*ret_name_len = k;
	*ret_value = it->p + 3 + k;
	*ret_value_len = end - 1 - (3 + k);
	it->p += end;
	return true;
}

size_t
sdata_unescape(const char *v, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == ']'))
			i++;
		dst[o++] = v[i];
	}
	return o;
}
