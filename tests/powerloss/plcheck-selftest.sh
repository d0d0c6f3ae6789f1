#!/bin/bash
# plcheck.py can fail: a missing prefix not logged as retention, a middle
# segment gone, an ACK naming another seq, a record out of its client's
# order, a seq reused (plcheck_selftest.py; no FUSE needed).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
w=$(test_tmpdir)
python3 "${top_srcdir:-.}/tests/powerloss/plcheck_selftest.py" "$w/work"
