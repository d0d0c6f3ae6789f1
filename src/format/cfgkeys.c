/* The keys of seglogd.conf: the table (section, name, kind, bounds, field),
 * the defaults, the struct's lifetime, and what is said about a loaded
 * struct: cfg_dump() writes it back as a file would, cfg_validate() checks
 * what no single key can.  cfg.c reads files and strings into it through
 * the same table (cfg_internal.h).  Pure: no logging, nothing started. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cfg.h"
#include "cfg_internal.h"
#include "cfgvalue.h"
#include "cleanup.h"
#include "proto.h"
#include "record.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* The largest RECORD frame besides the message: frame header, fixed part,
 * claimed time (u64) and pid (u32), and the longest tag. */
#define CFG_FRAME_OVERHEAD (PROTO_FRAME_HEADER + PROTO_RECORD_OVERHEAD_MAX)

#define CFG_KEY(sec, key, field, type, flags, min, max)                                          \
	{ sec, #key, type, flags, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), \
	  min, max }

/* Every key, in the order of cfg.h, conf/seglogd.conf and seglogd.conf(5). */
const struct cfg_key cfg_keys[CFG_N_KEYS] = {
	CFG_KEY("storage", dir, dir, CFG_PATH, 0, 0, 0),
	CFG_KEY("storage", durability, durability, CFG_DURABILITY, 0, 0, 0),
	CFG_KEY("storage", segment_size, segment_size, CFG_SIZE, 0, 4 * CFG_KIB, CFG_TIB),
	CFG_KEY("storage", segment_age, segment_age_us, CFG_DURATION, 0, 0, CFG_NOLIMIT),
	CFG_KEY("storage", max_segments, max_segments, CFG_COUNT, 0, 0, CFG_NOLIMIT),
	CFG_KEY("storage", max_bytes, max_bytes, CFG_SIZE, 0, 0, CFG_NOLIMIT),
	CFG_KEY("storage", max_age, max_age_us, CFG_DURATION, 0, 0, CFG_NOLIMIT),
	CFG_KEY("storage", keep_free, keep_free_bytes, CFG_KEEP_FREE, 0, 0, 99),
	CFG_KEY("storage", retention_waits_for_ship, retention_waits_for_ship, CFG_BOOL, 0, 0, 0),
	CFG_KEY("storage", memory_limit, memory_limit, CFG_SIZE, 0, 8 * CFG_KIB, CFG_TIB),
	CFG_KEY("storage", batch_max, batch_max, CFG_SIZE, 0, 4 * CFG_KIB, 64 * CFG_MIB),
	CFG_KEY("storage", dir_mode, dir_mode, CFG_MODE, 0, 0, 07777),
	CFG_KEY("storage", file_mode, file_mode, CFG_MODE, 0, 0, 07777),
	CFG_KEY("server", socket, socket, CFG_PATH, CFG_SOCKET, 0, 0),
	CFG_KEY("server", socket_mode, socket_mode, CFG_MODE, 0, 0, 07777),
	CFG_KEY("server", socket_group, socket_group, CFG_STRING, CFG_OPTIONAL, 0, 0),
	CFG_KEY("server", syslog_dgram, syslog_dgram, CFG_PATH, CFG_OPTIONAL | CFG_SOCKET, 0, 0),
	CFG_KEY("server", syslog_stream, syslog_stream, CFG_PATH, CFG_OPTIONAL | CFG_SOCKET, 0, 0),
	CFG_KEY("server", max_clients, max_clients, CFG_COUNT, 0, 1, 1000000),
	CFG_KEY("server", max_clients_per_uid, max_clients_per_uid, CFG_COUNT, 0, 0, 1000000),
	CFG_KEY("server", reserved_clients, reserved_clients, CFG_COUNT, 0, 0, 1000000),
	CFG_KEY("server", max_record, max_record, CFG_SIZE, 0, 1, CFG_MIB),
	CFG_KEY("server", client_buffer, client_buffer, CFG_SIZE, 0, CFG_KIB, CFG_GIB),
	CFG_KEY("server", ack_queue_max, ack_queue_max, CFG_SIZE, 0, CFG_KIB, CFG_GIB),
	CFG_KEY("server", memory_budget, memory_budget, CFG_SIZE, 0, CFG_MIB, CFG_TIB),
	CFG_KEY("server", hello_timeout, hello_timeout_us, CFG_DURATION, 0, CFG_MS, CFG_NOLIMIT),
	CFG_KEY("server", frame_timeout, frame_timeout_us, CFG_DURATION, 0, 0, CFG_NOLIMIT),
	CFG_KEY("server", rate_limit_burst, rate_limit_burst, CFG_COUNT, 0, 0, UINT32_MAX),
	CFG_KEY("server", rate_limit_interval, rate_limit_interval_us, CFG_DURATION, 0, 0,
		CFG_NOLIMIT),
	CFG_KEY("server", shutdown_timeout, shutdown_timeout_us, CFG_DURATION, 0, CFG_MS,
		CFG_NOLIMIT),
	CFG_KEY("server", log_level, log_level, CFG_LOG_LEVEL, 0, 0, 0),
	CFG_KEY("server", kmsg, kmsg, CFG_BOOL, 0, 0, 0),
};
_Static_assert(ELEMENTSOF(cfg_keys) == CFG_N_KEYS, "CFG_N_KEYS must match the key table");

/* --- the struct --------------------------------------------------------- */

char **
cfg_string(struct cfg *c, const struct cfg_key *k)
{
	return k->type == CFG_PATH || k->type == CFG_STRING ? (char **)((char *)c + k->offset)
							   : NULL;
}

int
cfg_strdup(char **field, const char *value)
{
	char *s = NULL;

	if (value) {
		s = strdup(value);
		if (!s)
			return -ENOMEM;
	}
	free(*field);
	*field = s;
	return 0;
}

int
cfg_init(struct cfg *c)
{
	*c = (struct cfg){
		.durability = CFG_DURABILITY_FSYNC,
		.segment_size = 64 * CFG_MIB,
		.segment_age_us = 86400 * CFG_SEC,
		.memory_limit = 4 * CFG_MIB,
		.batch_max = CFG_MIB,
		.dir_mode = 0750,
		.file_mode = 0640,
		.socket_mode = 0666,
		.max_clients = 1024,
		.max_clients_per_uid = 256,
		.reserved_clients = 16,
		.max_record = 64 * CFG_KIB,
		.client_buffer = 256 * CFG_KIB,
		.ack_queue_max = CFG_MIB,
		.memory_budget = 16 * CFG_MIB,
		.hello_timeout_us = 10 * CFG_SEC,
		.frame_timeout_us = 10 * CFG_SEC,
		.rate_limit_interval_us = CFG_SEC,
		.shutdown_timeout_us = 10 * CFG_SEC,
		.log_level = LOG_INFO,
	};
	if (cfg_strdup(&c->dir, LOCALSTATEDIR "/log/seglog") < 0 ||
	    cfg_strdup(&c->socket, RUNSTATEDIR "/seglog/seglog.sock") < 0) {
		cfg_done(c);
		return -ENOMEM;
	}
	return 0;
}

void
cfg_done(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		char **s = cfg_string(c, &cfg_keys[i]);
		if (s) {
			free(*s);
			*s = NULL;
		}
		free(c->origin[i]);
		c->origin[i] = NULL;
	}
	free(c->ship_cursor);
	c->ship_cursor = NULL;
}

/* Duplicates *s in place (NULL stays NULL); clears *ok if out of memory. */
static void
cfg_dup(char **s, bool *ok)
{
	if (*s && !(*s = strdup(*s)))
		*ok = false;
}

int
cfg_copy(struct cfg *dst, const struct cfg *src)
{
	bool ok = true;

	*dst = *src;
	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		char **s = cfg_string(dst, &cfg_keys[i]);
		if (s)
			cfg_dup(s, &ok);
		cfg_dup(&dst->origin[i], &ok);
	}
	cfg_dup(&dst->ship_cursor, &ok);
	if (!ok) {
		cfg_done(dst);
		return -ENOMEM;
	}
	return 0;
}

/* --- messages ----------------------------------------------------------- */

const char *
cfg_format(char *buf, size_t size, const struct cfg_key *k, uint64_t v)
{
	const struct cfg_unit *u = k->type == CFG_SIZE		? cfg_size_units
				   : k->type == CFG_DURATION	? cfg_duration_units
								: NULL;

	for (; u && u->name && v; u++)
		if (v % u->mult == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(v / u->mult), u->name);
			return buf;
		}
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

int
cfg_find(const char *section, const char *name)
{
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if ((!section || strcmp(cfg_keys[i].section, section) == 0) &&
		    strcmp(cfg_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* --- dump --------------------------------------------------------------- */

/* Key k of c as a config file would write it, in buf if it is a number. */
static const char *
cfg_dump_value(const struct cfg *c, const struct cfg_key *k, char buf[static CFG_FMT_MAX])
{
	static const char *const levels[] = { "emerg",	 "alert",  "crit", "err",
					      "warning", "notice", "info", "debug" };
	const char *field = (const char *)c + k->offset;
	uint64_t n = k->size == sizeof(uint32_t) ? *(const uint32_t *)field
		     : k->size == sizeof(uint64_t) ? *(const uint64_t *)field : 0;

	if (field == (const char *)&c->memory_budget)
		n = cfg_memory_budget(c); /* the values in force, if derived */
	if (field == (const char *)&c->memory_limit)
		n = cfg_memory_limit(c);

	switch (k->type) {
	case CFG_PATH:
	case CFG_STRING:
		return *(char *const *)field ? *(char *const *)field : "";
	case CFG_DURABILITY:
		return c->durability == CFG_DURABILITY_WRITE ? "write" : "fsync";
	case CFG_SIZE:
	case CFG_DURATION:
		return cfg_format(buf, CFG_FMT_MAX, k, n);
	case CFG_COUNT:
		snprintf(buf, CFG_FMT_MAX, "%llu", (unsigned long long)n);
		return buf;
	case CFG_MODE:
		snprintf(buf, CFG_FMT_MAX, "%04o", (unsigned)*(const mode_t *)field);
		return buf;
	case CFG_KEEP_FREE:
		if (c->keep_free_percent)
			snprintf(buf, CFG_FMT_MAX, "%u%%", c->keep_free_percent);
		else
			cfg_format(buf, CFG_FMT_MAX, &(struct cfg_key){ .type = CFG_SIZE },
				   c->keep_free_bytes);
		return buf;
	case CFG_LOG_LEVEL:
		return levels[(unsigned)c->log_level & 7];
	case CFG_BOOL:
		return *(const bool *)field ? "yes" : "no";
	}
	return buf;
}

void
cfg_dump(const struct cfg *c, FILE *f)
{
	const char *section = NULL;

	for (size_t i = 0; i < ELEMENTSOF(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char buf[CFG_FMT_MAX];

		if (!section || strcmp(section, k->section) != 0) {
			fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		fprintf(f, "%s = %s", k->name, cfg_dump_value(c, k, buf));
		if (c->origin[i])
			fprintf(f, "  # %s", c->origin[i]);
		fputc('\n', f);
	}
	/* of [ship], what the daemon uses: where the shipper's cursor is */
	if (c->ship_cursor)
		fprintf(f, "\n[ship]\n# seglogd uses only this key of [ship]: where the shipper's "
			"cursor is\ncursor_file = %s\n", c->ship_cursor);
}

/* --- cross-key checks --------------------------------------------------- */

static uint64_t
cfg_get(const struct cfg *c, int i)
{
	const char *field = (const char *)c + cfg_keys[i].offset;

	return cfg_keys[i].size == sizeof(uint32_t) ? *(const uint32_t *)field
						     : *(const uint64_t *)field;
}

static const char *
cfg_path(const struct cfg *c, const char *name)
{
	return *cfg_string((struct cfg *)c, &cfg_keys[cfg_find(NULL, name)]);
}

/* "max_record = 1M at FILE:3" or "... by default", for cfg_invalid(). */
static const char *
cfg_describe(char *buf, size_t size, const struct cfg *c, int i)
{
	const struct cfg_key *k = &cfg_keys[i];
	char v[CFG_FMT_MAX];
	char **s = cfg_string((struct cfg *)c, k);

	snprintf(buf, size, "%s = %s %s%s", k->name,
		 s ? *s : cfg_format(v, sizeof(v), k, cfg_get(c, i)),
		 c->origin[i] ? "at " : "by default", c->origin[i] ? c->origin[i] : "");
	return buf;
}

/* "ORIGIN: KEY: what is wrong and what to do (KEY = .. at .., OTHER = ..
 * by default)", located where the key to change, or else the other, was
 * set. */
__attribute__((format(printf, 5, 6))) static int
cfg_invalid(const struct cfg *c, char **ret_error, const char *key, const char *other,
	    const char *fmt, ...)
{
	int i = cfg_find(NULL, key), j = cfg_find(NULL, other);
	const char *origin = c->origin[i] ? c->origin[i] : c->origin[j];
	_cleanup_free_ char *what = NULL;
	char a[256], b[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0)
		what = NULL;
	if (!ret_error)
		return -EINVAL;
	if (n < 0 || asprintf(ret_error, "%s%s%s: %s (%s, %s)", origin ? origin : "",
			      origin ? ": " : "", key, what, cfg_describe(a, sizeof(a), c, i),
			      cfg_describe(b, sizeof(b), c, j)) < 0)
		*ret_error = NULL;
	return -EINVAL;
}

uint64_t
cfg_memory_limit(const struct cfg *c)
{
	uint64_t need = 2 * record_line_max(RECORD_TAG_MAX, c->max_record);

	if (c->origin[cfg_find(NULL, "memory_limit")])
		return c->memory_limit;
	if (need < 2 * (uint64_t)c->batch_max)
		need = 2 * (uint64_t)c->batch_max;
	return need > c->memory_limit ? need : c->memory_limit;
}

uint64_t
cfg_memory_budget(const struct cfg *c)
{
	static const uint64_t share = 16 * CFG_MIB - 4 * CFG_MIB; /* the defaults' */
	uint64_t lim = cfg_memory_limit(c);
	uint64_t need = lim + (2 * c->client_buffer > share ? 2 * c->client_buffer : share);

	if (c->origin[cfg_find(NULL, "memory_budget")])
		return c->memory_budget;
	return need > c->memory_budget ? need : c->memory_budget;
}

/* What no single key can check: the read buffer holds the largest record
 * frame; memory_limit leaves room for the next batch (2 * batch_max) and
 * for at least one record of max_record while a batch is in flight (twice
 * its encoded line, see record_line_max()); memory_budget holds
 * memory_limit and, for the connections' buffers, at least two full read
 * buffers (so one connection can always grow to finish a frame: the
 * no-deadlock rule of docs/design.md); a rate limit has a window; the
 * sockets do not share a path. */
int
cfg_validate(const struct cfg *c, char **ret_error)
{
	static const char *const sockets[] = { "socket", "syslog_dgram", "syslog_stream" };
	unsigned long long frame = c->max_record + (unsigned long long)CFG_FRAME_OVERHEAD;
	unsigned long long line = record_line_max(RECORD_TAG_MAX, c->max_record);
	uint64_t lim = cfg_memory_limit(c);

	if (c->client_buffer <= frame)
		return cfg_invalid(c, ret_error, "client_buffer", "max_record", "must be larger "
				   "than max_record plus %d bytes of frame overhead: raise it to at "
				   "least %llu or lower max_record", (int)CFG_FRAME_OVERHEAD, frame + 1);
	if (lim / 2 < c->batch_max)
		return cfg_invalid(c, ret_error, "memory_limit", "batch_max", "must be at least "
				   "twice batch_max: raise it to at least %llu or lower batch_max",
				   2 * (unsigned long long)c->batch_max);
	if (lim / 2 < line)
		return cfg_invalid(c, ret_error, "memory_limit", "max_record", "must hold two of "
				   "the longest records (%llu bytes each when encoded): raise it to "
				   "at least %llu or lower max_record", line, 2 * line);
	if (cfg_memory_budget(c) < lim + 2 * c->client_buffer)
		return cfg_invalid(c, ret_error, "memory_budget", "memory_limit", "must hold "
				   "memory_limit and two read buffers (2 x client_buffer = %llu): "
				   "raise it to at least %llu or lower memory_limit or client_buffer",
				   2 * (unsigned long long)c->client_buffer,
				   (unsigned long long)(lim + 2 * c->client_buffer));
	if (c->rate_limit_burst && !c->rate_limit_interval_us)
		return cfg_invalid(c, ret_error, "rate_limit_interval", "rate_limit_burst",
				   "must be more than 0 when rate_limit_burst is set: set it, e.g. "
				   "to 1s, or set rate_limit_burst = 0");
	for (size_t a = 0; a < ELEMENTSOF(sockets); a++)
		for (size_t b = a + 1; b < ELEMENTSOF(sockets); b++) {
			const char *x = cfg_path(c, sockets[a]), *y = cfg_path(c, sockets[b]);
			if (x && y && strcmp(x, y) == 0)
				return cfg_invalid(c, ret_error, sockets[b], sockets[a], "is the "
						   "same path as %s: give each socket its own",
						   sockets[a]);
		}
	return 0;
}
