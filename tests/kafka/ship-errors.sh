#!/bin/bash
# seglog ship when things go wrong around it, each ending in a clear exit
# status and message rather than a hang, a silent exit 0 or a skip:
#  1. --once and a permanent error: it exits 1 by itself with the reason,
#     and the records before the refused one are confirmed (cursor there);
#  2. the data directory removed and recreated under a following shipper:
#     it exits 1 naming it (systemd restarts it), and the next run ships the
#     new directory from its first record;
#  3. --once with the data directory removed mid-run: exit 1, not 0;
#  4. the cursor cannot be written (its file system full): --once exits 1,
#     a following shipper says so in its status and catches up once there
#     is room;
#  5. --once interrupted: "seq N of M", M the durable end, not the last
#     seq read;
#  6. SIGHUP, SIGUSR1, SIGUSR2 and SIGPIPE do not kill it; --drain-timeout
#     0 stops at once;
#  7. the data directory restored from an older copy (same dir-id) and
#     written to before the shipper starts again: its seqs after the copy
#     are other records than those shipped; the shipper refuses to start
#     rather than skip them;
#  8. --once over a damaged record: it cannot be shipped, and the run
#     says so (exit 1, the count, in the status too), not exit 0.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"

w=$(test_tmpdir)
start_mock "$w" 1 errs:1 || fail "mock cluster did not start"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd did not start"
send() { "$SEGLOG" -s "$w/a/sock" send -t errs "$@" || fail "send"; }
D=$w/a/data

# --- 1. --once and a permanent error ------------------------------------------
seq 1 200 | sed 's/^/before the big one /' | send
big_seq=$(($(last_seq "$w/a") + 1))
send "$(head -c 60000 /dev/zero | tr '\0' x)"
send "after the big one"
timeout 30 "$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c1" \
	--host-id h1 --once -X message.max.bytes=10000 >"$w/once1.log" 2>&1
check_eq "--once, a too-large record: exits by itself with status" "$?" 1
check "... with the reason" grep -q 'Shipping stopped: .*too large' "$w/once1.log"
check_eq "... the records before it were confirmed" "$(cursor_seq "$w/c1")" $((big_seq - 1))

# --- 2. the data directory removed and recreated ------------------------------
"$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c2" --host-id h2 \
	>"$w/follow2.log" 2>&1 &
ship=$!
check "the shipper catches up" wait_cursor "$w/c2" "$(last_seq "$w/a")" 30
old_id=$(cat "$D/dir-id")
stop_daemon || fail "seglogd stop"
rm -rf "$D"
start_daemon "$w/a" || fail "seglogd did not start again"
seq 1 30 | sed 's/^/in the new directory /' | send
new_id=$(cat "$D/dir-id")
check "the new directory has a new id" test "$old_id" != "$new_id"
for i in $(seq 1 200); do kill -0 "$ship" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$ship" 2>/dev/null; then
	not_ok "the shipper noticed the replaced directory within 10 s: $(tail -n2 "$w/follow2.log")"
	kill -TERM "$ship"
fi
wait "$ship"
check_eq "... and exited with status" "$?" 1
check "... naming the directory" grep -q "$D.*\(removed\|replaced\)" "$w/follow2.log"
timeout 30 "$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c2" \
	--host-id h2 --once >>"$w/follow2.log" 2>&1
check_eq "the next run ships the new directory: status" "$?" 0
check "... from its first record" grep -q 'another data directory' "$w/follow2.log"
check_eq "... to its end" "$(cursor_seq "$w/c2")" "$(last_seq "$w/a")"
check "... and the cursor names the new directory" grep -q "$new_id" "$w/c2"

# --- 3. --once, the directory removed mid-run ---------------------------------
# the broker down: --once has read everything and waits for confirmations
seq 1 100 | sed 's/^/removed mid-run /' | send
mock_cmd down 1 || fail "broker down"
cp -a "$D" "$w/copy"
"$SEGLOG" -d "$w/copy" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c3" \
	--host-id h3 --once >"$w/once3.log" 2>&1 &
ship=$!
sleep 1
rm -rf "$w/copy"
mock_cmd up 1 || fail "broker up"
timeout 30 tail --pid="$ship" -f /dev/null
wait "$ship"
check_eq "--once, the directory removed mid-run: exit status" "$?" 1
check "... naming it" grep -q "$w/copy.*removed" "$w/once3.log"

# --- 4. the cursor's file system full -----------------------------------------
if [ "$(id -u)" = 0 ] && mkdir "$w/full" && mount -t tmpfs -o size=64k tmpfs "$w/full"; then
	trap 'umount -l "$w/full" 2>/dev/null; _cleanup' EXIT
	dd if=/dev/zero of="$w/full/filler" bs=4k 2>/dev/null
	timeout 30 "$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs \
		--cursor-file "$w/full/cursor" --host-id h4 --once >"$w/once4.log" 2>&1
	check_eq "--once, the cursor cannot be written: exit status" "$?" 1
	check "... naming the cursor file" grep -q "$w/full/cursor.*No space" "$w/once4.log"
	"$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/full/cursor" \
		--host-id h4 >"$w/follow4.log" 2>&1 &
	ship=$!
	sleep 2
	n=$(grep -c 'Cannot write cursor file' "$w/follow4.log")
	check "following: the failure is logged, not once per 100 ms ($n lines)" test "$n" -ge 1 -a "$n" -le 2
	rm -f "$w/full/filler"
	check "... and once there is room the cursor is saved" \
		wait_cursor "$w/full/cursor" "$(last_seq "$w/a")" 10
	kill -TERM "$ship"
	wait "$ship"
	check_eq "... SIGTERM: exit status" "$?" 0
	umount -l "$w/full"
else
	echo "SKIP: not root: cannot mount a full tmpfs for the cursor"
fi

# --- 5. --once interrupted ----------------------------------------------------
mock_cmd down 1 || fail "broker down"
end=$(last_seq "$w/a")
"$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c5" --host-id h5 \
	--once --drain-timeout 0 -X queue.buffering.max.messages=10 >"$w/once5.log" 2>&1 &
ship=$!
sleep 1
kill -TERM "$ship"
wait "$ship"
check_eq "--once interrupted: exit status" "$?" 1
check "... 'seq 0 of $end', the durable end" grep -q "seq 0 of $end)" "$w/once5.log"

# --- 6. signals ---------------------------------------------------------------
"$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c6" --host-id h6 \
	--drain-timeout 0 >"$w/follow6.log" 2>&1 &
ship=$!
sleep 1
for sig in HUP USR1 USR2 PIPE; do
	kill -s "$sig" "$ship"
	sleep 0.2
	check "SIG$sig does not kill it" kill -0 "$ship"
done
check "SIGUSR1 logs the status line" grep -q 'Status: running: seq' "$w/follow6.log"
t0=$(date +%s%N)
kill -TERM "$ship"
wait "$ship"
check_eq "--drain-timeout 0, records in flight, SIGTERM: exit status" "$?" 0
t1=$(date +%s%N)
check "... it stops at once, not after 5 s ($(((t1 - t0) / 1000000)) ms)" \
	test $(((t1 - t0) / 1000000)) -lt 3000
mock_cmd up 1
stop_daemon

# --- 7. a directory restored from an older copy --------------------------------
mkdir -p "$w/r"
start_daemon "$w/r" || fail "seglogd (r) did not start"
seq 1 100 | sed 's/^/before the copy /' | "$SEGLOG" -s "$w/r/sock" send -t r || fail "send"
stop_daemon
cp -a "$w/r/data" "$w/r/copy"
start_daemon "$w/r" || fail "seglogd (r) did not start"
seq 1 100 | sed 's/^/after the copy /' | "$SEGLOG" -s "$w/r/sock" send -t r || fail "send"
timeout 30 "$SEGLOG" -d "$w/r/data" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c7" \
	--host-id h7 --once >"$w/once7.log" 2>&1
check_eq "restore: 200 records shipped, status" "$?" 0
stop_daemon
rm -rf "$w/r/data"
mv "$w/r/copy" "$w/r/data"
start_daemon "$w/r" || fail "seglogd (r) did not start on the copy"
seq 1 150 | sed 's/^/after the restore /' | "$SEGLOG" -s "$w/r/sock" send -t r || fail "send"
timeout 30 "$SEGLOG" -d "$w/r/data" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c7" \
	--host-id h7 --once >>"$w/once7.log" 2>&1
check_eq "restored and written to: the shipper refuses, status" "$?" 2
check "... saying seq 200 is another record now" grep -q "names seq 200 .*another record" "$w/once7.log"
check_eq "... and leaves the cursor" "$(cursor_seq "$w/c7")" 200
stop_daemon

# --- 8. --once over a damaged record --------------------------------------------
mkdir -p "$w/d"
start_daemon "$w/d" || fail "seglogd (d) did not start"
seq 1 100 | sed 's/^/damage test record /' | "$SEGLOG" -s "$w/d/sock" send -t d || fail "send"
"$SEGLOG" -s "$w/d/sock" rotate >/dev/null || fail "rotate"
seq 101 120 | sed 's/^/damage test record /' | "$SEGLOG" -s "$w/d/sock" send -t d || fail "send"
stop_daemon
seg=$(ls "$w/d/data" | grep -E '^[0-9]{20}\.log$' | head -n1)
python3 - "$w/d/data/$seg" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
i = b.index(b'damage test record 50 '); b[i] ^= 0x20   # one flipped bit in record 50
open(p, 'wb').write(bytes(b))
PY
timeout 30 "$SEGLOG" -d "$w/d/data" ship --brokers "$BROKERS" --topic errs --cursor-file "$w/c8" \
	--host-id h8 --once >"$w/once8.log" 2>&1
check_eq "--once over a damaged record: exit status" "$?" 1
check "... saying how many were not shipped" grep -q '^.*1 records up to seq 120 were not shipped' "$w/once8.log"
check_eq "... the rest was shipped" "$(cursor_seq "$w/c8")" 120
stop_mock
summary
