/* The recovery tail scanner (pure, no I/O; fuzzed).
 *
 * Given the last bytes of `current`, finds where its valid records end.
 * Lines are checked with record_check_version() in the segment's format
 * version and must carry consecutive seqs; valid meta lines (version 2)
 * are kept and carry none.
 * The first line that fails, if it starts within `unsynced_max` bytes of
 * the end of the file, begins a torn tail: everything from it on was never
 * acknowledged (it lies in the region a crash can tear) and is cut.  A bad
 * line farther back is damage, not a torn tail: it is counted and left in
 * place for verify to report, and scanning goes on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct recover_result {
	uint64_t cut;	     /* file offset where the valid data ends */
	bool have_last;	     /* a valid record was found */
	uint64_t last_seq;   /* its seq */
	uint64_t last_time_us;
	uint64_t first_seq;  /* seq of the first valid record in the window */
	uint64_t records;    /* valid records seen in the window */
	uint64_t damaged;    /* bad lines left in place (outside the torn zone) */
};

/* buf holds the file bytes [base, base + len), which end at the end of the
 * file.  at_line_start says buf[0] starts a line (right after the header);
 * otherwise the bytes up to the first LF are skipped. */
void recover_scan(unsigned version, const char *buf, size_t len, uint64_t base,
		  bool at_line_start, uint64_t unsynced_max, struct recover_result *ret);
