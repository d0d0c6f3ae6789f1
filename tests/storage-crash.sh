#!/bin/bash
# The storage engine, through a test program rather than the daemon:
#  1. 1,000,000 records in durability=fsync with group commit: all present.
#  2. The same killed with SIGKILL at a random moment (several times):
#     every record the program saw committed is there, gapless, once.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

writer=${top_builddir:-.}/tests/engine-writer
n=${STORAGE_CRASH_RECORDS:-1000000}

d=$(test_tmpdir)
trace "writing $n records (fsync, 8 MiB segments)"
"$writer" write "$d/data" "$n" fsync $((8 << 20)) > "$d/acks" 2> "$d/err"
rc=$?
if [ "$rc" != 0 ]; then
	cat "$d/err"
	[ $rc = 77 ] && skip "io_uring unavailable"
	fail "writer exited $rc"
fi
last=$(tail -n1 "$d/acks" | cut -d' ' -f2)
[ "$last" = "$n" ] || fail "last ack $last, expected $n"
check "all $n records present" "$writer" check "$d/data" "$n"

for i in 1 2 3 4 5; do
	rm -rf "$d/k$i"
	# a small segment size so that kills also land in rotations; more
	# records than any machine writes before the kill (a fast CI machine
	# wrote all of an earlier 400,000 within the 0.9 s wait), and the kill
	# comes at a random moment after the first commit
	"$writer" write "$d/k$i" 1000000000 fsync $((256 << 10)) > "$d/acks$i" 2> "$d/err$i" &
	pid=$!
	for _ in $(seq 1 400); do
		[ -s "$d/acks$i" ] || ! kill -0 $pid 2>/dev/null && break
		sleep 0.05
	done
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	rc=$?
	# 137: SIGKILLed while writing; anything else (a crash, or done before
	# the kill) and the kill did not test what it claims
	[ "$rc" = 137 ] || { cat "$d/err$i"; fail "kill -9 #$i: writer status $rc, not 137 (alive and killed)"; }
	acked=$(grep -c . "$d/acks$i" >/dev/null && tail -n1 "$d/acks$i" | cut -d' ' -f2)
	acked=${acked:-0}
	check "kill -9 #$i after $acked acknowledged: none lost" "$writer" check "$d/k$i" "$acked"
	# and a restart on top keeps going from the next seq
done
summary
