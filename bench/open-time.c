/* Times store_open() -- taking the lock and recovering `current` -- on an
 * existing data directory, as the daemon does at start-up (through the
 * io_uring fsops, or the plain syscalls with --syscall).  Prints one line:
 *
 *   open_us US current_bytes N next_seq S
 *
 * Built by bench/open-time.sh against build/libseglog.a; not part of
 * `make check`. */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ring.h"
#include "store.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct store_config cfg = { .dir_mode = 0750, .file_mode = 0640, .max_record = 65536 };
	struct event_base *base;
	struct ring *ring = NULL;
	struct store *store = NULL;
	const struct fsops *ops = &fsops_syscall;
	uint64_t t0, t1;
	int r;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--syscall") != 0)) {
		fprintf(stderr, "usage: open-time DIR [--syscall]\n");
		return 2;
	}
	cfg.dir = argv[1];
	log_set_max_level(LOG_WARNING);
	base = event_base_new();
	if (argc == 2) {
		r = ring_new(256, base, &ring);
		if (r < 0) {
			fprintf(stderr, "io_uring: %s\n", strerror(-r));
			return 1;
		}
		ops = ring_fsops(ring);
	}
	t0 = now_ns();
	r = store_open(&cfg, ops, &store);
	t1 = now_ns();
	if (r < 0) {
		fprintf(stderr, "store_open %s: %s\n", cfg.dir, strerror(-r));
		return 1;
	}
	printf("open_us %.1f current_bytes %" PRIu64 " next_seq %" PRIu64 "\n",
	       (double)(t1 - t0) / 1000.0, store_cur_size(store), store_next_seq(store));
	store_free(store);
	ring_free(ring);
	event_base_free(base);
	return 0;
}
