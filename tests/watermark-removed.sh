#!/bin/bash
# DIR/watermark is what readers trust while seglogd runs.  Found from
# outside (a hostile operator): removed while the daemon ran, readers went
# blind until a restart (seglog cat printed nothing, exit 0).  The daemon
# now notices within a second, recreates it and says so; a FIFO in its
# place is refused at start with what to do.  And `seglog send` gives up
# (exit 75) on a peer that accepts but never answers HELLO, instead of
# hanging its pipeline for ever.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
d=$w/data

start_daemon "$w" || fail "daemon did not start"
"$SEGLOG" -s "$w/sock" send -t wm first > /dev/null || fail "send first"
rm -f "$d/watermark"
"$SEGLOG" -s "$w/sock" send -t wm second > /dev/null || fail "send second"
# the daemon recreates the file, then logs: wait for both (checking the
# log right after the file appeared raced the daemon's write)
for i in $(seq 1 100); do
	[ -f "$d/watermark" ] && grep -q "watermark was removed or replaced" "$w/seglogd.log" && break
	sleep 0.05
done
check "the removed watermark is recreated while the daemon runs" test -f "$d/watermark"
check "  ... and the daemon says so" grep -q "watermark was removed or replaced" "$w/seglogd.log"
for i in $(seq 1 100); do
	[ "$("$SEGLOG" -d "$d" cat -o raw 2>/dev/null | grep -c .)" = 2 ] && break
	sleep 0.05
done
check_eq "  ... and readers see both records again" \
	"$("$SEGLOG" -d "$d" cat -o raw 2>/dev/null | tr '\n' ' ')" "first second "
stop_daemon

rm -f "$d/watermark"
mkfifo "$d/watermark"
"$SEGLOGD" --dir "$d" --socket "$w/sock2" > "$w/fifo.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then
	kill -9 "$pid"
	not_ok "a FIFO as the watermark is refused at start"
else
	wait "$pid"
	check_eq "a FIFO as the watermark is refused at start (exit 1)" "$?" 1
	check "  ... naming the file and what to do" grep -q "watermark is not a regular file; remove it" "$w/fifo.log"
fi
rm -f "$d/watermark"

# a peer that accepts and never says HELLO_OK
python3 - "$w/mute.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
c, _ = s.accept()
time.sleep(120)
PY
mute=$!
for i in $(seq 1 100); do [ -S "$w/mute.sock" ] && break; sleep 0.05; done
start=$(date +%s)
SEGLOG_HELLO_TIMEOUT_MS=500 timeout 20 "$SEGLOG" -s "$w/mute.sock" send x 2> "$w/mute.err"
rc=$?
check_eq "send gives up on a peer that never answers HELLO (exit 75)" "$rc" 75
check "  ... and says why, naming the socket" grep -q "mute.sock" "$w/mute.err"
kill "$mute" 2>/dev/null
summary
