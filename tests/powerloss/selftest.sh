#!/bin/bash
# The power-loss layer's self-test: a writer that skips fdatasync loses data,
# one that renames without fsyncing the directory loses the rename, one that
# syncs properly loses nothing, under each model where that applies
# (selftest.py has the cases; tests/powerloss/README.md the model).
# Skipped (77) only where FUSE cannot be mounted.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/powerloss/fuse.sh"

powerloss_need_fuse
w=$(test_tmpdir)
python3 "${top_srcdir:-.}/tests/powerloss/selftest.py" "$PLFS" "$w"
rc=$?
powerloss_umount "$w/m"
exit $rc
