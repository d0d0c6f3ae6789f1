#!/bin/bash
# kill -9 of seglog ship mid-stream, 20 times, while records keep coming:
# after every restart it resumes from its cursor (never torn, never
# backwards), and after dedup on (host, dir_id, seq) the consumed set
# equals the sent set exactly (at-least-once + exact dedup).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"

w=$(test_tmpdir)
start_mock "$w" 1 crash:1 || fail "mock cluster did not start"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd did not start"
# a slow broker, so that every kill finds records in flight
mock_cmd rtt 1 15 || fail "mock: rtt"
ITER=${SHIP_CRASH_ITERATIONS:-20}
prev=0 backwards=0 torn=0 progressed=0 midstream=0
# a steady stream of records for the whole run: 50 every 20 ms
(
	b=0
	while [ ! -e "$w/stop-feeding" ]; do
		b=$((b + 1))
		seq 1 50 | sed "s/^/batch $b record /" | "$SEGLOG" -s "$w/a/sock" send -t crash ||
			echo "send failed" >>"$w/feeder.err"
		sleep 0.02
	done
) &
feeder=$!
for i in $(seq 1 "$ITER"); do
	start_ship "$w" "$w/a/data" h1 crash
	# each run first confirms something new (however slow the start is
	# on a loaded machine), then dies at a random moment 0..0.39 s later
	wait_cursor "$w/cursor-h1" $((prev + 1)) 60 >/dev/null ||
		not_ok "run $i: the cursor did not pass $prev within 60 s"
	sleep "0.$((RANDOM % 40))"
	kill -9 "$SHIP_PID"
	wait "$SHIP_PID" 2>/dev/null
	[ "$(cursor_seq "$w/cursor-h1")" -lt "$(last_seq "$w/a")" ] && midstream=$((midstream + 1))
	if [ -e "$w/cursor-h1" ] && ! grep -Eq '^seglog-cursor (1 [0-9a-f]{32} [0-9]+|2 [0-9a-f]{32} [0-9]+ [1-9][0-9]*)$' "$w/cursor-h1"; then
		torn=$((torn + 1))
	fi
	cur=$(cursor_seq "$w/cursor-h1")
	[ "$cur" -lt "$prev" ] && backwards=$((backwards + 1))
	[ "$cur" -gt "$prev" ] && progressed=$((progressed + 1))
	prev=$cur
done
touch "$w/stop-feeding"
wait "$feeder"
check "the feeder's sends were all acknowledged" test ! -e "$w/feeder.err"
trace "cursor after $ITER kills: $prev of $(last_seq "$w/a"); it moved in $progressed rounds;" \
	"$midstream kills left records unconfirmed"
check "most kills hit the shipper mid-stream" test "$midstream" -ge $((ITER / 2))
check_eq "the cursor file is never torn" "$torn" 0
check_eq "the cursor never goes backwards" "$backwards" 0
check_eq "the cursor advanced in every run before its kill" "$progressed" "$ITER"
start_ship "$w" "$w/a/data" h1 crash
check "after the last restart everything is confirmed" \
	wait_cursor "$w/cursor-h1" "$(last_seq "$w/a")" 90
kill -TERM "$SHIP_PID"
wait "$SHIP_PID"
check_eq "SIGTERM: exit status" "$?" 0
consume crash "$w/c.json"
sent_set "$w/a" h1 >"$w/want"
check "after dedup the consumed set equals the sent set" check_consumed "$w/c.json" "$w/want"
n=$(grep -c . "$w/c.json")
trace "restart duplicates the consumer removed: $((n - $(wc -l <"$w/want")))"
stop_daemon
stop_mock
summary
