/* Sizes, durations, modes and log levels as seglogd.conf writes them
 * (the parsers are declared in cfg.h); the unit tables are shared with
 * cfgkeys.c's messages, which print values in the largest unit that fits. */
#pragma once

#include <stdint.h>

#define CFG_KIB 1024ull
#define CFG_MIB (1024 * CFG_KIB)
#define CFG_GIB (1024 * CFG_MIB)
#define CFG_TIB (1024 * CFG_GIB)
#define CFG_MS 1000ull
#define CFG_SEC 1000000ull

/* The first name of each value is the one messages print; "" is a bare
 * number.  Both tables end with a NULL name. */
struct cfg_unit {
	const char *name;
	uint64_t mult;
};

extern const struct cfg_unit cfg_size_units[];
extern const struct cfg_unit cfg_duration_units[];

/* The microseconds of a duration unit of n letters ("h", "hour", "Min"),
 * or 0 if unknown: the one vocabulary of the config and the command line. */
uint64_t cfg_duration_unit(const char *unit, size_t n);

/* s past any spaces and tabs. */
const char *cfg_skip_blanks(const char *s);
