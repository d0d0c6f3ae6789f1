/* seglogd's configuration: defaults, the INI file parsed with libinih, and
 * the value parsers.  Pure: it reads a file or a string and fills a struct;
 * it never logs and never starts anything.
 *
 * Line numbers.  libinih tells its handler no line number (Debian builds it
 * without INI_HANDLER_LINENO), so both loaders drive ini_parse_stream() --
 * which ini_parse_file() and ini_parse_string() merely wrap -- with a reader
 * of our own that counts lines.  ini_parse_stream() asks the reader for one
 * line, handles it completely (calling the handler at most once) and only
 * then asks for the next, so the line the reader returned last is the line
 * being handled: no second pass, no guessing which occurrence of a key inih
 * means.  The tests pin the numbers down.
 *
 * The reader also hands inih each line trimmed, and checks it first:
 *  - without leading blanks, "  key = value" is a key, never a Python-style
 *    continuation that would silently glue it onto the value above;
 *  - a line longer than inih's buffer (199 bytes) is an error, where inih
 *    would cut it in two and read the rest as another line;
 *  - "[section]" is checked at once, as inih reports sections only through
 *    their keys: "[nope]" alone is still an error;  a NUL byte is an error.
 * After the first error the reader ends the input: the message names the
 * first problem in the file, and loading is all or nothing (on a copy). */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>

#include "cfg.h"
#include "cfgvalue.h"
#include "cleanup.h"
#include "parse.h"
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
#define CFG_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CFG_NOLIMIT UINT64_MAX

enum cfg_type {
	CFG_PATH,	/* absolute path (string) */
	CFG_STRING,	/* a name, empty for NULL */
	CFG_DURABILITY, /* fsync | write */
	CFG_SIZE,	/* cfg_parse_size(), bounded by min .. max */
	CFG_DURATION,	/* cfg_parse_duration(), bounded */
	CFG_COUNT,	/* plain decimal number, bounded */
	CFG_MODE,	/* octal 0 .. 07777 */
	CFG_KEEP_FREE,	/* size or "N%" */
	CFG_LOG_LEVEL,	/* syslog level name or 0 .. 7 */
	CFG_BOOL,	/* yes | no | true | false | 1 | 0 */
};

enum cfg_flag {
	CFG_OPTIONAL = 1 << 0, /* an empty value unsets the string (NULL) */
	CFG_SOCKET = 1 << 1,   /* a path that must fit a sockaddr_un */
};

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	unsigned flags;
	size_t offset, size; /* of the field in struct cfg */
	uint64_t min, max;
};

#define CFG_KEY(sec, key, field, type, flags, min, max)                                          \
	{ sec, #key, type, flags, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), \
	  min, max }

/* Every key, in the order of cfg.h, conf/seglogd.conf and seglogd.conf(5). */
static const struct cfg_key cfg_keys[] = {
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
	CFG_KEY("server", hello_timeout, hello_timeout_us, CFG_DURATION, 0, CFG_MS, CFG_NOLIMIT),
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

/* The string field a key stores into, or NULL if the key is not a string. */
static char **
cfg_string(struct cfg *c, const struct cfg_key *k)
{
	return k->type == CFG_PATH || k->type == CFG_STRING ? (char **)((char *)c + k->offset)
							   : NULL;
}

/* Replaces *field with a copy of value (NULL allowed). */
static int
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
		.memory_limit = 16 * CFG_MIB,
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
		.hello_timeout_us = 10 * CFG_SEC,
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

/* A deep copy of src, for loading all or nothing. */
static int
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

enum { CFG_FMT_MAX = 48 };

/* A number of key k's kind the way a user would write it, in the largest
 * unit that divides it: "64M", "10s", "1500ms", "0". */
static const char *
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

/* The state of one load: the struct being filled, the input, the line
 * handed to inih last, and the first error. */
struct cfg_parse {
	struct cfg *c;
	const char *name; /* file name, or "command line" */
	unsigned line;	  /* 0 when there are no lines (cfg_set) */
	FILE *f;	  /* the input: a file ... */
	char *buf;	  /* ... read with getline() into this */
	size_t buf_size;
	const char *text; /* ... or a string */
	int r;		  /* 0, or the first error */
	unsigned error_line;
	char *error;
};

static void
cfg_parse_done(struct cfg_parse *p)
{
	free(p->buf);
	free(p->error);
}

/* Records the first error as "NAME:LINE: KEY: what" (KEY and LINE only if
 * known); later ones are dropped.  Returns -EINVAL for "return cfg_fail()". */
__attribute__((format(printf, 3, 4))) static int
cfg_fail(struct cfg_parse *p, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	char line[16] = "";
	va_list ap;
	int n;

	if (p->r < 0)
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(line, sizeof(line), ":%u", p->line);
	if (n < 0 || asprintf(&p->error, "%s%s: %s%s%s", p->name, line, key ? key : "",
			      key ? ": " : "", what) < 0) {
		what = NULL; /* vasprintf() leaves it undefined on failure */
		p->error = NULL;
		p->r = -ENOMEM;
		return -EINVAL;
	}
	p->r = -EINVAL;
	p->error_line = p->line;
	return -EINVAL;
}

/* "NAME: cannot open: No such file or directory"; returns r (-errno). */
static int
cfg_fail_errno(struct cfg_parse *p, int r, const char *what)
{
	if (p->r < 0)
		return r;
	if (asprintf(&p->error, "%s: %s: %s", p->name, what, strerror(-r)) < 0)
		p->error = NULL;
	p->r = r;
	return r;
}

static int
cfg_fail_range(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	char lo[CFG_FMT_MAX], hi[CFG_FMT_MAX];

	cfg_format(lo, sizeof(lo), k, k->min);
	cfg_format(hi, sizeof(hi), k, k->max);
	if (k->max == CFG_NOLIMIT && k->min == 0)
		return cfg_fail(p, k->name, "\"%s\" is too large", v);
	if (k->max == CFG_NOLIMIT)
		return cfg_fail(p, k->name, "\"%s\" is out of range (use at least %s)", v, lo);
	return cfg_fail(p, k->name, "\"%s\" is out of range (use %s .. %s)", v, lo, hi);
}

/* --- applying one key --------------------------------------------------- */

static int
cfg_store_path(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	size_t n = strlen(v);

	if (!n && (k->flags & CFG_OPTIONAL))
		return cfg_strdup(cfg_string(p->c, k), NULL);
	if (!n)
		return cfg_fail(p, k->name, "is empty (give an absolute path)");
	if (v[0] != '/')
		return cfg_fail(p, k->name, "\"%s\" is not an absolute path (start it with /)", v);
	if ((k->flags & CFG_SOCKET) && n > CFG_SUN_PATH_MAX)
		return cfg_fail(p, k->name, "\"%s\" is too long for a Unix socket (%zu bytes, at "
				"most %zu)", v, n, CFG_SUN_PATH_MAX);
	return cfg_strdup(cfg_string(p->c, k), v);
}

/* "15%" of the file system, or a size; the other form is reset. */
static int
cfg_store_keep_free(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	size_t len = strlen(v);
	uint64_t n = 0;
	int r;

	if (len && v[len - 1] == '%') {
		r = parse_u64_mem(v, len - 1, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a percentage (use 0%% .. 99%%, "
					"e.g. 15%%)", v);
		if (r < 0 || n > k->max)
			return cfg_fail(p, k->name, "\"%s\" is out of range (use 0%% .. 99%%)", v);
		p->c->keep_free_percent = (unsigned)n;
		p->c->keep_free_bytes = 0;
		return 0;
	}
	r = cfg_parse_size(v, &n);
	if (r == -ERANGE)
		return cfg_fail(p, k->name, "\"%s\" is too large", v);
	if (r < 0)
		return cfg_fail(p, k->name, "\"%s\" is neither a size nor a percentage (use e.g. "
				"1G or 15%%)", v);
	p->c->keep_free_bytes = n;
	p->c->keep_free_percent = 0;
	return 0;
}

/* Parses v as key k wants it and stores it in p->c, or says what is wrong
 * and what to write instead. */
static int
cfg_store(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	char *field = (char *)p->c + k->offset;
	uint64_t n = 0;
	mode_t mode;
	int r = 0;

	switch (k->type) {
	case CFG_PATH:
		return cfg_store_path(p, k, v);
	case CFG_STRING: /* checked where it is used (getgrnam()) */
		return cfg_strdup(cfg_string(p->c, k), *v ? v : NULL);
	case CFG_KEEP_FREE:
		return cfg_store_keep_free(p, k, v);
	case CFG_DURABILITY:
		if (strcmp(v, "fsync") == 0)
			p->c->durability = CFG_DURABILITY_FSYNC;
		else if (strcmp(v, "write") == 0)
			p->c->durability = CFG_DURABILITY_WRITE;
		else
			return cfg_fail(p, k->name, "\"%s\" is not a durability (use fsync or write)",
					v);
		return 0;
	case CFG_LOG_LEVEL:
		if (cfg_parse_log_level(v, &p->c->log_level) < 0)
			return cfg_fail(p, k->name, "\"%s\" is not a log level (use emerg, alert, "
					"crit, err, warning, notice, info, debug, or 0 .. 7)", v);
		return 0;
	case CFG_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
			*(bool *)field = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
			*(bool *)field = false;
		else
			return cfg_fail(p, k->name, "\"%s\" is not a boolean (use yes or no)", v);
		return 0;
	case CFG_MODE:
		r = cfg_parse_mode(v, &mode);
		if (r == -ERANGE)
			return cfg_fail(p, k->name, "\"%s\" is out of range (use 0 .. 07777)", v);
		if (r < 0)
			return cfg_fail(p, k->name, "\"%s\" is not an octal mode (use 0 .. 07777, "
					"e.g. 0640)", v);
		*(mode_t *)field = mode;
		return 0;
	case CFG_SIZE:
		r = cfg_parse_size(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a size (use a whole number with "
					"an optional K, M, G or T, e.g. 64M)", v);
		break;
	case CFG_DURATION:
		r = cfg_parse_duration(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a duration (use a whole number "
					"with us, ms, s, min, h, d or w, e.g. 10s or 1h30min)", v);
		break;
	case CFG_COUNT:
		r = parse_u64(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a whole number", v);
		break;
	}
	if (r < 0 || n < k->min || n > k->max)
		return cfg_fail_range(p, k, v);
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)field = (uint32_t)n;
	else
		*(uint64_t *)field = n;
	return 0;
}

/* The value as meant, in *ret (raw itself, or *ret_copy): without one
 * surrounding pair of double quotes, which inih keeps.  An unquoted value
 * that seems to end in a "# comment" is refused: inih starts inline
 * comments only with " ;", so the comment would become part of the value.
 * A value from the command line (no line number) is taken as given. */
static int
cfg_unquote(struct cfg_parse *p, const struct cfg_key *k, const char *raw, const char **ret,
	    char **ret_copy)
{
	size_t n = strlen(raw);

	*ret = raw;
	if (!p->line)
		return 0;
	if (n && (raw[0] == '"' || raw[n - 1] == '"')) {
		if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
			return cfg_fail(p, k->name, "%s: the quotes do not match (write \"...\" "
					"around the whole value, or no quotes)", raw);
		*ret_copy = strndup(raw + 1, n - 2);
		if (!*ret_copy)
			return -ENOMEM;
		*ret = *ret_copy;
		return 0;
	}
	if (strstr(raw, " #") || strstr(raw, "\t#"))
		return cfg_fail(p, k->name, "\"%s\": a # comment must be on a line of its own "
				"(after a value, start comments with ;)", raw);
	return 0;
}

/* Remembers where key i was set, for cfg_validate()'s messages. */
static int
cfg_set_origin(struct cfg_parse *p, size_t i)
{
	char *o;

	if (p->line ? asprintf(&o, "%s:%u", p->name, p->line) < 0 : !(o = strdup(p->name)))
		return -ENOMEM;
	free(p->c->origin[i]);
	p->c->origin[i] = o;
	return 0;
}

/* Sets key i from its raw text; the first error stays in p. */
static int
cfg_apply(struct cfg_parse *p, size_t i, const char *raw)
{
	_cleanup_free_ char *copy = NULL;
	const char *v = raw;
	int r;

	r = cfg_unquote(p, &cfg_keys[i], raw, &v, &copy);
	if (r >= 0)
		r = cfg_store(p, &cfg_keys[i], v);
	if (r >= 0)
		r = cfg_set_origin(p, i);
	if (r < 0 && p->r == 0)
		p->r = r;
	return r;
}

static int
cfg_find(const char *section, const char *name)
{
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if ((!section || strcmp(cfg_keys[i].section, section) == 0) &&
		    strcmp(cfg_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* An unknown key, with a hint where it belongs if it is known elsewhere. */
static int
cfg_fail_unknown(struct cfg_parse *p, const char *section, const char *name)
{
	int i = cfg_find(NULL, name);

	if (!*section && i >= 0)
		return cfg_fail(p, name, "key outside any section (put it under [%s])",
				cfg_keys[i].section);
	if (!*section)
		return cfg_fail(p, name, "unknown key outside any section (keys go under "
				"[storage] or [server]; see seglogd.conf(5))");
	if (i >= 0)
		return cfg_fail(p, name, "unknown key in [%s] (it belongs in [%s])", section,
				cfg_keys[i].section);
	return cfg_fail(p, name, "unknown key in [%s] (see seglogd.conf(5) for the keys)",
			section);
}

/* One line of [ship]: it belongs to `seglog ship` (cmd_ship.c reads it);
 * the daemon checks its values by the same rules (cfgship.c), so a
 * mistake there is an error at the daemon's start and in --check-config
 * too, and keeps where the shipper's cursor is (retention, seglog vacuum).
 * An empty value means the default. */
static int
cfg_ship_line(struct cfg_parse *p, const char *name, const char *raw)
{
	_cleanup_free_ char *copy = NULL;
	const char *value = raw;
	char why[512];

	if (cfg_ship_unquote(raw, &copy) < 0)
		return cfg_fail(p, name, "%s: the quotes do not match (write \"...\" around the "
				"whole value, or no quotes)", raw), 0;
	if (copy)
		value = copy;
	else if (strstr(raw, " #") || strstr(raw, "\t#"))
		return cfg_fail(p, name, "\"%s\": a # comment must be on a line of its own "
				"(after a value, start comments with ;)", raw), 0;
	if (*value && cfg_ship_check(name, value, why, sizeof(why)) < 0)
		return cfg_fail(p, name, "%s", why), 0;
	if (!*value && cfg_ship_check(name, "", why, sizeof(why)) == -ENOENT)
		return cfg_fail(p, name, "%s", why), 0;
	if (strcmp(name, "cursor_file") == 0 ||
	    (strcmp(name, "brokers") == 0 && !p->c->ship_cursor)) {
		char *v = strdup(strcmp(name, "cursor_file") == 0 && *value ? value
									 : CFG_SHIP_DEFAULT_CURSOR);
		if (!v)
			return cfg_fail(p, name, "out of memory"), 0;
		free(p->c->ship_cursor);
		p->c->ship_cursor = v;
	}
	return 1;
}

/* inih's handler: one "key = value" of the line p->line. */
static int
cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parse *p = user;
	int i;

	if (p->r < 0)
		return 0;
	if (!*name)
		return cfg_fail(p, NULL, "a value without a key (write key = value)"), 0;
	if (!value)
		return cfg_fail(p, name, "a key without a value (write key = value)"), 0;
	if (strcmp(section, "ship") == 0)
		return cfg_ship_line(p, name, value);
	i = cfg_find(section, name);
	if (i < 0)
		return cfg_fail_unknown(p, section, name), 0;
	return cfg_apply(p, (size_t)i, value) >= 0;
}

/* --- reading lines ------------------------------------------------------ */

static bool
cfg_known_section(const char *s, size_t n)
{
	return (n == 7 && memcmp(s, "storage", 7) == 0) || (n == 6 && memcmp(s, "server", 6) == 0) ||
	       (n == 4 && memcmp(s, "ship", 4) == 0);
}

/* A "[section]" line: a known name, and nothing but a comment after it. */
static bool
cfg_check_section(struct cfg_parse *p, const char *line)
{
	const char *end = strchr(line, ']'), *rest;

	if (!end)
		return true; /* inih reports the syntax error */
	rest = cfg_skip_blanks(end + 1);
	if (*rest && *rest != '#' && *rest != ';')
		return cfg_fail(p, NULL, "%.*s: text after the section name (put it on a line of "
				"its own)", (int)(end + 1 - line), line), false;
	if (!cfg_known_section(line + 1, (size_t)(end - line - 1)))
		return cfg_fail(p, NULL, "%.*s: unknown section (known: storage, server)",
				(int)(end + 1 - line), line), false;
	return true;
}

/* The next line of the input, raw, with its length; 0 at the end. */
static int
cfg_next_line(struct cfg_parse *p, const char **ret, size_t *ret_len)
{
	if (p->f) {
		ssize_t n = getline(&p->buf, &p->buf_size, p->f);

		if (n < 0)
			return feof(p->f) ? 0 : cfg_fail_errno(p, errno > 0 ? -errno : -EIO,
							       "cannot read");
		*ret = p->buf;
		*ret_len = (size_t)n;
		return 1;
	}
	if (!*p->text)
		return 0;
	const char *nl = strchr(p->text, '\n');
	*ret = p->text;
	*ret_len = nl ? (size_t)(nl + 1 - p->text) : strlen(p->text);
	p->text += *ret_len;
	return 1;
}

/* inih's reader (fgets()-like): the next line, counted, trimmed, checked
 * (see the top of the file); NULL ends the input, also after an error. */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	const char *s;
	size_t n;

	if (p->r < 0 || cfg_next_line(p, &s, &n) <= 0)
		return NULL;
	p->line++;
	if (memchr(s, 0, n))
		return cfg_fail(p, NULL, "a NUL byte (is this a text file?)"), NULL;
	if (p->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) /* UTF-8 BOM */
		s += 3, n -= 3;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n >= (size_t)num)
		return cfg_fail(p, NULL, "line too long (%zu characters, at most %d)", n, num - 1),
		       NULL;
	memcpy(str, s, n);
	str[n] = 0;
	if (str[0] == '[' && !cfg_check_section(p, str))
		return NULL;
	return str;
}

/* --- loading ------------------------------------------------------------ */

/* Hands the first error's message (NULL without memory) to *ret_error. */
static int
cfg_failed(struct cfg_parse *p, char **ret_error)
{
	if (ret_error)
		*ret_error = TAKE_PTR(p->error);
	return p->r;
}

/* Ends a load: on success the filled copy n replaces c; on error c is left
 * alone and the message goes to *ret_error. */
static int
cfg_finish(struct cfg *c, struct cfg *n, struct cfg_parse *p, char **ret_error)
{
	if (p->r < 0)
		return cfg_failed(p, ret_error);
	cfg_done(c);
	*c = *n;
	memset(n, 0, sizeof(*n));
	return 0;
}

/* Runs inih over p's input into a copy of c.  inih's own return value is
 * the first line it found no "[section]", "key = value" or comment on (or
 * that the handler refused); a syntax error before our first error wins. */
static int
cfg_parse(struct cfg *c, struct cfg_parse *p, char **ret_error)
{
	_cleanup_(cfg_done) struct cfg n = { 0 };
	int r;

	p->r = cfg_copy(&n, c);
	if (p->r < 0)
		return cfg_finish(c, &n, p, ret_error);
	p->c = &n;
	r = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	if (r > 0 && (p->r == 0 || (p->r == -EINVAL && (unsigned)r < p->error_line))) {
		free(TAKE_PTR(p->error));
		p->r = 0;
		p->line = (unsigned)r;
		cfg_fail(p, NULL, "syntax error (expected [section], key = value, or a comment "
			 "starting with # or ;)");
	} else if (r < 0 && p->r == 0) {
		p->r = -ENOMEM;
	}
	return cfg_finish(c, &n, p, ret_error);
}

int
cfg_load_string(struct cfg *c, const char *name, const char *text, char **ret_error)
{
	_cleanup_(cfg_parse_done) struct cfg_parse p = { .name = name, .text = text };

	assert(c && name && text);
	return cfg_parse(c, &p, ret_error);
}

int
cfg_load_file(struct cfg *c, const char *path, char **ret_error)
{
	_cleanup_(cfg_parse_done) struct cfg_parse p = { .name = path };
	_cleanup_fclose_ FILE *f = NULL;

	assert(c && path);
	f = fopen(path, "re");
	if (!f) {
		cfg_fail_errno(&p, -errno, "cannot open");
		return cfg_failed(&p, ret_error);
	}
	p.f = f;
	return cfg_parse(c, &p, ret_error);
}

int
cfg_set(struct cfg *c, const char *name, const char *section, const char *key, const char *value,
	char **ret_error)
{
	_cleanup_(cfg_parse_done) struct cfg_parse p = { .name = name };
	_cleanup_(cfg_done) struct cfg n = { 0 };
	int i;

	assert(c && name && section && key && value);
	p.r = cfg_copy(&n, c);
	p.c = &n;
	i = cfg_find(section, key);
	if (p.r == 0 && i < 0)
		cfg_fail_unknown(&p, section, key);
	else if (p.r == 0)
		cfg_apply(&p, (size_t)i, value);
	return cfg_finish(c, &n, &p, ret_error);
}

void
cfg_dump(const struct cfg *c, FILE *f)
{
	static const char *const levels[] = { "emerg",	 "alert",  "crit", "err",
					      "warning", "notice", "info", "debug" };
	const char *section = NULL;

	for (size_t i = 0; i < ELEMENTSOF(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *field = (const char *)c + k->offset;
		char buf[CFG_FMT_MAX];
		const char *v = buf;
		uint64_t n = k->size == sizeof(uint32_t) ? *(const uint32_t *)field
							 : k->size == sizeof(uint64_t) ? *(const uint64_t *)field : 0;

		if (!section || strcmp(section, k->section) != 0) {
			fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		switch (k->type) {
		case CFG_PATH:
		case CFG_STRING:
			v = *(char *const *)field ? *(char *const *)field : "";
			break;
		case CFG_DURABILITY:
			v = c->durability == CFG_DURABILITY_WRITE ? "write" : "fsync";
			break;
		case CFG_SIZE:
		case CFG_DURATION:
			cfg_format(buf, sizeof(buf), k, n);
			break;
		case CFG_COUNT:
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
			break;
		case CFG_MODE:
			snprintf(buf, sizeof(buf), "%04o", (unsigned)*(const mode_t *)field);
			break;
		case CFG_KEEP_FREE:
			if (c->keep_free_percent)
				snprintf(buf, sizeof(buf), "%u%%", c->keep_free_percent);
			else
				cfg_format(buf, sizeof(buf), &(struct cfg_key){ .type = CFG_SIZE },
					   c->keep_free_bytes);
			break;
		case CFG_LOG_LEVEL:
			v = levels[(unsigned)c->log_level & 7];
			break;
		case CFG_BOOL:
			v = *(const bool *)field ? "yes" : "no";
			break;
		}
		fprintf(f, "%s = %s", k->name, v);
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

/* What no single key can check: the read buffer holds the largest record
 * frame; memory_limit leaves room for the next batch (2 * batch_max) and
 * for at least one record of max_record while a batch is in flight (twice
 * its encoded line, see record_line_max()); a rate limit has a window; the
 * sockets do not share a path. */
int
cfg_validate(const struct cfg *c, char **ret_error)
{
	static const char *const sockets[] = { "socket", "syslog_dgram", "syslog_stream" };
	unsigned long long frame = c->max_record + (unsigned long long)CFG_FRAME_OVERHEAD;
	unsigned long long line = record_line_max(RECORD_TAG_MAX, c->max_record);

	if (c->client_buffer <= frame)
		return cfg_invalid(c, ret_error, "client_buffer", "max_record", "must be larger "
				   "than max_record plus %d bytes of frame overhead: raise it to at "
				   "least %llu or lower max_record", (int)CFG_FRAME_OVERHEAD, frame + 1);
	if (c->memory_limit / 2 < c->batch_max)
		return cfg_invalid(c, ret_error, "memory_limit", "batch_max", "must be at least "
				   "twice batch_max: raise it to at least %llu or lower batch_max",
				   2 * (unsigned long long)c->batch_max);
	if (c->memory_limit / 2 < line)
		return cfg_invalid(c, ret_error, "memory_limit", "max_record", "must hold two of "
				   "the longest records (%llu bytes each when encoded): raise it to "
				   "at least %llu or lower max_record", line, 2 * line);
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
