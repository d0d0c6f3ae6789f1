/* The configuration: defaults, every key from a file, every error class
 * with its exact FILE:LINE and key, the value parsers table-driven, the
 * cross-key checks, and the shipped conf/seglogd.conf and seglogd.conf(5). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "cfg.h"
#include "cleanup.h"
#include "record.h"
#include "testutil.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)
#define SEC 1000000ull

/* Every key, in the order of cfg.h (and of struct cfg's origin[]). */
static const char *const keys[] = {
	"dir",		 "durability",	  "segment_size",  "segment_age",   "max_segments",
	"max_bytes",	 "max_age",	  "keep_free",	   "retention_waits_for_ship",
	"memory_limit",  "batch_max",
	"dir_mode",	 "file_mode",	  "socket",	   "socket_mode",   "socket_group",
	"syslog_dgram",	 "syslog_stream", "max_clients",   "max_clients_per_uid",
	"reserved_clients", "max_record",  "client_buffer", "ack_queue_max", "memory_budget",
	"hello_timeout", "frame_timeout",
	"rate_limit_burst", "rate_limit_interval",
	"shutdown_timeout", "log_level", "kmsg",
};

static size_t
key_index(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcmp(keys[i], name) == 0)
			return i;
	ck_abort_msg("no key %s", name);
	return 0;
}

static char *dir;

static void
setup(void)
{
	dir = test_mkdtemp();
}

static void
teardown(void)
{
	test_rm_rf(dir);
	free(dir);
}

/* Writes text to DIR/name; returns the malloc'ed path. */
static char *
write_file(const char *name, const char *text, size_t len)
{
	_cleanup_fclose_ FILE *f = NULL;
	char *path;

	ck_assert_int_gt(asprintf(&path, "%s/%s", dir, name), 0);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	return path;
}

static void
assert_str_eq_or_null(const char *a, const char *b)
{
	if (!a || !b)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

/* Every setting of a and b is the same (origins aside). */
static void
assert_same_settings(const struct cfg *a, const struct cfg *b)
{
	assert_str_eq_or_null(a->dir, b->dir);
	ck_assert_int_eq(a->durability, b->durability);
	ck_assert_uint_eq(a->segment_size, b->segment_size);
	ck_assert_uint_eq(a->segment_age_us, b->segment_age_us);
	ck_assert_uint_eq(a->max_segments, b->max_segments);
	ck_assert_uint_eq(a->max_bytes, b->max_bytes);
	ck_assert_uint_eq(a->max_age_us, b->max_age_us);
	ck_assert_uint_eq(a->keep_free_bytes, b->keep_free_bytes);
	ck_assert_uint_eq(a->keep_free_percent, b->keep_free_percent);
	ck_assert_uint_eq(a->memory_limit, b->memory_limit);
	ck_assert_uint_eq(a->batch_max, b->batch_max);
	ck_assert_uint_eq(a->dir_mode, b->dir_mode);
	ck_assert_uint_eq(a->file_mode, b->file_mode);
	assert_str_eq_or_null(a->socket, b->socket);
	ck_assert_uint_eq(a->socket_mode, b->socket_mode);
	assert_str_eq_or_null(a->socket_group, b->socket_group);
	assert_str_eq_or_null(a->syslog_dgram, b->syslog_dgram);
	assert_str_eq_or_null(a->syslog_stream, b->syslog_stream);
	ck_assert_uint_eq(a->max_clients, b->max_clients);
	ck_assert_uint_eq(a->max_clients_per_uid, b->max_clients_per_uid);
	ck_assert_uint_eq(a->reserved_clients, b->reserved_clients);
	ck_assert_uint_eq(a->max_record, b->max_record);
	ck_assert_uint_eq(a->client_buffer, b->client_buffer);
	ck_assert_uint_eq(a->ack_queue_max, b->ack_queue_max);
	ck_assert_uint_eq(a->memory_budget, b->memory_budget);
	ck_assert_uint_eq(a->hello_timeout_us, b->hello_timeout_us);
	ck_assert_uint_eq(a->frame_timeout_us, b->frame_timeout_us);
	ck_assert_uint_eq(a->rate_limit_burst, b->rate_limit_burst);
	ck_assert_uint_eq(a->rate_limit_interval_us, b->rate_limit_interval_us);
	ck_assert_uint_eq(a->shutdown_timeout_us, b->shutdown_timeout_us);
	ck_assert_int_eq(a->log_level, b->log_level);
	ck_assert_int_eq(a->kmsg, b->kmsg);
}

/* Loads text as "t.conf" on top of the defaults and expects an error
 * containing want; the struct must still hold the defaults. */
static void
assert_load_error(const char *text, const char *want)
{
	_cleanup_(cfg_done) struct cfg c = { 0 }, d = { 0 };
	_cleanup_free_ char *err = NULL;

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_init(&d), 0);
	ck_assert_int_eq(cfg_load_string(&c, "t.conf", text, &err), -EINVAL);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, want), "for %s\nwant: %s\ngot:  %s", text, want, err);
	assert_same_settings(&c, &d);
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		ck_assert_ptr_null(c.origin[i]);
}

/* Loads text as "t.conf" on top of fresh defaults; it must be accepted. */
static void
load_ok(struct cfg *c, const char *text)
{
	_cleanup_free_ char *err = NULL;

	cfg_done(c);
	ck_assert_int_eq(cfg_init(c), 0);
	ck_assert_msg(cfg_load_string(c, "t.conf", text, &err) == 0, "%s: %s", text, err);
	ck_assert_ptr_null(err);
}

START_TEST(test_defaults)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_str_eq(c.dir, LOCALSTATEDIR "/log/seglog");
	ck_assert_int_eq(c.durability, CFG_DURABILITY_FSYNC);
	ck_assert_uint_eq(c.segment_size, 64 * MIB);
	ck_assert_uint_eq(c.segment_age_us, 86400 * SEC);
	ck_assert_uint_eq(c.max_segments, 0);
	ck_assert_uint_eq(c.max_bytes, 0);
	ck_assert_uint_eq(c.max_age_us, 0);
	ck_assert_uint_eq(c.keep_free_bytes, 0);
	ck_assert_uint_eq(c.keep_free_percent, 0);
	ck_assert_uint_eq(c.memory_limit, 4 * MIB);
	ck_assert_uint_eq(c.batch_max, MIB);
	ck_assert_uint_eq(c.dir_mode, 0750);
	ck_assert_uint_eq(c.file_mode, 0640);
	ck_assert_str_eq(c.socket, RUNSTATEDIR "/seglog/seglog.sock");
	ck_assert_uint_eq(c.socket_mode, 0666);
	ck_assert_ptr_null(c.socket_group);
	ck_assert_ptr_null(c.syslog_dgram);
	ck_assert_ptr_null(c.syslog_stream);
	ck_assert_uint_eq(c.max_clients, 1024);
	ck_assert_uint_eq(c.max_clients_per_uid, 256);
	ck_assert_uint_eq(c.reserved_clients, 16);
	ck_assert_uint_eq(c.max_record, 64 * KIB);
	ck_assert_uint_eq(c.client_buffer, 256 * KIB);
	ck_assert_uint_eq(c.ack_queue_max, MIB);
	ck_assert_uint_eq(c.memory_budget, 16 * MIB);
	ck_assert_uint_eq(c.hello_timeout_us, 10 * SEC);
	ck_assert_uint_eq(c.frame_timeout_us, 10 * SEC);
	ck_assert_uint_eq(c.rate_limit_burst, 0);
	ck_assert_uint_eq(c.rate_limit_interval_us, SEC);
	ck_assert_uint_eq(c.shutdown_timeout_us, 10 * SEC);
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert(!c.kmsg);
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		ck_assert_ptr_null(c.origin[i]);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
}
END_TEST

START_TEST(test_done_then_init_again)
{
	struct cfg c = { 0 };

	ck_assert_uint_eq(ELEMENTSOF(keys), CFG_N_KEYS);
	load_ok(&c, "[server]\nsyslog_dgram = /a\nsocket_group = adm\n");
	cfg_done(&c);
	ck_assert_ptr_null(c.dir);
	ck_assert_ptr_null(c.syslog_dgram);
	ck_assert_ptr_null(c.origin[key_index("syslog_dgram")]);
	cfg_done(&c); /* twice is harmless */
	cfg_done(NULL);
	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_str_eq(c.dir, LOCALSTATEDIR "/log/seglog");
	ck_assert_ptr_null(c.syslog_dgram);
	cfg_done(&c);
}
END_TEST

static const char every_key[] = "# every key, none at its default\n"
				"[storage]\n"
				"dir = /srv/log\n"
				"durability = write\n"
				"segment_size = 8M\n"
				"segment_age = 2h\n"
				"max_segments = 100\n"
				"max_bytes = 10G\n"
				"max_age = 1w\n"
				"keep_free = 15%\n"
				"retention_waits_for_ship = yes\n"
				"memory_limit = 32M\n"
				"batch_max = 2M\n"
				"dir_mode = 0700\n"
				"file_mode = 0600\n"
				"\n"
				"[server]\n"
				"socket = /run/x/native.sock\n"
				"socket_mode = 0660\n"
				"socket_group = adm\n"
				"syslog_dgram = /dev/log\n"
				"syslog_stream = /run/x/syslog-stream.sock\n"
				"max_clients = 10\n"
				"max_clients_per_uid = 4\n"
				"reserved_clients = 2\n"
				"max_record = 1M\n"
				"client_buffer = 2M\n"
				"ack_queue_max = 64K\n"
				"memory_budget = 64M\n"
				"hello_timeout = 500ms\n"
				"frame_timeout = 0\n"
				"rate_limit_burst = 1000\n"
				"rate_limit_interval = 30s\n"
				"shutdown_timeout = 1min\n"
				"log_level = debug\n"
				"kmsg = yes\n";

START_TEST(test_every_key_from_file)
{
	_cleanup_free_ char *path = write_file("every.conf", every_key, strlen(every_key));
	_cleanup_(cfg_done) struct cfg c = { 0 };
	_cleanup_free_ char *err = NULL, *where = NULL;

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_load_file(&c, path, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(c.dir, "/srv/log");
	ck_assert_int_eq(c.durability, CFG_DURABILITY_WRITE);
	ck_assert_uint_eq(c.segment_size, 8 * MIB);
	ck_assert_uint_eq(c.segment_age_us, 2 * 3600 * SEC);
	ck_assert_uint_eq(c.max_segments, 100);
	ck_assert_uint_eq(c.max_bytes, 10 * GIB);
	ck_assert_uint_eq(c.max_age_us, 7 * 86400 * SEC);
	ck_assert_uint_eq(c.keep_free_percent, 15);
	ck_assert_uint_eq(c.keep_free_bytes, 0);
	ck_assert(c.retention_waits_for_ship);
	ck_assert_uint_eq(c.memory_limit, 32 * MIB);
	ck_assert_uint_eq(c.batch_max, 2 * MIB);
	ck_assert_uint_eq(c.dir_mode, 0700);
	ck_assert_uint_eq(c.file_mode, 0600);
	ck_assert_str_eq(c.socket, "/run/x/native.sock");
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_str_eq(c.socket_group, "adm");
	ck_assert_str_eq(c.syslog_dgram, "/dev/log");
	ck_assert_str_eq(c.syslog_stream, "/run/x/syslog-stream.sock");
	ck_assert_uint_eq(c.max_clients, 10);
	ck_assert_uint_eq(c.max_clients_per_uid, 4);
	ck_assert_uint_eq(c.reserved_clients, 2);
	ck_assert_uint_eq(c.max_record, MIB);
	ck_assert_uint_eq(c.client_buffer, 2 * MIB);
	ck_assert_uint_eq(c.ack_queue_max, 64 * KIB);
	ck_assert_uint_eq(c.memory_budget, 64 * MIB);
	ck_assert_uint_eq(c.hello_timeout_us, 500000);
	ck_assert_uint_eq(c.frame_timeout_us, 0);
	ck_assert_uint_eq(c.rate_limit_burst, 1000);
	ck_assert_uint_eq(c.rate_limit_interval_us, 30 * SEC);
	ck_assert_uint_eq(c.shutdown_timeout_us, 60 * SEC);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert(c.kmsg);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	/* each key remembers its line: dir on 3 .. file_mode on 15, socket on 18 .. */
	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		free(where);
		ck_assert_int_gt(asprintf(&where, "%s:%zu", path, i < 13 ? i + 3 : i + 5), 0);
		ck_assert_str_eq(c.origin[i], where);
	}
}
END_TEST

START_TEST(test_error_classes)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[storage]\nsegment_size = 64Q\n",
		  "t.conf:2: segment_size: \"64Q\" is not a size (use a whole number with an "
		  "optional K, M, G or T, e.g. 64M)" },
		{ "# c\n[foo]\n", "t.conf:2: [foo]: unknown section (known: storage, server, ship)" },
		{ "[storage]\ndir = /a\n[nope]\ndir = /b\n", "t.conf:3: [nope]: unknown section" },
		{ "\n\n[storage]\nfrobnicate = 1\n",
		  "t.conf:4: frobnicate: unknown key in [storage] (see seglogd.conf(5)" },
		{ "[server]\ndir = /x\n", "t.conf:2: dir: unknown key in [server] (it belongs in "
					  "[storage])" },
		{ "dir = /x\n", "t.conf:1: dir: key outside any section (put it under [storage])" },
		{ "# c\nfrob = 1\n[storage]\n", "t.conf:2: frob: unknown key outside any section" },
		{ "[storage]\nthis is not ini\n", "t.conf:2: syntax error" },
		{ "[storage\ndir = /x\n", "t.conf:1: syntax error" },
		{ "[storage]\n= 5\n", "t.conf:2: a value without a key" },
		{ "[storage] dir = /x\n", "t.conf:1: [storage]: text after the section name" },
		{ "[storage]\ndir = var/log\n",
		  "t.conf:2: dir: \"var/log\" is not an absolute path (start it with /)" },
		{ "[storage]\ndir =\n", "t.conf:2: dir: is empty (give an absolute path)" },
		{ "[server]\nsocket = \"\"\n", "t.conf:2: socket: is empty" },
		{ "[server]\nsyslog_dgram = run/log\n", "t.conf:2: syslog_dgram: \"run/log\" is not "
							"an absolute path" },
		{ "[storage]\ndurability = sometimes\n",
		  "t.conf:2: durability: \"sometimes\" is not a durability (use fsync or write)" },
		{ "[storage]\nfile_mode = 0999\n", "t.conf:2: file_mode: \"0999\" is not an octal "
						   "mode (use 0 .. 07777, e.g. 0640)" },
		{ "[storage]\ndir_mode = 010000\n",
		  "t.conf:2: dir_mode: \"010000\" is out of range (use 0 .. 07777)" },
		{ "[server]\nlog_level = loud\n", "t.conf:2: log_level: \"loud\" is not a log level "
						  "(use emerg, alert, crit, err, warning" },
		{ "[server]\nmax_clients = 12abc\n",
		  "t.conf:2: max_clients: \"12abc\" is not a whole number" },
		{ "[server]\nmax_clients = -1\n", "t.conf:2: max_clients: \"-1\" is not a whole" },
		{ "[server]\nmax_clients = 0\n",
		  "t.conf:2: max_clients: \"0\" is out of range (use 1 .. 1000000)" },
		{ "[server]\nmax_clients = 1000001\n", "max_clients: \"1000001\" is out of range" },
		{ "[server]\nmax_clients_per_uid = 1000001\n",
		  "t.conf:2: max_clients_per_uid: \"1000001\" is out of range (use 0 .. 1000000)" },
		{ "[server]\nmax_clients_per_uid = many\n",
		  "t.conf:2: max_clients_per_uid: \"many\" is not a whole number" },
		{ "[server]\nreserved_clients = -1\n",
		  "t.conf:2: reserved_clients: \"-1\" is not a whole number" },
		{ "[server]\nreserved_clients = 1000001\n",
		  "t.conf:2: reserved_clients: \"1000001\" is out of range (use 0 .. 1000000)" },
		{ "[storage]\nreserved_clients = 1\n",
		  "t.conf:2: reserved_clients: unknown key in [storage] (it belongs in [server])" },
		{ "[server]\nrate_limit_burst = 4294967296\n",
		  "t.conf:2: rate_limit_burst: \"4294967296\" is out of range (use 0 .. 4294967295)" },
		{ "[storage]\nmax_segments = 99999999999999999999\n",
		  "t.conf:2: max_segments: \"99999999999999999999\" is too large" },
		{ "[storage]\nsegment_size = 20000000T\n",
		  "t.conf:2: segment_size: \"20000000T\" is out of range (use 4K .. 1T)" },
		{ "[storage]\nsegment_size = 2K\n", "segment_size: \"2K\" is out of range (use 4K .. "
						    "1T)" },
		{ "[storage]\nsegment_size = 1.5M\n", "segment_size: \"1.5M\" is not a size" },
		{ "[storage]\nbatch_max = 128M\n", "t.conf:2: batch_max: \"128M\" is out of range "
						   "(use 4K .. 64M)" },
		{ "[server]\nmax_record = 0\n", "max_record: \"0\" is out of range (use 1 .. 1M)" },
		{ "[server]\nmax_record = 1025K\n", "max_record: \"1025K\" is out of range" },
		{ "[server]\nhello_timeout = 0\n",
		  "t.conf:2: hello_timeout: \"0\" is out of range (use at least 1ms)" },
		{ "[storage]\nsegment_age = 1 fortnight\n",
		  "t.conf:2: segment_age: \"1 fortnight\" is not a duration (use a whole number "
		  "with us, ms, s, min, h, d or w" },
		{ "[storage]\nmax_age = 40000000w\n", "t.conf:2: max_age: \"40000000w\" is too "
						      "large" },
		{ "[storage]\nkeep_free = 100%\n",
		  "t.conf:2: keep_free: \"100%\" is out of range (use 0% .. 99%)" },
		{ "[storage]\nkeep_free = x%\n", "keep_free: \"x%\" is not a percentage" },
		{ "[storage]\nkeep_free = 1.5G\n",
		  "keep_free: \"1.5G\" is neither a size nor a percentage (use e.g. 1G or 15%)" },
		{ "[server]\nsocket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
		  "t.conf:2: socket: \"/run/aaa" },
		{ "[server]\nsyslog_stream = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
		  ".sock\" is too long for a Unix socket (113 bytes, at most 107)" },
		{ "[storage]\ndir = \"/x\n",
		  "t.conf:2: dir: \"/x: the quotes do not match (write \"...\" around" },
		{ "[storage]\ndir = /x\"\n", "t.conf:2: dir: /x\": the quotes do not match" },
		{ "[storage]\ndir = /x # the data\n",
		  "t.conf:2: dir: \"/x # the data\": a # comment must be on a line of its own" },
		{ "[storage]\n\x01\x02\n", "t.conf:2: syntax error" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_load_error(cases[i].text, cases[i].want);
}
END_TEST

/* Lines inih is given are counted by us: whatever comes between, the
 * message names the line of the bad key. */
START_TEST(test_line_numbers)
{
	static const char *const fillers[] = {
		"\n", "# comment\n", "; comment\n", "   \n", "\t# indented comment\n",
		"[server]\nmax_clients = 5\n[storage]\n", "dir = /ok ; trailing comment\n",
		"\r\n", "segment_size = 8M\r\n", "  max_bytes = 1G\n",
	};
	char text[4096];

	for (size_t n = 0; n < 40; n++) {
		_cleanup_(cfg_done) struct cfg c = { 0 };
		_cleanup_free_ char *err = NULL, *want = NULL;
		size_t len, line = 1;

		len = (size_t)snprintf(text, sizeof(text), "[storage]\n");
		for (size_t i = 0; i < n; i++) {
			const char *f = fillers[(i * 7 + n) % ELEMENTSOF(fillers)];
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", f);
			for (; *f; f++)
				line += *f == '\n';
		}
		snprintf(text + len, sizeof(text) - len, "file_mode = 0x1\ndir = /late\n");
		ck_assert_int_eq(cfg_init(&c), 0);
		ck_assert_int_eq(cfg_load_string(&c, "t.conf", text, &err), -EINVAL);
		ck_assert_int_gt(asprintf(&want, "t.conf:%zu: file_mode: ", line + 1), 0);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "want %s, got %s", want, err);
	}
}
END_TEST

START_TEST(test_line_numbers_in_a_file)
{
	static const char text[] = "\xef\xbb\xbf# seglogd.conf\r\n"
				   "\r\n"
				   "[storage]\r\n"
				   "  dir = /a\r\n"
				   "  segment_size = 8M\r\n"
				   "\r\n"
				   "[server]\r\n"
				   "\tmax_record = 2M\r\n";
	_cleanup_free_ char *path = write_file("crlf.conf", text, strlen(text));
	_cleanup_free_ char *err = NULL, *want = NULL;
	_cleanup_(cfg_done) struct cfg c = { 0 };

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_load_file(&c, path, &err), -EINVAL);
	ck_assert_int_gt(asprintf(&want, "%s:8: max_record: \"2M\" is out of range", path), 0);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s", err);
	/* indented keys are keys, not continuations of the value above */
	ck_assert_int_eq(cfg_load_string(&c, "t.conf", "[storage]\n  dir = /a\n  segment_size "
				       "= 8M\n", NULL), 0);
	ck_assert_str_eq(c.dir, "/a");
	ck_assert_uint_eq(c.segment_size, 8 * MIB);
	ck_assert_str_eq(c.origin[key_index("segment_size")], "t.conf:3");
}
END_TEST

/* A syntax error before the first bad value is the one reported, and the
 * other way round. */
START_TEST(test_first_error_wins)
{
	assert_load_error("[storage]\nsegment_size = 1Q\nnot ini\n", "t.conf:2: segment_size");
	assert_load_error("[storage]\nnot ini\nsegment_size = 1Q\n", "t.conf:2: syntax error");
	assert_load_error("[storage]\nnot ini\n[bad]\n", "t.conf:2: syntax error");
	assert_load_error("[bad]\nnot ini\n", "t.conf:1: [bad]: unknown section");
}
END_TEST

START_TEST(test_long_lines)
{
	char text[512];
	_cleanup_(cfg_done) struct cfg c = { 0 };
	_cleanup_free_ char *err = NULL;
	int n;

	/* 199 characters after trimming fit inih's buffer ... */
	n = snprintf(text, sizeof(text), "[storage]\n   dir = /%0192d   \n", 0);
	ck_assert_int_eq(n, 10 + 3 + 199 + 4);
	load_ok(&c, text);
	ck_assert_uint_eq(strlen(c.dir), 193);
	/* ... 200 do not, and the line is not cut in two silently */
	snprintf(text, sizeof(text), "[storage]\ndir = /%0193d\nsegment_size = 8M\n", 0);
	ck_assert_int_eq(cfg_load_string(&c, "t.conf", text, &err), -EINVAL);
	ck_assert_str_eq(err, "t.conf:2: line too long (200 characters, at most 199)");
}
END_TEST

START_TEST(test_duplicate_keys_last_wins)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[storage]\nsegment_size = 8M\ndir = /a\nsegment_size = 16M\n"
		    "[server]\nmax_clients = 3\n[storage]\ndir = /b\n");
	ck_assert_uint_eq(c.segment_size, 16 * MIB);
	ck_assert_str_eq(c.dir, "/b");
	ck_assert_str_eq(c.origin[key_index("dir")], "t.conf:8");
	ck_assert_str_eq(c.origin[key_index("segment_size")], "t.conf:4");
	ck_assert_uint_eq(c.max_clients, 3);
}
END_TEST

START_TEST(test_quoting)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[storage]\ndir = \"/srv/my logs\"\nsegment_size = \"8M\"\n"
		    "[server]\nsocket = \"/run/a # b.sock\"\nsyslog_dgram = \"\"\n"
		    "socket_group = \"\"\n");
	ck_assert_str_eq(c.dir, "/srv/my logs");
	ck_assert_uint_eq(c.segment_size, 8 * MIB);
	ck_assert_str_eq(c.socket, "/run/a # b.sock");
	ck_assert_ptr_null(c.syslog_dgram);
	ck_assert_ptr_null(c.socket_group);
}
END_TEST

START_TEST(test_empty_means_off)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[server]\nsyslog_dgram = /dev/log\nsyslog_stream = /run/s\n"
		    "socket_group = adm\n");
	ck_assert_str_eq(c.syslog_dgram, "/dev/log");
	ck_assert_int_eq(cfg_load_string(&c, "u.conf", "[server]\nsyslog_dgram =\n"
				       "syslog_stream=\nsocket_group =   \n", NULL), 0);
	ck_assert_ptr_null(c.syslog_dgram);
	ck_assert_ptr_null(c.syslog_stream);
	ck_assert_ptr_null(c.socket_group);
	ck_assert_str_eq(c.origin[key_index("socket_group")], "u.conf:4");
}
END_TEST

START_TEST(test_keep_free_forms)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[storage]\nkeep_free = 15%\n");
	ck_assert_uint_eq(c.keep_free_percent, 15);
	ck_assert_uint_eq(c.keep_free_bytes, 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "keep_free", "2G", NULL), 0);
	ck_assert_uint_eq(c.keep_free_percent, 0);
	ck_assert_uint_eq(c.keep_free_bytes, 2 * GIB);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "keep_free", "99%", NULL), 0);
	ck_assert_uint_eq(c.keep_free_percent, 99);
	ck_assert_uint_eq(c.keep_free_bytes, 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "keep_free", "0%", NULL), 0);
	ck_assert_uint_eq(c.keep_free_percent, 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "keep_free", "%", NULL), -EINVAL);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "keep_free", "5 %", NULL),
			 -EINVAL);
}
END_TEST

START_TEST(test_sizes)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "512", 0, 512 },
		{ "4K", 0, 4 * KIB },
		{ "4k", 0, 4 * KIB },
		{ "64M", 0, 64 * MIB },
		{ "64m", 0, 64 * MIB },
		{ "1G", 0, GIB },
		{ "1T", 0, TIB },
		{ "1KiB", 0, KIB },
		{ "64MiB", 0, 64 * MIB },
		{ "2GiB", 0, 2 * GIB },
		{ "3TiB", 0, 3 * TIB },
		{ "100B", 0, 100 },
		{ "007", 0, 7 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "16777215T", 0, 16777215 * TIB },
		{ "", -EINVAL, 0 },
		{ "1.5M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 K", -EINVAL, 0 },
		{ "1K ", -EINVAL, 0 },
		{ "12abc", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "1KB", -EINVAL, 0 },
		{ "1kib", -EINVAL, 0 },
		{ "1Q", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "1P", -EINVAL, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
		{ "20000000T", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 12345;
		int r = cfg_parse_size(cases[i].s, &v);
		ck_assert_msg(r == cases[i].r, "\"%s\": %d", cases[i].s, r);
		ck_assert_uint_eq(v, r == 0 ? cases[i].v : 12345);
	}
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		const char *s;
		int r;
		uint64_t us;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0s", 0, 0 },
		{ "30", 0, 30 * SEC },
		{ "500ms", 0, 500000 },
		{ "250us", 0, 250 },
		{ "10s", 0, 10 * SEC },
		{ "10sec", 0, 10 * SEC },
		{ "5m", 0, 300 * SEC },
		{ "5min", 0, 300 * SEC },
		{ "2h", 0, 7200 * SEC },
		{ "2hr", 0, 7200 * SEC },
		{ "1d", 0, 86400 * SEC },
		{ "1w", 0, 604800 * SEC },
		{ "1h30m", 0, 5400 * SEC },
		{ "1h 30min", 0, 5400 * SEC },
		{ "1d2h3m4s5ms6us", 0, ((26 * 60 + 3) * 60 + 4) * SEC + 5006 },
		{ "1 h", 0, 3600 * SEC },
		{ "2msec3usec", 0, 2003 },
		{ "1h1h", 0, 7200 * SEC },
		{ "18446744073709551615us", 0, UINT64_MAX },
		{ "", -EINVAL, 0 },
		{ "   ", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
		{ "1h30", -EINVAL, 0 },
		{ "30 40", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "1h-30m", -EINVAL, 0 },
		{ "1 fortnight", -EINVAL, 0 },
		/* the one vocabulary (issue 16): what --since takes, the config takes */
		{ "1hour", 0, 3600 * SEC },
		{ "2 days", 0, 2 * 86400 * SEC },
		{ "1Week", 0, 604800 * SEC },
		{ "3 minutes 2 seconds", 0, 182 * SEC },
		{ "1S", 0, SEC },
		{ "1HR", 0, 3600 * SEC },
		{ "1y", -EINVAL, 0 },
		{ "10s,", -EINVAL, 0 },
		{ "40000000w", -ERANGE, 0 },
		{ "18446744073709551615us1us", -ERANGE, 0 },
		{ "99999999999999999999999s", -ERANGE, 0 },
		{ "18446744073709551615", -ERANGE, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t us = 12345;
		int r = cfg_parse_duration(cases[i].s, &us);
		ck_assert_msg(r == cases[i].r, "\"%s\": %d", cases[i].s, r);
		ck_assert_uint_eq(us, r == 0 ? cases[i].us : 12345);
	}
}
END_TEST

START_TEST(test_modes)
{
	static const struct {
		const char *s;
		int r;
		mode_t m;
	} cases[] = {
		{ "0", 0, 0 },	       { "0640", 0, 0640 },	{ "640", 0, 0640 },
		{ "07777", 0, 07777 }, { "00000640", 0, 0640 }, { "4755", 0, 04755 },
		{ "", -EINVAL, 0 },    { "8", -EINVAL, 0 },	{ "0999", -EINVAL, 0 },
		{ "rw", -EINVAL, 0 },  { "-1", -EINVAL, 0 },	{ "0x1ff", -EINVAL, 0 },
		{ " 0640", -EINVAL, 0 }, { "0640 ", -EINVAL, 0 }, { "100009", -EINVAL, 0 },
		{ "10000", -ERANGE, 0 }, { "77777", -ERANGE, 0 },
		{ "0000000000000000000000010000", -ERANGE, 0 },
		{ "77777777777777777777777777777", -ERANGE, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		mode_t m = 0123;
		int r = cfg_parse_mode(cases[i].s, &m);
		ck_assert_msg(r == cases[i].r, "\"%s\": %d", cases[i].s, r);
		ck_assert_uint_eq(m, r == 0 ? cases[i].m : 0123);
	}
}
END_TEST

START_TEST(test_log_levels)
{
	static const char *const names[] = { "emerg",	"alert",  "crit", "err",
					     "warning", "notice", "info", "debug" };
	/* the one level parser of seglog send -p and seglog cat -p (issue 16):
	 * names ignore case, the aliases too */
	static const struct {
		const char *s;
		int v;
	} also[] = { { "INFO", 6 }, { "error", 3 }, { "warn", 4 }, { "Panic", 0 }, { "07", 7 } };
	static const char *const bad[] = { "", "8", "-1", "info ", "debug2", "1x", "123", "10" };

	for (int i = 0; i < 8; i++) {
		char digit[2] = { (char)('0' + i), 0 };
		int v = -1;
		ck_assert_int_eq(cfg_parse_log_level(names[i], &v), 0);
		ck_assert_int_eq(v, i);
		v = -1;
		ck_assert_int_eq(cfg_parse_log_level(digit, &v), 0);
		ck_assert_int_eq(v, i);
	}
	for (size_t i = 0; i < ELEMENTSOF(also); i++) {
		int v = -1;
		ck_assert_int_eq(cfg_parse_log_level(also[i].s, &v), 0);
		ck_assert_int_eq(v, also[i].v);
	}
	ck_assert_int_eq(LOG_EMERG, 0);
	ck_assert_int_eq(LOG_DEBUG, 7);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int v = -1;
		ck_assert_int_eq(cfg_parse_log_level(bad[i], &v), -EINVAL);
		ck_assert_int_eq(v, -1);
	}
}
END_TEST

/* Expects cfg_validate() to fail with a message containing each of the
 * NULL-terminated strings. */
static void
assert_invalid(const struct cfg *c, ...)
{
	_cleanup_free_ char *err = NULL;
	const char *want;
	va_list ap;

	ck_assert_int_eq(cfg_validate(c, &err), -EINVAL);
	ck_assert_ptr_nonnull(err);
	va_start(ap, c);
	while ((want = va_arg(ap, const char *)))
		ck_assert_msg(strstr(err, want), "want %s, got %s", want, err);
	va_end(ap);
	ck_assert_int_eq(cfg_validate(c, NULL), -EINVAL);
}

START_TEST(test_validate_client_buffer)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[server]\nmax_record = 64K\n\nclient_buffer = 65812\n");
	assert_invalid(&c, "t.conf:4: client_buffer: must be larger than max_record plus 276 "
		       "bytes of frame overhead: raise it to at least 65813 or lower max_record",
		       "(client_buffer = 65812 at t.conf:4, max_record = 64K at t.conf:2)", NULL);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "client_buffer", "65813", NULL), 0);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	/* only max_record was set: the message points at it */
	cfg_done(&c);
	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "max_record", "1M", NULL), 0);
	assert_invalid(&c, "command line: client_buffer: must be larger",
		       "client_buffer = 256K by default, max_record = 1M at command line", NULL);
}
END_TEST

START_TEST(test_validate_memory_limit)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[storage]\nbatch_max = 8M\nmemory_limit = 16M\n[server]\nmemory_budget = 32M\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "memory_limit", "16383K", NULL),
			 0);
	assert_invalid(&c, "command line: memory_limit: must be at least twice batch_max: raise "
		       "it to at least 16777216 or lower batch_max",
		       "(memory_limit = 16383K at command line, batch_max = 8M at t.conf:2)",
		       NULL);
	/* at least two of the longest records (4 bytes per message byte) */
	load_ok(&c, "[storage]\nbatch_max = 4K\nmemory_limit = 8M\n[server]\nmax_record = 1M\n"
		    "client_buffer = 2M\n");
	assert_invalid(&c, "t.conf:3: memory_limit: must hold two of the longest records",
		       "or lower max_record", NULL);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "memory_limit", "9M", NULL), 0);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	/* left at its default, it follows max_record and batch_max, so that a
	 * file from when the default was 16M still loads */
	load_ok(&c, "[server]\nmax_record = 1M\nclient_buffer = 2M\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_uint_eq(cfg_memory_limit(&c), 2 * record_line_max(RECORD_TAG_MAX, MIB));
	ck_assert_uint_eq(cfg_memory_budget(&c), cfg_memory_limit(&c) + 12 * MIB);
	load_ok(&c, "[storage]\nbatch_max = 8M\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_uint_eq(cfg_memory_limit(&c), 16 * MIB);
	load_ok(&c, "");
	ck_assert_uint_eq(cfg_memory_limit(&c), 4 * MIB);
}
END_TEST

/* memory_budget holds memory_limit and two full read buffers; the message
 * names the key, where it was set, the others and the least that works.
 * Left at its default, it follows memory_limit and client_buffer, so that
 * a file written before the budget existed (memory_limit = 16M was the
 * shipped value) still loads. */
START_TEST(test_validate_memory_budget)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[storage]\nmemory_limit = 16M\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_uint_eq(cfg_memory_budget(&c), 28 * MIB); /* 16M + the default 12M share */
	load_ok(&c, "[server]\nclient_buffer = 8M\nmax_record = 1M\n[storage]\nmemory_limit = 32M\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_uint_eq(cfg_memory_budget(&c), 48 * MIB); /* 32M + 2 x client_buffer */
	cfg_done(&c);
	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_uint_eq(cfg_memory_budget(&c), 16 * MIB);
	load_ok(&c, "[storage]\nmemory_limit = 16M\n[server]\nmemory_budget = 16M\n");
	assert_invalid(&c, "t.conf:4: memory_budget: must hold memory_limit and two read buffers "
		       "(2 x client_buffer = 524288): raise it to at least 17301504 or lower "
		       "memory_limit or client_buffer",
		       "(memory_budget = 16M at t.conf:4, memory_limit = 16M at t.conf:2)", NULL);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "memory_budget", "16896K", NULL), 0);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0); /* 16M + 2 x 256K exactly */
	ck_assert_uint_eq(cfg_memory_budget(&c), 16896 * 1024ull);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "memory_budget", "16895K", NULL), 0);
	assert_invalid(&c, "command line: memory_budget: must hold", "16895K at command line",
		       NULL);
	ck_assert_int_ne(cfg_load_string(&c, "t.conf", "[server]\nmemory_budget = 512K\n", NULL),
			 0); /* under 1M: refused by the key's own range */
}
END_TEST

START_TEST(test_validate_rate_limit_and_sockets)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[server]\nrate_limit_interval = 0\n");
	ck_assert_int_eq(cfg_validate(&c, NULL), 0); /* no burst, no window needed */
	ck_assert_int_eq(cfg_load_string(&c, "u.conf", "[server]\nrate_limit_burst = 10\n", NULL),
			 0);
	assert_invalid(&c, "t.conf:2: rate_limit_interval: must be more than 0 when "
		       "rate_limit_burst is set", NULL);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "rate_limit_interval", "1s", NULL),
			 0);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);

	load_ok(&c, "[server]\nsyslog_stream = /run/a\nsyslog_dgram = /run/a\n");
	assert_invalid(&c, "t.conf:2: syslog_stream: is the same path as syslog_dgram", NULL);
	load_ok(&c, "[server]\nsocket = /run/a\nsyslog_dgram = /run/a\n");
	assert_invalid(&c, "t.conf:3: syslog_dgram: is the same path as socket", NULL);
}
END_TEST

/* The fair client limits: 0 switches the per-uid cap off; reserved_clients
 * may exceed what max_clients leaves (at most half of max_clients is
 * reserved, seglogd.conf(5)), so a small max_clients needs no second edit. */
START_TEST(test_client_limits)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };

	load_ok(&c, "[server]\nmax_clients_per_uid = 0\nreserved_clients = 0\n");
	ck_assert_uint_eq(c.max_clients_per_uid, 0);
	ck_assert_uint_eq(c.reserved_clients, 0);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	load_ok(&c, "[server]\nmax_clients = 4\n");
	ck_assert_uint_eq(c.reserved_clients, 16);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "max_clients_per_uid", "1000000",
				 NULL), 0);
	ck_assert_uint_eq(c.max_clients_per_uid, 1000000);
}
END_TEST

START_TEST(test_cfg_set)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };
	_cleanup_free_ char *err = NULL;

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "dir", "/x", &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(c.dir, "/x");
	ck_assert_str_eq(c.origin[key_index("dir")], "command line");
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "durability", "write", NULL), 0);
	ck_assert_int_eq(c.durability, CFG_DURABILITY_WRITE);
	/* a value needs no trimming or quoting from the shell: it is taken as given */
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "dir", "/a b # c", NULL), 0);
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "dir", "rel", &err), -EINVAL);
	ck_assert_str_eq(err, "command line: dir: \"rel\" is not an absolute path (start it "
			      "with /)");
	ck_assert_str_eq(c.dir, "/a b # c");
	free(TAKE_PTR(err));
	ck_assert_int_eq(cfg_set(&c, "command line", "storage", "frob", "1", &err), -EINVAL);
	ck_assert_str_eq(err, "command line: frob: unknown key in [storage] (see seglogd.conf(5) "
			      "for the keys)");
	free(TAKE_PTR(err));
	ck_assert_int_eq(cfg_set(&c, "command line", "server", "durability", "fsync", &err),
			 -EINVAL);
	ck_assert_str_eq(err, "command line: durability: unknown key in [server] (it belongs "
			      "in [storage])");
	ck_assert_int_eq(c.durability, CFG_DURABILITY_WRITE);
}
END_TEST

START_TEST(test_load_file_errors)
{
	_cleanup_free_ char *missing = NULL, *want = NULL, *err = NULL;
	static const char nul_text[] = "[storage]\n\ndir = /a\0b\n";
	_cleanup_free_ char *nul = write_file("nul.conf", nul_text, sizeof(nul_text) - 1);
	_cleanup_(cfg_done) struct cfg c = { 0 };

	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_gt(asprintf(&missing, "%s/none.conf", dir), 0);
	ck_assert_int_eq(cfg_load_file(&c, missing, &err), -ENOENT);
	ck_assert_int_gt(asprintf(&want, "%s: cannot open: No such file or directory", missing),
			 0);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(cfg_load_file(&c, missing, NULL), -ENOENT);
	free(TAKE_PTR(err));
	free(TAKE_PTR(want));

	ck_assert_int_eq(cfg_load_file(&c, dir, &err), -EISDIR);
	ck_assert_int_gt(asprintf(&want, "%s: cannot read: Is a directory", dir), 0);
	ck_assert_str_eq(err, want);
	free(TAKE_PTR(err));
	free(TAKE_PTR(want));

	ck_assert_int_eq(cfg_load_file(&c, nul, &err), -EINVAL);
	ck_assert_int_gt(asprintf(&want, "%s:3: a NUL byte", nul), 0);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s", err);
	ck_assert_str_eq(c.dir, LOCALSTATEDIR "/log/seglog");
}
END_TEST

/* A load that fails half-way leaves everything as it was; a load that
 * succeeds replaces strings (valgrind sees no leak). */
START_TEST(test_load_is_all_or_nothing)
{
	_cleanup_(cfg_done) struct cfg c = { 0 };
	_cleanup_free_ char *err = NULL;

	load_ok(&c, "[storage]\ndir = /a\n[server]\nsyslog_dgram = /run/d\n");
	ck_assert_int_eq(cfg_load_string(&c, "u.conf", "[storage]\ndir = /b\nsegment_size = 8M\n"
				       "[server]\nsyslog_dgram =\nmax_clients = none\n", &err),
			 -EINVAL);
	ck_assert_str_eq(err, "u.conf:6: max_clients: \"none\" is not a whole number");
	ck_assert_str_eq(c.dir, "/a");
	ck_assert_str_eq(c.syslog_dgram, "/run/d");
	ck_assert_uint_eq(c.segment_size, 64 * MIB);
	ck_assert_str_eq(c.origin[key_index("dir")], "t.conf:2");
	ck_assert_ptr_null(c.origin[key_index("segment_size")]);

	ck_assert_int_eq(cfg_load_string(&c, "v.conf", "[storage]\ndir = /c\n[server]\n"
				       "syslog_dgram = /run/e\nsocket_group = adm\n", NULL), 0);
	ck_assert_str_eq(c.dir, "/c");
	ck_assert_str_eq(c.syslog_dgram, "/run/e");
	ck_assert_str_eq(c.socket_group, "adm");
	ck_assert_str_eq(c.origin[key_index("dir")], "v.conf:2");
	ck_assert_int_eq(cfg_load_string(&c, "w.conf", "", NULL), 0); /* empty file: no change */
	ck_assert_str_eq(c.dir, "/c");
	ck_assert_str_eq(c.origin[key_index("dir")], "v.conf:2");
}
END_TEST

/* The shipped file has every key, commented, and loading it changes
 * nothing: it documents the defaults, it does not set them apart. */
/* seglogd keeps one thing of [ship]: where the shipper's cursor is (the
 * default path when only brokers is set); it must be absolute, and
 * --dump shows it, so that the dump reads back the same. */
START_TEST(test_ship_cursor)
{
	_cleanup_(cfg_done) struct cfg c = { 0 }, d = { 0 };
	_cleanup_free_ char *err = NULL, *out = NULL;
	size_t len = 0;
	FILE *f;

	load_ok(&c, "[ship]\nbrokers = k:9092\n");
	ck_assert_str_eq(c.ship_cursor, CFG_SHIP_DEFAULT_CURSOR);
	load_ok(&c, "[ship]\ncursor_file = /var/tmp/c\nbrokers = k:9092\n");
	ck_assert_str_eq(c.ship_cursor, "/var/tmp/c");
	load_ok(&c, "[storage]\nmax_segments = 3\n");
	ck_assert_ptr_null(c.ship_cursor);
	ck_assert_int_eq(cfg_init(&d), 0);
	ck_assert_int_lt(cfg_load_string(&d, "t.conf", "[ship]\ncursor_file = rel.cursor\n", &err), 0);
	ck_assert_ptr_nonnull(strstr(err, "absolute"));
	load_ok(&c, "[ship]\ncursor_file = /var/tmp/c\n");
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	cfg_dump(&c, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\n[ship]\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ncursor_file = /var/tmp/c\n"));
	load_ok(&d, out);
	ck_assert_str_eq(d.ship_cursor, "/var/tmp/c");
}
END_TEST

/* [ship]'s values, by the one rule seglogd and seglog ship share. */
START_TEST(test_ship_check)
{
	static const char *const good[][2] = {
		{ "brokers", "k1:9092,k2:9092" }, { "topic", "logs.app-1_x" },
		{ "cursor_file", "/var/lib/seglog/ship.cursor" }, { "host_id", "web-1" },
		{ "compression", "zstd" }, { "compression", "none" }, { "on_permanent_error", "skip" },
		{ "drain_timeout", "0" }, { "drain_timeout", "1h" }, { "kafka.linger.ms", "5" },
	};
	static const char *const bad[][2] = {
		{ "brokers", "" }, { "brokers", "a b" }, { "topic", "" }, { "topic", "a/b" },
		{ "topic", ".." }, { "cursor_file", "rel" }, { "host_id", "" }, { "host_id", "a\nb" }, { "host_id", "caf\xe9" },
		{ "compression", "lzma" }, { "compression", "ZSTD" }, { "on_permanent_error", "ignore" },
		{ "drain_timeout", "soon" }, { "drain_timeout", "2h" },
	};
	char why[512];

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		ck_assert_msg(cfg_ship_check(good[i][0], good[i][1], why, sizeof(why)) == 0,
			      "%s = %s: %s", good[i][0], good[i][1], why);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ck_assert_msg(cfg_ship_check(bad[i][0], bad[i][1], why, sizeof(why)) == -EINVAL,
			      "%s = %s accepted", bad[i][0], bad[i][1]);
		ck_assert_msg(why[0], "%s: no reason", bad[i][0]);
	}
	ck_assert_int_eq(cfg_ship_check("topicc", "x", why, sizeof(why)), -ENOENT);
	ck_assert_int_eq(cfg_ship_check("kafka.", "x", why, sizeof(why)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "unknown key"));
}
END_TEST

START_TEST(test_shipped_conf)
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *path = NULL, *man_path = NULL, *text = NULL, *man = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_(cfg_done) struct cfg c = { 0 }, d = { 0 };

	ck_assert_int_gt(asprintf(&path, "%s/conf/seglogd.conf", top ? top : ".."), 0);
	ck_assert_int_gt(asprintf(&man_path, "%s/docs/seglogd.conf.5", top ? top : ".."), 0);
	ck_assert_int_eq(cfg_init(&c), 0);
	ck_assert_int_eq(cfg_init(&d), 0);
	ck_assert_msg(cfg_load_file(&c, path, &err) == 0, "%s", err);
	assert_same_settings(&c, &d);
	ck_assert_int_eq(cfg_validate(&c, NULL), 0);

	text = test_read_file(path, NULL);
	man = test_read_file(man_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(man);
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		_cleanup_free_ char *set = NULL, *unset = NULL, *doc = NULL;
		ck_assert_int_gt(asprintf(&set, "\n%s = ", keys[i]), 0);
		ck_assert_int_gt(asprintf(&unset, "\n#%s =", keys[i]), 0);
		ck_assert_int_gt(asprintf(&doc, "\n.B %s\n", keys[i]), 0);
		ck_assert_msg(strstr(text, set) || strstr(text, unset), "%s not in %s", keys[i],
			      path);
		ck_assert_msg(strstr(man, doc), "%s not in %s", keys[i], man_path);
	}
}
END_TEST

static Suite *
cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_done_then_init_again);
	tcase_add_test(tc, test_every_key_from_file);
	tcase_add_test(tc, test_error_classes);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_line_numbers_in_a_file);
	tcase_add_test(tc, test_first_error_wins);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_duplicate_keys_last_wins);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_empty_means_off);
	tcase_add_test(tc, test_keep_free_forms);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_validate_client_buffer);
	tcase_add_test(tc, test_validate_memory_limit);
	tcase_add_test(tc, test_validate_memory_budget);
	tcase_add_test(tc, test_validate_rate_limit_and_sockets);
	tcase_add_test(tc, test_client_limits);
	tcase_add_test(tc, test_cfg_set);
	tcase_add_test(tc, test_load_file_errors);
	tcase_add_test(tc, test_load_is_all_or_nothing);
	tcase_add_test(tc, test_ship_cursor);
	tcase_add_test(tc, test_ship_check);
	tcase_add_test(tc, test_shipped_conf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(cfg_suite());
}
