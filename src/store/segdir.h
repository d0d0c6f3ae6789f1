/* The data directory's names and rules (docs/format.md): sealed segment
 * names, listing, the writer's lock, the directory id, and which sealed
 * segments retention removes.  Small I/O helpers plus pure policy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <stdint.h>

#include <sys/types.h>

#include "fsops.h"
#include "record.h"

#define SEGDIR_CURRENT "current"
#define SEGDIR_LOCK "lock"
#define SEGDIR_DIR_ID "dir-id"
#define SEGDIR_QUARANTINE "quarantine"

enum {
	SEGDIR_NAME_LEN = 24, /* 20 digits + ".log" */
};

struct segdir_entry {
	uint64_t first_seq;
	uint64_t size;
	uint64_t mtime_us;
	uint64_t ino; /* so a reader holding `current` open can spot it sealed */
};

struct segdir_retention {
	uint64_t max_segments; /* 0 = no limit */
	uint64_t max_bytes;
	uint64_t max_age_us;
	uint64_t keep_free_bytes;
	unsigned keep_free_percent;
};

/* A vacuum (`seglog vacuum`): limits given now, on top of retention; a
 * limit of 0 is a limit (--size 0 removes every sealed segment). */
struct segdir_vacuum {
	bool by_bytes, by_age, by_files;
	uint64_t max_bytes;  /* sealed segments, in all */
	uint64_t max_age_us; /* each one's st_mtime (its last record) */
	uint64_t max_files;  /* sealed segments kept */
};

/* Why a segment was chosen for removal (for the log line). */
enum segdir_reason {
	SEGDIR_KEEP,
	SEGDIR_MAX_SEGMENTS,
	SEGDIR_MAX_BYTES,
	SEGDIR_MAX_AGE,
	SEGDIR_KEEP_FREE,
	SEGDIR_VACUUM,
};

/* Writes "%020llu.log" and a NUL into buf (>= SEGDIR_NAME_LEN + 1 bytes). */
void segdir_name(uint64_t first_seq, char *buf);
/* True for exactly 20 digits + ".log"; sets *ret_seq. */
bool segdir_parse_name(const char *name, uint64_t *ret_seq);

/* Lists the sealed segments in dir_fd, sorted by first seq (a malloc'ed
 * array).  Entries that are not regular files are skipped. */
int segdir_list(int dir_fd, struct segdir_entry **ret, size_t *ret_n);
/* A directory stream on dir_fd's subdirectory sub (NULL: dir_fd itself),
 * not following a symlink there; 0 or -errno. */
int segdir_opendir(int dir_fd, const char *sub, DIR **ret);

/* Takes the writer's lock (flock on DIR/lock).  -EBUSY if another process
 * holds it; the lock file records the holder's pid. */
int segdir_lock(int dir_fd, int *ret_fd);

/* Pure: how many of the oldest sealed segments (sorted ascending, n of
 * them) a vacuum removes: while any limit it gives is exceeded. */
size_t segdir_vacuum_pick(const struct segdir_entry *e, size_t n, const struct segdir_vacuum *v,
			  uint64_t now_us);

/* Pure policy: how many of the oldest sealed segments (sorted ascending,
 * n of them) to remove now, and why the first of them goes.  fs_avail and
 * fs_size describe the file system (bytes) for keep_free. */
size_t segdir_retention_pick(const struct segdir_entry *e, size_t n,
			     const struct segdir_retention *r, uint64_t now_us, uint64_t fs_avail,
			     uint64_t fs_size, enum segdir_reason *ret_reason);
const char *segdir_reason_name(enum segdir_reason reason);

/* fsyncs the directory that holds path (its entry for path becomes
 * durable: fsync(2) on a new directory does not cover its own name). */
int segdir_sync_parent(const struct fsops *ops, const char *path);
/* Opens DIR/quarantine (dir_fd: DIR), creating it if missing, and fsyncs
 * DIR so that the quarantine directory's name is durable before anything
 * inside it is relied on. */
int segdir_open_quarantine(const struct fsops *ops, int dir_fd, mode_t mode, int *ret_fd);
/* "<RFC 3339 time>-current.<what>": the name of a quarantine file. */
void segdir_quarantine_name(uint64_t now_us, const char *what, char *buf, size_t len);
/* Reads the bytes [start, end) of fd into a new buffer (pread, EINTR and
 * short reads resumed; -EIO if the file is shorter). */
int segdir_read_range(int fd, uint64_t start, uint64_t end, char **ret);

/* Creates DIR/dir-id (16 random bytes as 32 hex digits and LF) through
 * the atomic-file guard; reading it is segfile_read_dir_id()'s job (one
 * rule for the daemon, the readers and verify). */
int segdir_create_dir_id(const struct fsops *ops, int dir_fd, mode_t mode,
			 uint8_t ret_id[RECORD_DIR_ID_LEN]);
/* Sealed segments lose their write bits, and nothing else: their read
 * bits stay what file_mode and the umask made them. */
void segdir_make_read_only(int fd);

/* Hex form of a directory id (32 digits + NUL) and back. */
void segdir_id_to_hex(const uint8_t id[RECORD_DIR_ID_LEN], char *buf);
int segdir_id_from_hex(const char *s, size_t len, uint8_t id[RECORD_DIR_ID_LEN]);
