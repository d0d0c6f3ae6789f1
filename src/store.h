/* The data directory as a whole (docs/design.md): opening it with the
 * writer's lock, constant-time recovery of `current`, the resumable seal
 * (rotation) sequence and retention.  The commit engine (engine.c) drives
 * it; appends themselves go through the engine.  All file creation,
 * writes, fsyncs, renames and unlinks go through the fsops it is given
 * (the io_uring in the daemon). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "fsops.h"
#include "record.h"
#include "segdir.h"

enum {
	/* The engine never writes more than this in one commit, so at most
	 * this much plus one line at the end of `current` can be unsynced. */
	STORE_WRITE_MAX = 1 << 20,
};

struct store_config {
	const char *dir;
	mode_t dir_mode;
	mode_t file_mode;
	uint32_t max_record; /* bounds the longest line recovery must expect */
	struct segdir_retention retention;
};

enum store_seal_step {
	STORE_SEAL_IDLE,   /* `current` is open and writable */
	STORE_SEAL_RENAME, /* next: rename current to its sealed name */
	STORE_SEAL_SYNC,   /* next: fsync the directory */
	STORE_SEAL_CREATE, /* next: create the new current */
	STORE_SEAL_SYNC_NEW, /* next: fsync the directory after creating it */
};

struct store {
	char *path;
	const struct fsops *ops;
	int dir_fd;
	int lock_fd;
	int cur_fd;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	struct segment_header cur_hdr;
	uint64_t cur_size;    /* bytes of current that are committed */
	uint64_t cur_records; /* records in current */
	uint64_t next_seq;    /* the seq the next record gets */
	uint64_t last_time_us;
	struct segdir_entry *sealed; /* oldest first */
	size_t n_sealed;
	size_t cap_sealed;
	enum store_seal_step seal_step;
	struct store_config cfg;
	uint64_t removed_segments; /* by retention, since open */
	uint64_t quarantined_bytes;
};

size_t store_max_line(uint32_t max_record);

/* Opens (creating if needed) the directory, takes the lock, recovers.
 * Logs what it finds and decides (torn tails, stale files) and every
 * fatal problem with the path involved. */
int store_open(const struct store_config *cfg, const struct fsops *ops, struct store **ret);
struct store *store_free(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_free)

/* Seals current (if it holds records) and creates the next one.
 * Resumable: after an error, calling it again continues with the step
 * that failed.  Returns 0 when current is open and writable again. */
int store_seal(struct store *s, uint64_t now_us);
/* Removes the oldest sealed segments the retention rules want gone. */
int store_retention(struct store *s, uint64_t now_us);
/* Free bytes available to us on the data directory's file system. */
uint64_t store_disk_free(const struct store *s);

/* What the server and the daemon may show of the store (read-only view). */
struct store_status {
	const char *path;	     /* the data directory */
	uint64_t next_seq;	     /* the seq the next record gets */
	uint64_t segment_first_seq; /* first seq of `current` */
	size_t sealed_segments;
	uint64_t removed_segments;  /* by retention, since open */
	uint64_t quarantined_bytes; /* torn tails cut at start-up */
};
void store_get_status(const struct store *s, struct store_status *ret);

uint64_t store_now_us(void);
