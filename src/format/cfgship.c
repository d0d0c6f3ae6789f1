/* The values of the [ship] section (cfg.h: cfg_ship_check): one rule for
 * each key, used by seglogd (--check-config and its start, which only
 * checks [ship]) and by `seglog ship` (its config file and the same
 * values given as options), so that the two never disagree about what is
 * a valid configuration.  Pure. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cleanup.h"
#include "parse.h"
#include "utf8.h"

/* librdkafka's compression.type values, "none" for no compression */
static const char *const cfg_ship_codecs[] = { "zstd", "lz4", "snappy", "gzip", "none" };

static bool
cfg_ship_printable(const char *v)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* One bootstrap server: [SCHEME://]HOST:PORT, HOST a name, an IPv4
 * address or a [bracketed] IPv6 one, PORT 1..65535 in digits. */
static bool
cfg_ship_broker_ok(const char *s, size_t n)
{
	const char *end = s + n, *scheme = NULL, *colon;
	uint64_t port;

	for (const char *p = s; p + 3 <= end; p++)
		if (memcmp(p, "://", 3) == 0) {
			scheme = p;
			break;
		}
	if (scheme) {
		if (scheme == s || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") <
					   (size_t)(scheme - s))
			return false;
		s = scheme + 3;
	}
	colon = memrchr(s, ':', (size_t)(end - s));
	if (!colon || colon == s || colon + 1 == end || (size_t)(end - colon - 1) > 5 ||
	    parse_u64_mem(colon + 1, (size_t)(end - colon - 1), &port) < 0 || port == 0 ||
	    port > 65535)
		return false;
	if (s[0] == '[')
		return colon - s > 2 && colon[-1] == ']' &&
		       strspn(s + 1, "0123456789abcdefABCDEF:.") >= (size_t)(colon - s - 2);
	for (const char *p = s; p < colon; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p))
			return false;
	return true;
}

/* A comma-separated list of them, no empty element. */
static bool
cfg_ship_brokers_ok(const char *v)
{
	for (;;) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		if (!cfg_ship_broker_ok(v, n))
			return false;
		if (!comma)
			return true;
		v = comma + 1;
	}
}

int
cfg_ship_unquote(const char *raw, char **ret_copy)
{
	size_t n = strlen(raw);

	*ret_copy = NULL;
	if (!n || (raw[0] != '"' && raw[n - 1] != '"'))
		return 0;
	if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
		return -EINVAL;
	*ret_copy = strndup(raw + 1, n - 2);
	return *ret_copy ? 0 : -ENOMEM;
}

/* A Kafka topic name: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static bool
cfg_ship_topic_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 249 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int
cfg_ship_check(const char *key, const char *value, char *why, size_t why_len)
{
	uint64_t us;

	why[0] = '\0';
	if (strcmp(key, "brokers") == 0) {
		if (!cfg_ship_brokers_ok(value))
			goto bad_brokers;
		return 0;
	}
	if (strcmp(key, "topic") == 0) {
		if (cfg_ship_topic_ok(value))
			return 0;
		snprintf(why, why_len, "'%s': a Kafka topic is 1 to 249 of a-z A-Z 0-9 . _ -",
			 value);
		return -EINVAL;
	}
	if (strcmp(key, "cursor_file") == 0) {
		if (value[0] == '/' && cfg_ship_printable(value))
			return 0;
		snprintf(why, why_len, "'%s': must be an absolute path (seglogd and seglog ship "
			 "run in different directories)", value);
		return -EINVAL;
	}
	if (strcmp(key, "host_id") == 0) {
		if (*value && strlen(value) <= 255 && cfg_ship_printable(value) &&
		    utf8_valid(value, strlen(value)))
			return 0;
		snprintf(why, why_len, "'%s': a host id is 1 to 255 printable characters of "
			 "UTF-8 (leave the key out for the host name)", value);
		return -EINVAL;
	}
	if (strcmp(key, "compression") == 0) {
		for (size_t i = 0; i < ELEMENTSOF(cfg_ship_codecs); i++)
			if (strcmp(value, cfg_ship_codecs[i]) == 0)
				return 0;
		snprintf(why, why_len, "'%s': one of zstd, lz4, snappy, gzip, none", value);
		return -EINVAL;
	}
	if (strcmp(key, "on_permanent_error") == 0) {
		if (strcmp(value, "stop") == 0 || strcmp(value, "skip") == 0)
			return 0;
		snprintf(why, why_len, "'%s': stop or skip", value);
		return -EINVAL;
	}
	if (strcmp(key, "drain_timeout") == 0) {
		if (cfg_parse_duration(value, &us) == 0 && us <= CFG_SHIP_DRAIN_MAX_MS * 1000)
			return 0;
		snprintf(why, why_len, "'%s': a duration from 0 to 1h (5s, 500ms)", value);
		return -EINVAL;
	}
	if (strncmp(key, "kafka.", 6) == 0 && key[6])
		return 0; /* librdkafka judges its own properties */
	snprintf(why, why_len, "unknown key in [ship] (see seglogd.conf(5))");
	return -ENOENT;
bad_brokers:
	snprintf(why, why_len, "'%s': a list of HOST:PORT separated by commas (PORT 1 to "
		 "65535; an IPv6 HOST in [brackets])", value);
	return -EINVAL;
}
