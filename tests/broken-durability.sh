#!/bin/bash
# The ack audit catches a daemon that acknowledges before durability.  Only
# in a build configured with both --enable-ack-audit and
# --enable-broken-durability (test-only: the engine submits each write
# alone, cutting the IOSQE_IO_LINK to its fdatasync, so the fdatasync may
# run before the write and the ack precede the records' durability);
# skipped (77) in any other build, as tests/skip-allowlist says.
#   1. records sent in durability=fsync are all acknowledged (the daemon
#      does not notice anything wrong itself);
#   2. the audit log reports VIOLATION for (nearly) every commit, naming
#      the offsets, and seglogd logged "ack audit:" errors.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

cfg=${top_builddir:-.}/config.h
grep -q '^#define SEGLOG_ACK_AUDIT 1' "$cfg" 2>/dev/null &&
	grep -q '^#define SEGLOG_BROKEN_DURABILITY 1' "$cfg" 2>/dev/null ||
	skip "needs a build with --enable-ack-audit and --enable-broken-durability"

w=$(test_tmpdir)
printf '[storage]\nsegment_size = 1M\ndurability = fsync\n' > "$w/conf"
SEGLOG_ACK_AUDIT=$w/audit start_daemon "$w" -c "$w/conf" || fail "daemon did not start"
out=$($PROTO_CLIENT "$w/sock" send 5000 --size 120 --id bd)
check_eq "every record is acknowledged (the breakage is silent)" \
	"$(echo "$out" | jq -r .acked_recno)" 5000
stop_daemon
check_eq "exit 0" "$?" 0
acks=$(grep -c '^ack ' "$w/audit")
v=$(grep -c '^VIOLATION' "$w/audit")
trace "audit: $v violation(s), $acks ack(s) passed"
grep -m 2 '^VIOLATION' "$w/audit" | sed 's/^/#   /'
check "the audit reports VIOLATION" test "$v" -gt 0
check "... for most commits (a cut link is never credited)" test "$v" -gt "$acks"
check "seglogd logged the violations" grep -q 'ack audit: seq' "$w/seglogd.log"
summary
