/* seglog tail / seglog cat: the state of one run, and its command line
 * (cmd_tail_args.c), apart from the reading loop (cmd_tail.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cursor.h"
#include "filter.h"
#include "output.h"
#include "pager.h"
#include "reader.h"

struct tail_warned;

struct tail {
	const char *cmd;
	const char *dir;
	struct reader *rd;
	struct filter filter;
	struct output out;
	bool follow;
	bool explicit_after; /* --after-seq or a cursor was given */

	char *obuf;
	size_t olen, ocap;
	uint64_t buffered_seq, printed_seq; /* last seq in obuf, last one written out */
	bool epipe;
	bool printed_any; /* a record was read in this run (gaps after it are news) */

	const char *cursor_path;
	struct cursor_file cursor;
	struct pager pager;

	unsigned problems;
	uint64_t damaged_run; /* damaged lines since the last record */
	int writer_active; /* -1 unknown */
	struct tail_warned *warned;
	size_t n_warned;
};

/* What the command line asks for beyond the filter and the output. */
struct tail_args {
	uint64_t lines;
	bool lines_set, all;
	int color; /* -1 auto, 0 never, 1 always */
	bool utc, show_cursor, no_pager, reverse;
	enum output_mode mode;
};

void tail_usage(const char *cmd, FILE *f);
/* Parses argv into t (filter, follow, cursor path) and a: 0 to go on, 1
 * when --help was shown, or a negative errno for a usage error (said on
 * stderr). */
int tail_parse(struct tail *t, struct tail_args *a, int argc, char **argv);
