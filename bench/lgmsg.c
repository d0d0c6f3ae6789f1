/* The loadgen record message (see lgmsg.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "lgmsg.h"

/* 61 letters: a prime, so the padding of (c, n) and (c, n + d) differ
 * unless d is a multiple of 61 */
static const char lgmsg_alphabet[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";
#define LGMSG_ALPHABET_LEN (sizeof(lgmsg_alphabet) - 1)

static size_t
lgmsg_digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static char *
lgmsg_put_uint(char *p, uint64_t v)
{
	size_t n = lgmsg_digits(v), i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

static char *
lgmsg_put_lit(char *p, const char *lit, size_t len)
{
	memcpy(p, lit, len);
	return p + len;
}

size_t
lgmsg_prefix_len(const struct lgmsg *m)
{
	return strlen(LGMSG_MAGIC " N= S= ") + lgmsg_digits(m->client) + lgmsg_digits(m->seq) +
	       lgmsg_digits(m->size);
}

/* The prefix, then the alphabet from the record's offset on, over and
 * over: memcpy of up to 61 bytes at a time, since the generator writes
 * millions of these a second. */
void
lgmsg_format(char *buf, const struct lgmsg *m)
{
	char *p = buf, *end = buf + m->size;
	size_t off = (size_t)((m->seq + 7 * (uint64_t)m->client) % LGMSG_ALPHABET_LEN);

	p = lgmsg_put_lit(p, LGMSG_MAGIC, strlen(LGMSG_MAGIC));
	p = lgmsg_put_uint(p, m->client);
	p = lgmsg_put_lit(p, " N=", 3);
	p = lgmsg_put_uint(p, m->seq);
	p = lgmsg_put_lit(p, " S=", 3);
	p = lgmsg_put_uint(p, m->size);
	*p++ = ' ';
	while (p < end) {
		size_t k = LGMSG_ALPHABET_LEN - off;

		if (k > (size_t)(end - p))
			k = (size_t)(end - p);
		memcpy(p, lgmsg_alphabet + off, k);
		p += k;
		off = 0;
	}
}

/* A decimal number without a leading zero (other than "0" itself) and
 * without overflow; NULL if there is none at p. */
static const char *
lgmsg_get_uint(const char *p, const char *end, uint64_t *ret)
{
	const char *s = p;
	uint64_t v = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == s || (*s == '0' && p - s > 1))
		return NULL;
	*ret = v;
	return p;
}

static const char *
lgmsg_get_lit(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

int
lgmsg_parse(const char *msg, size_t len, struct lgmsg *ret)
{
	const char *p = msg, *end = msg + len;
	uint64_t c = 0, n = 0, s = 0;
	struct lgmsg m;

	if (!(p = lgmsg_get_lit(p, end, LGMSG_MAGIC)) || !(p = lgmsg_get_uint(p, end, &c)) ||
	    !(p = lgmsg_get_lit(p, end, " N=")) || !(p = lgmsg_get_uint(p, end, &n)) ||
	    !(p = lgmsg_get_lit(p, end, " S=")) || !(p = lgmsg_get_uint(p, end, &s)) ||
	    !(p = lgmsg_get_lit(p, end, " ")))
		return -EBADMSG;
	if (c > UINT32_MAX || n == 0 || s > LGMSG_SIZE_MAX)
		return -EBADMSG;
	m = (struct lgmsg){ .client = (uint32_t)c, .seq = n, .size = (size_t)s };
	if (m.size < lgmsg_prefix_len(&m))
		return -EBADMSG;
	*ret = m;
	return 0;
}
