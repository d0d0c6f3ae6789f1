/* Fuzzes the configuration parser (src/format/cfg.h) from memory through
 * cfg_load_string(), the same parser cfg_load_file() drives, plus
 * cfg_set() and the value parsers.  Properties:
 *
 * - loading is all or nothing: on error the struct is exactly as before
 *   and the message names the input ("fuzz.conf:...");
 * - what loads once loads again on top of itself, to the same values;
 * - cfg_validate() and cfg_done() are fine with whatever loaded (no leak:
 *   libFuzzer's LeakSanitizer and valgrind watch);
 * - a value parser writes *ret only on success. */
#include "config.h"

#include <errno.h>

#include "cfg.h"
#include "cleanup.h"
#include "fuzz.h"

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
cfg_equal(const struct cfg *a, const struct cfg *b, bool origins)
{
	if (!str_eq(a->dir, b->dir) || !str_eq(a->socket, b->socket) ||
	    !str_eq(a->socket_group, b->socket_group) || !str_eq(a->syslog_dgram, b->syslog_dgram) ||
	    !str_eq(a->syslog_stream, b->syslog_stream))
		return false;
	if (origins)
		for (size_t i = 0; i < CFG_N_KEYS; i++)
			if (!str_eq(a->origin[i], b->origin[i]))
				return false;
	return a->durability == b->durability && a->segment_size == b->segment_size &&
	       a->segment_age_us == b->segment_age_us && a->max_segments == b->max_segments &&
	       a->max_bytes == b->max_bytes && a->max_age_us == b->max_age_us &&
	       a->keep_free_bytes == b->keep_free_bytes &&
	       a->keep_free_percent == b->keep_free_percent && a->memory_limit == b->memory_limit &&
	       a->batch_max == b->batch_max && a->dir_mode == b->dir_mode &&
	       a->file_mode == b->file_mode && a->socket_mode == b->socket_mode &&
	       a->max_clients == b->max_clients && a->max_record == b->max_record &&
	       a->client_buffer == b->client_buffer && a->ack_queue_max == b->ack_queue_max &&
	       a->memory_budget == b->memory_budget &&
	       a->hello_timeout_us == b->hello_timeout_us &&
	       a->rate_limit_burst == b->rate_limit_burst &&
	       a->rate_limit_interval_us == b->rate_limit_interval_us &&
	       a->shutdown_timeout_us == b->shutdown_timeout_us && a->log_level == b->log_level;
}

static void
fuzz_load(const char *text)
{
	_cleanup_(cfg_done) struct cfg c = { 0 }, fresh = { 0 };
	_cleanup_free_ char *err = NULL, *err2 = NULL, *verr = NULL;
	int r;

	FUZZ_CHECK(cfg_init(&c) == 0 && cfg_init(&fresh) == 0);
	r = cfg_load_string(&c, "fuzz.conf", text, &err);
	if (r < 0) {
		FUZZ_CHECK(err && strncmp(err, "fuzz.conf", 9) == 0);
		FUZZ_CHECK(cfg_equal(&c, &fresh, true));
		return;
	}
	FUZZ_CHECK(r == 0);
	r = cfg_validate(&c, &verr);
	FUZZ_CHECK(r == 0 || verr);

	_cleanup_(cfg_done) struct cfg before = { 0 };
	FUZZ_CHECK(cfg_init(&before) == 0);
	FUZZ_CHECK(cfg_load_string(&before, "fuzz.conf", text, &err2) == 0);
	FUZZ_CHECK(cfg_load_string(&c, "fuzz.conf", text, &err2) == 0);
	FUZZ_CHECK(cfg_equal(&c, &before, true));
}

static void
fuzz_set(const char *text)
{
	_cleanup_(cfg_done) struct cfg c = { 0 }, fresh = { 0 };
	_cleanup_free_ char *copy = strdup(text), *err = NULL;
	char *section, *key, *value, *nl;

	FUZZ_CHECK(copy);
	section = copy;
	if (!(nl = strchr(section, '\n')))
		return;
	*nl = 0;
	key = nl + 1;
	if (!(nl = strchr(key, '\n')))
		return;
	*nl = 0;
	value = nl + 1;
	FUZZ_CHECK(cfg_init(&c) == 0 && cfg_init(&fresh) == 0);
	if (cfg_set(&c, "command line", section, key, value, &err) < 0) {
		FUZZ_CHECK(err && strncmp(err, "command line", 12) == 0);
		FUZZ_CHECK(cfg_equal(&c, &fresh, true));
	}
}

static void
fuzz_values(const char *text)
{
	uint64_t v = 0x5a5a5a5a;
	mode_t m = 0x5a5a;
	int l = 0x5a5a;

	if (cfg_parse_size(text, &v) < 0)
		FUZZ_CHECK(v == 0x5a5a5a5a);
	v = 0x5a5a5a5a;
	if (cfg_parse_duration(text, &v) < 0)
		FUZZ_CHECK(v == 0x5a5a5a5a);
	if (cfg_parse_mode(text, &m) < 0)
		FUZZ_CHECK(m == 0x5a5a);
	else
		FUZZ_CHECK(m <= 07777);
	if (cfg_parse_log_level(text, &l) < 0)
		FUZZ_CHECK(l == 0x5a5a);
	else
		FUZZ_CHECK(l >= 0 && l <= 7);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* NUL-terminated; an embedded NUL ends the text early, as in a C string */
	_cleanup_free_ char *text = fuzz_alloc(size + 1);

	memcpy(text, data, size);
	text[size] = 0;
	fuzz_load(text);
	fuzz_set(text);
	fuzz_values(text);
	return 0;
}
