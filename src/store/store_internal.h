/* The state of struct store, shared by the files of the store module and
 * by no one else (store.h is the interface, and struct store is opaque
 * there): store.c (open, the directory's files, the accessors),
 * store_recover.c (recovery and its repair steps), store_seal.c (the seal
 * sequence), store_retention.c (retention and vacuum). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "segdir.h"
#include "store.h"

enum store_seal_step {
	STORE_SEAL_IDLE,     /* `current` is open and writable */
	STORE_SEAL_RENAME,   /* next: rename current to its sealed name */
	STORE_SEAL_SYNC,     /* next: fsync the directory */
	STORE_SEAL_CREATE,   /* next: create the new current */
	STORE_SEAL_SYNC_NEW, /* next: fsync the directory after creating it */
};

/* What recovery still has to do before records may be written; the steps
 * run in this order, each once (store_repair). */
enum store_repair_step {
	STORE_REPAIR_TORN,	/* copy [torn_cut, torn_end) to quarantine/, then cut it */
	STORE_REPAIR_EMPTY,	/* move the empty current into quarantine/ */
	STORE_REPAIR_CREATE,	/* create current (first seq: next_seq) */
	STORE_REPAIR_SYNC,	/* fdatasync current: what survived the crash is durable */
	STORE_REPAIR_UPGRADE,	/* current in an older format version: seal or replace it */
	STORE_REPAIR_WATERMARK, /* publish the recovered seq in DIR/watermark */
	STORE_REPAIR_DONE,
};

struct store {
	char *path;
	const struct fsops *ops;
	int dir_fd, lock_fd, cur_fd, wm_fd;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	struct segment_header cur_hdr;
	uint64_t cur_size;    /* bytes of current that are committed */
	uint64_t cur_records; /* records in current */
	uint64_t next_seq;	/* the seq the next record gets */
	uint64_t recovered_seq; /* the last seq recovery found (durable once repaired) */
	uint64_t open_wm_seq;	/* DIR/watermark as found at open (this directory's) */
	struct segdir_entry *sealed; /* oldest first */
	size_t n_sealed, cap_sealed;
	enum store_seal_step seal_step;
	enum store_repair_step repair;
	uint64_t torn_cut, torn_end;
	int repair_err; /* the last failure of store_repair, logged once */
	struct store_config cfg;
	uint64_t removed_segments; /* by retention, since open */
	/* the shipper's progress (store_set_ship): retention keeps what it has
	 * not shipped if ship_wait, and counts what it removes unshipped */
	int (*ship_fn)(void *ctx, const struct store *s, uint64_t *ret_seq);
	void *ship_ctx;
	bool ship_wait;
	uint64_t ship_held;	    /* first seq of the segment last reported kept (0: none) */
	uint64_t unshipped_removed; /* seqs removed before they were shipped */
	uint64_t quarantined_bytes;
	bool creating_for_seal; /* store_create_current() runs for a seal */
};

static inline bool
store_no_space(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

/* store_recover.c: the last seq of the newest sealed segment (0: none);
 * recovery of current (header, torn tail, next seq) and the repair steps
 * it leaves; what a repair step does, for messages */
int store_sealed_last_seq(struct store *s, uint64_t *ret);
int store_recover(struct store *s, uint64_t sealed_last, uint64_t wm_seq);
const char *store_repair_what(enum store_repair_step step);

/* store_seal.c: creates current holding only its header (for_seal: the
 * seal's creation; replace: over a current that holds no record); the seq
 * after the last one sealed segment i holds */
int store_create_current(struct store *s, uint64_t first_seq, uint64_t now_us, bool for_seal,
			 bool replace);
uint64_t store_sealed_end(const struct store *s, size_t i);
