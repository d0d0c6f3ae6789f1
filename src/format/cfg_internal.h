/* The key table of seglogd.conf, shared by cfgkeys.c (the table, the
 * struct, dump and validate) and cfg.c (loading): private to src/format
 * (the *_internal.h rule of src/LAYERS); cfg.h is the interface. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#define CFG_NOLIMIT UINT64_MAX

enum cfg_type {
	CFG_PATH,	/* absolute path (string) */
	CFG_STRING,	/* a name, empty for NULL */
	CFG_DURABILITY, /* fsync | write */
	CFG_SIZE,	/* cfg_parse_size(), bounded by min .. max */
	CFG_DURATION,	/* cfg_parse_duration(), bounded */
	CFG_COUNT,	/* plain decimal number, bounded */
	CFG_MODE,	/* octal 0 .. 07777 */
	CFG_KEEP_FREE,	/* size or "N%" */
	CFG_LOG_LEVEL,	/* syslog level name or 0 .. 7 */
	CFG_BOOL,	/* yes | no | true | false | 1 | 0 */
};

enum cfg_flag {
	CFG_OPTIONAL = 1 << 0, /* an empty value unsets the string (NULL) */
	CFG_SOCKET = 1 << 1,   /* a path that must fit a sockaddr_un */
};

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	unsigned flags;
	size_t offset, size; /* of the field in struct cfg */
	uint64_t min, max;
};

/* Every key, in the order of cfg.h, conf/seglogd.conf and seglogd.conf(5). */
extern const struct cfg_key cfg_keys[CFG_N_KEYS];

/* The string field a key stores into, or NULL if the key is not a string. */
char **cfg_string(struct cfg *c, const struct cfg_key *k);
/* Replaces *field with a copy of value (NULL allowed). */
int cfg_strdup(char **field, const char *value);
/* A deep copy of src, for loading all or nothing. */
int cfg_copy(struct cfg *dst, const struct cfg *src);
/* The index of key name (in section, or in any if NULL), or -1. */
int cfg_find(const char *section, const char *name);

enum { CFG_FMT_MAX = 48 };

/* A number of key k's kind the way a user would write it, in the largest
 * unit that divides it: "64M", "10s", "1500ms", "0". */
const char *cfg_format(char *buf, size_t size, const struct cfg_key *k, uint64_t v);
