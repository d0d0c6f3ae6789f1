/* seglogd's configuration: defaults, the INI file (parsed with libinih),
 * and value parsers for sizes, durations and modes.  Pure: reads a file or
 * a string, never starts anything.  Every key is documented in
 * conf/seglogd.conf and seglogd.conf(5).
 *
 *	[storage]
 *	dir = LOCALSTATEDIR/log/seglog     absolute path
 *	durability = fsync                 fsync | write
 *	segment_size = 64M                 size, >= 4K
 *	segment_age = 1d                   duration, 0 = never
 *	max_segments = 0                   count of sealed segments kept, 0 = no limit
 *	max_bytes = 0                      size of sealed segments kept, 0 = no limit
 *	max_age = 0                        duration, 0 = no limit
 *	keep_free = 0                      size or percentage ("15%") of the file system
 *	retention_waits_for_ship = no      yes: keep what [ship]'s cursor has not passed
 *	memory_limit = 4M                  bytes accepted but not yet committed
 *	batch_max = 1M                     bytes in one commit (write + fdatasync)
 *	dir_mode = 0750                    octal
 *	file_mode = 0640                   octal
 *
 *	[server]
 *	socket = RUNSTATEDIR/seglog/seglog.sock   absolute path
 *	socket_mode = 0666
 *	socket_group =                     group name or empty
 *	syslog_dgram =                     absolute path or empty (off)
 *	syslog_stream =                    absolute path or empty (off)
 *	max_clients = 1024
 *	max_clients_per_uid = 256          connections one uid may hold (not root), 0 = no limit
 *	reserved_clients = 16              last slots kept for root and socket_group
 *	max_record = 64K                   size, 1 .. 1M (message bytes)
 *	client_buffer = 256K               read buffer per connection, > max_record
 *	ack_queue_max = 1M                 unsent bytes to one client before it is dropped
 *	memory_budget = 16M                memory_limit + every connection's buffers beyond
 *	                                   their minimum (docs/design.md, "Bounded memory")
 *	hello_timeout = 10s                a native client must say HELLO within this
 *	frame_timeout = 10s                a stalled unfinished frame is cut after this
 *	                                   while others wait for memory, 0 = never
 *	rate_limit_burst = 0               records per uid per interval, 0 = off
 *	rate_limit_interval = 1s
 *	shutdown_timeout = 10s             drain limit on SIGTERM
 *	log_level = info                   emerg .. debug
 *	kmsg = no                          yes | no: read the kernel log (/dev/kmsg)
 *
 * Sizes: a decimal number with an optional suffix K, M, G, T (powers of
 * 1024, also KiB/MiB/...; "B" allowed).  Durations: a number with a suffix
 * us, ms, s, m/min, h, d, w; a bare number is seconds; "0" is zero.
 *
 * A key given twice takes the last value (in the file, and a command line
 * override over the file).  Loading is all or nothing: on any error the
 * struct is left exactly as it was. */
#pragma once

#include <stdio.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	CFG_N_KEYS = 32, /* keys in the table above */
};

enum cfg_durability {
	CFG_DURABILITY_FSYNC,
	CFG_DURABILITY_WRITE,
};

struct cfg {
	/* [storage] */
	char *dir;
	enum cfg_durability durability;
	uint64_t segment_size;
	uint64_t segment_age_us;
	uint64_t max_segments;
	uint64_t max_bytes;
	uint64_t max_age_us;
	uint64_t keep_free_bytes;   /* when given as a size */
	unsigned keep_free_percent; /* when given as N%, 0..99 */
	bool retention_waits_for_ship; /* retention keeps the unshipped (keep_free wins) */
	uint64_t memory_limit;
	uint64_t batch_max;
	mode_t dir_mode;
	mode_t file_mode;
	/* [server] */
	char *socket;
	mode_t socket_mode;
	char *socket_group; /* NULL if unset */
	char *syslog_dgram; /* NULL if off */
	char *syslog_stream;
	uint32_t max_clients;
	uint32_t max_clients_per_uid; /* 0: no limit */
	uint32_t reserved_clients;    /* at most max_clients / 2 take effect */
	uint32_t max_record;
	uint64_t client_buffer;
	uint64_t ack_queue_max;
	uint64_t memory_budget; /* memory_limit + the connections' pool */
	uint64_t hello_timeout_us;
	uint64_t frame_timeout_us; /* 0: never */
	uint32_t rate_limit_burst;
	uint64_t rate_limit_interval_us;
	uint64_t shutdown_timeout_us;
	int log_level; /* LOG_EMERG .. LOG_DEBUG */
	bool kmsg;     /* read /dev/kmsg (kmsgsrv.h) */
	/* [ship] (seglog ship's section): the shipper's cursor file, for
	 * `seglog vacuum` to keep what it has not shipped; NULL when [ship]
	 * sets neither brokers nor cursor_file (no shipper configured). */
	char *ship_cursor;

	/* Where each key was last set ("FILE:LINE" or "command line"), NULL
	 * for a default; in the order of the table above.  Owned by cfg.c,
	 * used to point cfg_validate()'s messages at the right line. */
	char *origin[CFG_N_KEYS];
};

#define CFG_DEFAULT_PATH SYSCONFDIR "/seglog/seglogd.conf"
/* seglog ship's cursor when [ship] names none */
#define CFG_SHIP_DEFAULT_CURSOR LOCALSTATEDIR "/lib/seglog/ship.cursor"

/* Fills in every default; strings are malloc'ed.  Returns -ENOMEM. */
int cfg_init(struct cfg *c);
/* Frees the strings; NULL-safe; the struct may be cfg_init'ed again. */
void cfg_done(struct cfg *c);

/* Applies the file on top of what c holds.  On error returns -EINVAL (or
 * -errno if the file cannot be read) and sets *ret_error to a malloc'ed
 * message "FILE:LINE: key: what is wrong" (or "FILE: <strerror>"). */
int cfg_load_file(struct cfg *c, const char *path, char **ret_error);
/* The same for text in memory; name stands for the file name in messages. */
int cfg_load_string(struct cfg *c, const char *name, const char *text, char **ret_error);
/* Sets one key as from the file ("storage", "dir", "/x"); used for command
 * line overrides.  Same errors, with name alone as the location
 * ("command line: dir: ..."). */
int cfg_set(struct cfg *c, const char *name, const char *section, const char *key,
	    const char *value, char **ret_error);
/* Cross-key checks (client_buffer > max_record, ...), after all sources.
 * The message starts with the FILE:LINE of the key to change, if any. */
int cfg_validate(const struct cfg *c, char **ret_error);
/* The engine's memory_limit in force: as set, or, left at its default,
 * 4M or what max_record and batch_max need (two of the longest lines, two
 * batches), whichever is more: a file that raises max_record alone (the
 * default was 16M before the budget) still loads. */
uint64_t cfg_memory_limit(const struct cfg *c);
/* The memory budget in force: memory_budget as set, or, left at its
 * default, 16M or cfg_memory_limit() plus the connections' share (12M, or two
 * read buffers if client_buffer is larger), whichever is more, so that a
 * file that raises memory_limit (16M was the shipped value before the
 * budget) needs no memory_budget line. */
uint64_t cfg_memory_budget(const struct cfg *c);
/* The effective configuration as a file seglogd would read (every key,
 * sections in order), each key set by a file or the command line followed
 * by "  # FILE:LINE" (seglogd --check-config --dump). */
void cfg_dump(const struct cfg *c, FILE *f);
/* The drop-ins of a main file PATH: PATH.d/ *.conf, regular files, in
 * lexical order (as journald.conf.d); 0 and none if the directory does
 * not exist. *ret is a NULL-terminated array of full paths. */
int cfg_dropins(const char *path, char ***ret);
void cfg_dropins_free(char **v);

/* seglog ship's drain on SIGTERM: the default and the most allowed */
#define CFG_SHIP_DRAIN_DEFAULT_MS 5000u
#define CFG_SHIP_DRAIN_MAX_MS 3600000u
/* Checks one value of [ship] (cfgship.c): 0 if valid; -EINVAL with the
 * reason in why ("'lzma': one of zstd, ..."), or -ENOENT for a key [ship]
 * does not have.  Used by seglogd and seglog ship alike. */
int cfg_ship_check(const char *key, const char *value, char *why, size_t why_len);
/* A value as meant: without one surrounding pair of double quotes (inih
 * keeps them).  *ret_copy: NULL if there were none, else the inner text
 * (malloc'ed); -EINVAL for quotes that do not pair, -ENOMEM. */
int cfg_ship_unquote(const char *raw, char **ret_copy);

/* Value parsers: -EINVAL for text that is not such a value, -ERANGE for
 * one that does not fit; *ret is written only on success. */
int cfg_parse_size(const char *s, uint64_t *ret);
int cfg_parse_duration(const char *s, uint64_t *ret_us);
int cfg_parse_mode(const char *s, mode_t *ret);
int cfg_parse_log_level(const char *s, int *ret);
