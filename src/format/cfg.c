/* Loading seglogd's configuration: the INI file or string parsed with
 * libinih, each value checked against its key (cfg_internal.h: the table, the
 * defaults, dump and validate live in cfgkeys.c) and stored.  Pure: it reads
 * a file or a string and fills a struct; it never logs and never starts
 * anything.
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

#include "cfg.h"
#include "cfg_internal.h"
#include "cfgvalue.h"
#include "cleanup.h"
#include "parse.h"

#define CFG_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* --- messages ----------------------------------------------------------- */

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

static int
cfg_store_durability(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	if (strcmp(v, "fsync") == 0)
		p->c->durability = CFG_DURABILITY_FSYNC;
	else if (strcmp(v, "write") == 0)
		p->c->durability = CFG_DURABILITY_WRITE;
	else
		return cfg_fail(p, k->name, "\"%s\" is not a durability (use fsync or write)", v);
	return 0;
}

static int
cfg_store_log_level(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	if (cfg_parse_log_level(v, &p->c->log_level) < 0)
		return cfg_fail(p, k->name, "\"%s\" is not a log level (use emerg, alert, crit, "
				"err, warning, notice, info, debug, or 0 .. 7)", v);
	return 0;
}

static int
cfg_store_bool(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	bool *field = (bool *)((char *)p->c + k->offset);

	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*field = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*field = false;
	else
		return cfg_fail(p, k->name, "\"%s\" is not a boolean (use yes or no)", v);
	return 0;
}

static int
cfg_store_mode(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	mode_t mode;
	int r;

	r = cfg_parse_mode(v, &mode);
	if (r == -ERANGE)
		return cfg_fail(p, k->name, "\"%s\" is out of range (use 0 .. 07777)", v);
	if (r < 0)
		return cfg_fail(p, k->name, "\"%s\" is not an octal mode (use 0 .. 07777, e.g. "
				"0640)", v);
	*(mode_t *)((char *)p->c + k->offset) = mode;
	return 0;
}

/* A size, a duration or a count, within the key's bounds, into its u32 or
 * u64 field. */
static int
cfg_store_number(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	char *field = (char *)p->c + k->offset;
	uint64_t n = 0;
	int r;

	if (k->type == CFG_SIZE) {
		r = cfg_parse_size(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a size (use a whole number with "
					"an optional K, M, G or T, e.g. 64M)", v);
	} else if (k->type == CFG_DURATION) {
		r = cfg_parse_duration(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a duration (use a whole number "
					"with us, ms, s, min, h, d or w, e.g. 10s or 1h30min)", v);
	} else {
		r = parse_u64(v, &n);
		if (r == -EINVAL)
			return cfg_fail(p, k->name, "\"%s\" is not a whole number", v);
	}
	if (r < 0 || n < k->min || n > k->max)
		return cfg_fail_range(p, k, v);
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)field = (uint32_t)n;
	else
		*(uint64_t *)field = n;
	return 0;
}

/* Parses v as key k wants it and stores it in p->c, or says what is wrong
 * and what to write instead. */
static int
cfg_store(struct cfg_parse *p, const struct cfg_key *k, const char *v)
{
	switch (k->type) {
	case CFG_PATH:
		return cfg_store_path(p, k, v);
	case CFG_STRING: /* checked where it is used (getgrnam()) */
		return cfg_strdup(cfg_string(p->c, k), *v ? v : NULL);
	case CFG_KEEP_FREE:
		return cfg_store_keep_free(p, k, v);
	case CFG_DURABILITY:
		return cfg_store_durability(p, k, v);
	case CFG_LOG_LEVEL:
		return cfg_store_log_level(p, k, v);
	case CFG_BOOL:
		return cfg_store_bool(p, k, v);
	case CFG_MODE:
		return cfg_store_mode(p, k, v);
	case CFG_SIZE:
	case CFG_DURATION:
	case CFG_COUNT:
		return cfg_store_number(p, k, v);
	}
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
		return cfg_fail(p, NULL, "%.*s: unknown section (known: storage, server, ship)",
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
