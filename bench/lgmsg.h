/* The message text of every record bench/loadgen sends, which
 * bench/loadverify checks in what was delivered:
 *
 *	"lg C=<client> N=<seq> S=<size> <padding>"
 *
 * exactly <size> bytes.  Numbers are decimal without leading zeros; clients
 * count from 0, seqs from 1 within each client.  The padding is a stretch
 * of a 61-letter alphabet that starts at an offset derived from (client,
 * seq), so a changed or missing byte, a cut line or a record that carries
 * another record's number does not pass as intact.  Only printable ASCII:
 * the message reaches a segment line, `seglog cat` and a peer's file
 * unescaped, and plain `grep lg\ C=` finds it.  Pure: no I/O. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LGMSG_MAGIC "lg C="

enum {
	LGMSG_SIZE_MAX = 1 << 20, /* a daemon's max_record is at most 1 MiB */
};

struct lgmsg {
	uint32_t client;
	uint64_t seq;
	size_t size; /* bytes of the whole message */
};

/* Bytes of "lg C=.. N=.. S=.. " for these numbers: m->size must be at
 * least this. */
size_t lgmsg_prefix_len(const struct lgmsg *m);

/* Writes the message m describes, exactly m->size bytes, into buf (no NUL).
 * m->size must be at least lgmsg_prefix_len(m). */
void lgmsg_format(char *buf, const struct lgmsg *m);

/* Reads the numbers of the message msg[0 .. len) (which starts with
 * LGMSG_MAGIC): 0 with *ret set, -EBADMSG if its prefix does not parse (or
 * announces a size below its own prefix or above LGMSG_SIZE_MAX). */
int lgmsg_parse(const char *msg, size_t len, struct lgmsg *ret);
