/* The clocks, in microseconds: CLOCK_REALTIME since the epoch (the time
 * a record is stamped with), CLOCK_MONOTONIC for intervals, timeouts and
 * ages that a clock step must not move (clock_gettime(2)). */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t
now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
