/* seglog ship: committed records to Apache Kafka (docs/shipping.md).
 *
 * Reads the data directory from the cursor (the first retained record the
 * first time) up to the durable watermark and follows it; produces every
 * record with librdkafka's idempotent producer (acks=all), key = host id,
 * value = the record as `seglog cat -o json` prints it (without the LF),
 * headers host, dir_id, seq.  The cursor (dir-id + seq) advances only over
 * the contiguous run of records Kafka confirmed (shipq.h) and is written
 * through the atomic-file guard at most every 100 ms.  A failed delivery or
 * a fatal producer error purges and recreates the producer and resends from
 * the cursor, with backoff; a permanent per-record error (too large, not
 * authorised) stops shipping with the reason, or skips the record if the
 * policy says so.
 *
 * Everything runs on one libevent loop: librdkafka's queue event fd wakes
 * it for delivery reports, inotify for new records; no busy polling and no
 * blocking flush.  SIGTERM/SIGINT: stop reading, wait up to drain_ms for
 * the reports of what is in flight, purge the rest, save the cursor. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ship_on_error {
	SHIP_ON_ERROR_STOP, /* a permanent per-record error stops shipping (default) */
	SHIP_ON_ERROR_SKIP, /* ...or the record is skipped, logged and counted */
};

enum ship_state {
	SHIP_STARTING,
	SHIP_RUNNING,
	SHIP_RETRYING, /* producer purged; recreated after a backoff */
	SHIP_STOPPED,  /* a permanent error: see reason */
	SHIP_DRAINING, /* SIGTERM: waiting for the last reports */
};

struct ship_config {
	const char *dir;	 /* the data directory */
	const char *brokers;	 /* bootstrap.servers */
	const char *topic;
	const char *cursor_path; /* never inside the data directory */
	const char *host_id;	 /* key and "host" header */
	const char *compression; /* compression.type; NULL = zstd */
	char **props;		 /* "key=value" librdkafka properties, applied last */
	size_t n_props;
	enum ship_on_error on_error;
	unsigned drain_ms;	 /* bound of the drain on SIGTERM, after a permanent
				  * error and when the directory goes; 0: none */
	size_t max_in_flight;	 /* records; 0 = default 100000 */
	bool once;		 /* ship what is durable now, wait for every
				  * confirmation, save the cursor and return */
};

struct ship_stats {
	enum ship_state state;
	const char *reason;	 /* why RETRYING or STOPPED; "" otherwise */
	uint64_t confirmed_seq;	 /* the cursor */
	uint64_t durable_seq;	 /* newest durable seq seen (watermark, else last read) */
	uint64_t lag_records;	 /* durable_seq - confirmed_seq */
	uint64_t lag_bytes;	 /* an estimate: bytes in flight + unread records x mean size */
	uint64_t shipped;	 /* records confirmed since start */
	uint64_t shipped_bytes;
	uint64_t in_flight;
	uint64_t restarts;	 /* producer recreations */
	uint64_t skipped;	 /* records skipped by SHIP_ON_ERROR_SKIP */
	uint64_t missing;	 /* seqs not shipped because the directory lacks them:
				  * damaged, or removed by retention before shipped */
	double rate;		 /* records confirmed per second, last interval */
};

/* Called about once a second, and on every state change, from the loop:
 * cmd_ship prints its live line and tells systemd (STATUS=, WATCHDOG=1). */
typedef void (*ship_status_fn)(const struct ship_stats *st, void *userdata);

/* Runs the shipper until SIGTERM/SIGINT (with once: until done).  Returns
 * 0 after a clean stop; -EINVAL, before shipping anything, for what the
 * configuration names wrongly: a property librdkafka rejects, a cursor
 * file that cannot be used (unwritable place, in use by another shipper,
 * past the directory's newest record), a data directory that is missing
 * or not one; -ECANCELED if shipping stopped on a permanent error;
 * -ESTALE if the data directory was removed or replaced while shipping;
 * -EIO if the final cursor could not be saved; -EINTR for an interrupted
 * once; another -errno if the directory cannot be read.  Every one of
 * them was logged with its reason. */
int ship_run(const struct ship_config *cfg, ship_status_fn status, void *userdata);

const char *ship_state_name(enum ship_state s);
