/* Per-uid rate limiting (pure): at most `burst` records per uid in each
 * window of `interval`; what goes over is counted as suppressed so the
 * daemon can write "suppressed N messages from uid U" when the window ends
 * (journald's RateLimitBurst / RateLimitIntervalSec, per uid). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"

struct ratelimit;

struct ratelimit_report {
	uint32_t uid;
	uint64_t suppressed;
};

/* burst 0 disables limiting. */
struct ratelimit *ratelimit_new(uint32_t burst, uint64_t interval_us);
struct ratelimit *ratelimit_free(struct ratelimit *rl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ratelimit *, ratelimit_free)
void ratelimit_configure(struct ratelimit *rl, uint32_t burst, uint64_t interval_us);

/* True if a record from uid may pass at now_us; otherwise counts it. */
bool ratelimit_allow(struct ratelimit *rl, uint32_t uid, uint64_t now_us);
/* Collects (and resets) the suppression counts of windows that ended by
 * now_us, up to max reports; returns how many were written. */
size_t ratelimit_expired(struct ratelimit *rl, uint64_t now_us, struct ratelimit_report *out,
			 size_t max);
uint64_t ratelimit_total_suppressed(const struct ratelimit *rl);
