/* Named crash points for the crash and power-loss suites (configure
 * --enable-crash-points; docs/reliability.md).
 *
 * CRASH_POINT("seal-rename") marks a step at which a crash must leave a
 * directory that recovery understands.  In a build with crash points,
 * SEGLOG_CRASH_AT=NAME:N makes the process kill itself with SIGKILL the
 * N-th time (1-based) it passes NAME, after writing
 * "crash point NAME #N: killing" to stderr; SEGLOG_CRASH_AT=NAME:N:P kills
 * at each hit with probability P percent from the N-th on.  Every hit is
 * counted; without the variable nothing happens.  Without the configure
 * option the macro compiles to nothing. */
#pragma once

#ifdef SEGLOG_CRASH_POINTS
void crashpoint_hit(const char *name);
#define CRASH_POINT(name) crashpoint_hit(name)
#else
#define CRASH_POINT(name) \
	do {              \
	} while (0)
#endif
