#!/bin/bash
# Crash torture: N iterations of start seglogd (tiny segments, so rotation and
# retention run all the time) → clients pipeline records and log every ack →
# SIGKILL at a random moment (sometimes right during start-up recovery) →
# restart.  Then every acknowledged record must be on disk exactly once,
# in seq order, gapless outside retention, and `verify` clean but for
# quarantined tails.  TORTURE_ITERATIONS (default 30), TORTURE_CLIENTS (3).
set -u
shopt -s nullglob # no ack logs yet (an iteration killed at start-up): an empty list
. "${top_srcdir:-.}/tests/lib.sh"

iters=${TORTURE_ITERATIONS:-30}
clients=${TORTURE_CLIENTS:-3}
w=$(test_tmpdir)
cat > "$w/conf" <<CONF
[storage]
segment_size = 64K
max_segments = 120
CONF
mkdir -p "$w/acks"
early=0
bad_iters=0
acked=0
verified=0
for i in $(seq 1 "$iters"); do
	n0=$(grep -c ' ready: ' "$w/seglogd.log" 2>/dev/null)
	SEGLOG_ACK_AUDIT=$w/audit "$SEGLOGD" -c "$w/conf" --dir "$w/data" --socket "$w/sock" >>"$w/seglogd.log" 2>&1 &
	DAEMON_PID=$!
	if [ $((RANDOM % 8)) = 0 ]; then
		# kill during start-up / recovery
		sleep "0.00$((RANDOM % 9))"
		kill -9 $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null
		early=$((early + 1))
		continue
	fi
	wait_ready "$w/seglogd.log" "$n0" || { tail "$w/seglogd.log"; fail "iteration $i: not ready"; }
	for c in $(seq 1 "$clients"); do
		$PROTO_CLIENT "$w/sock" send 1000000 --size $((40 + RANDOM % 200)) --id "i$i.c$c" \
			--log "$w/acks/acks-i$i.c$c" >/dev/null 2>&1 &
	done
	sleep "0.$((RANDOM % 7 + 2))"
	kill -9 $DAEMON_PID 2>/dev/null
	wait $DAEMON_PID 2>/dev/null
	wait # the clients end when the daemon is gone (it was reaped above)
	# right after the kill, before recovery: nothing this iteration's
	# clients saw acknowledged is missing
	if ! python3 "${top_srcdir:-.}/tests/torture/check.py" "$w/data" "$w"/acks/acks-i$i.* \
		>"$w/check-$i.out" 2>&1; then
		echo; cat "$w/check-$i.out"
		bad_iters=$((bad_iters + 1))
	fi
	acked=$((acked + $(sed -n 's/.*acknowledged \([0-9]*\),.*/\1/p' "$w/check-$i.out")))
	verified=$((verified + $(sed -n 's/.*verified \([0-9]*\),.*/\1/p' "$w/check-$i.out")))
	printf '.'
done
echo
trace "acknowledged $acked records; verified on disk right after their kill: $verified (the rest fell to retention first)"
check "at least a quarter of the acknowledged records were checked before retention removed them (about half, typically)" \
	test $((verified * 4)) -ge "$acked"
check_eq "after each of the $iters kills every acknowledged record was there" "$bad_iters" 0
if "$SEGLOGD" --version | grep -q ack-audit; then
	trace "ack audit: $(grep -c '^ack ' "$w/audit") acknowledgements checked against completed fdatasyncs"
	check "the audit saw acknowledgements" grep -q '^ack ' "$w/audit"
	check_eq "no acknowledgement ran ahead of fdatasync" "$(grep -c VIOLATION "$w/audit")" 0
fi
# a clean start on top: recovery of the last kill
start_daemon "$w" -c "$w/conf" || fail "final start failed"
stop_daemon
trace "iterations $iters (killed during start-up: $early), clients per iteration $clients"
trace "torn tails quarantined: $(ls "$w/data/quarantine" 2>/dev/null | wc -l)"
trace "retention removals: $(grep -c 'Retention' "$w/seglogd.log")"
check "every acknowledged record present once, in order, gapless" \
	python3 "${top_srcdir:-.}/tests/torture/check.py" "$w/data" "$w"/acks/acks-*
if [ -x "$SEGLOG" ] && "$SEGLOG" --version >/dev/null 2>&1; then
	"$SEGLOG" -d "$w/data" verify > "$w/verify.out" 2>&1
	rc=$?
	tail -n 3 "$w/verify.out" | sed 's/^/# /'
	check_eq "seglog verify is clean" "$rc" 0
fi
summary
