/* Strict decimal numbers (parse.h). */
#include "config.h"

#include <string.h>

#include "parse.h"

int
parse_u64(const char *s, uint64_t *ret)
{
	return parse_u64_mem(s, strlen(s), ret);
}

int
parse_u64_prefix(const char *s, size_t n, uint64_t *ret, size_t *ret_len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && parse_is_digit(s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (i == 0)
		return -EINVAL;
	*ret = v;
	*ret_len = i;
	return 0;
}
