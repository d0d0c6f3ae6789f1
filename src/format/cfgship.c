/* The values of the [ship] section (cfg.h: cfg_ship_check): one rule for
 * each key, used by seglogd (--check-config and its start, which only
 * checks [ship]) and by `seglog ship` (its config file and the same
 * values given as options), so that the two never disagree about what is
 * a valid configuration.  Pure. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cleanup.h"

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
		if (!*value || !cfg_ship_printable(value) || strchr(value, ' '))
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
		if (*value && strlen(value) <= 255 && cfg_ship_printable(value))
			return 0;
		snprintf(why, why_len, "'%s': a host id is 1 to 255 printable characters "
			 "(leave the key out for the host name)", value);
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
	snprintf(why, why_len, "'%s': a list of HOST:PORT separated by commas", value);
	return -EINVAL;
}
