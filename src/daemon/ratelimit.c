#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

enum {
	RATELIMIT_SLOTS = 1024, /* open addressing; buckets of idle uids are recycled */
};

struct ratelimit_bucket {
	bool used;
	uint32_t uid;
	uint64_t window_start;
	uint64_t count;
	uint64_t suppressed;
};

struct ratelimit {
	uint32_t burst;
	uint64_t interval_us;
	uint64_t total_suppressed;
	struct ratelimit_bucket slots[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(uint32_t burst, uint64_t interval_us)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (rl)
		ratelimit_configure(rl, burst, interval_us);
	return rl;
}

struct ratelimit *
ratelimit_free(struct ratelimit *rl)
{
	free(rl);
	return NULL;
}

void
ratelimit_configure(struct ratelimit *rl, uint32_t burst, uint64_t interval_us)
{
	rl->burst = burst;
	rl->interval_us = interval_us ? interval_us : 1;
}

/* Finds the uid's bucket, or a free or expired-and-clean one to reuse.
 * With every slot busy the uid shares the slot it hashes to: limiting
 * then errs on the strict side, never lets more through. */
static struct ratelimit_bucket *
ratelimit_bucket(struct ratelimit *rl, uint32_t uid, uint64_t now_us)
{
	uint32_t h = (uid * 2654435761u) % RATELIMIT_SLOTS;
	struct ratelimit_bucket *reuse = NULL;

	for (unsigned i = 0; i < 16; i++) {
		struct ratelimit_bucket *b = &rl->slots[(h + i) % RATELIMIT_SLOTS];
		if (b->used && b->uid == uid)
			return b;
		if (!reuse && (!b->used || (b->suppressed == 0 &&
					    now_us - b->window_start >= rl->interval_us)))
			reuse = b;
	}
	if (!reuse)
		return &rl->slots[h];
	*reuse = (struct ratelimit_bucket){ .used = true, .uid = uid, .window_start = now_us };
	return reuse;
}

bool
ratelimit_allow(struct ratelimit *rl, uint32_t uid, uint64_t now_us)
{
	struct ratelimit_bucket *b;

	if (rl->burst == 0)
		return true;
	b = ratelimit_bucket(rl, uid, now_us);
	if (now_us - b->window_start >= rl->interval_us && b->suppressed == 0) {
		b->window_start = now_us;
		b->count = 0;
	}
	if (b->count < rl->burst) {
		b->count++;
		return true;
	}
	b->suppressed++;
	rl->total_suppressed++;
	return false;
}

size_t
ratelimit_expired(struct ratelimit *rl, uint64_t now_us, struct ratelimit_report *out, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < RATELIMIT_SLOTS && n < max; i++) {
		struct ratelimit_bucket *b = &rl->slots[i];
		if (!b->used || !b->suppressed || now_us - b->window_start < rl->interval_us)
			continue;
		out[n++] = (struct ratelimit_report){ .uid = b->uid, .suppressed = b->suppressed };
		b->suppressed = 0;
		b->count = 0;
		b->window_start = now_us;
	}
	return n;
}

uint64_t
ratelimit_total_suppressed(const struct ratelimit *rl)
{
	return rl->total_suppressed;
}
