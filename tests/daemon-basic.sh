#!/bin/bash
# seglogd end to end over the native protocol: pipelined acks, concurrency,
# SIGTERM drain, hostile input, config errors, the lock, stale sockets,
# SIGHUP and SIGUSR1.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
start_daemon "$w" || fail "daemon did not start"

# --- one client pipelining 100,000 records --------------------------------
out=$($PROTO_CLIENT "$w/sock" send 100000 --id a --log "$w/acks-a")
check_eq "100,000 pipelined records all acknowledged" \
	"$(echo "$out" | jq -r '.acked_recno')" 100000
check_eq "no errors" "$(echo "$out" | jq -r '.errors | length')" 0
check_eq "last ack carries seq 100000" "$(echo "$out" | jq -r '.last_seq')" 100000
check "acks are cumulative and increasing" \
	awk 'BEGIN{p=0} {if ($1 <= p) exit 1; p=$1} END{exit p != 100000}' "$w/acks-a"
check_eq "seqs 1..100000 on disk, gapless" \
	"$(records "$w" | awk '{print $2}' | awk 'BEGIN{e=1} {if ($1 != e) {print "gap at " e; exit} e++} END{print e-1}')" 100000

# --- 16 concurrent clients ------------------------------------------------
pids=()
for k in $(seq 1 16); do
	$PROTO_CLIENT "$w/sock" send 5000 --id "k$k" > "$w/out-$k" &
	pids+=($!)
done
wait "${pids[@]}"
bad=0
for k in $(seq 1 16); do
	[ "$(jq -r .acked_recno "$w/out-$k")" = 5000 ] || bad=$((bad + 1))
done
check_eq "16 concurrent clients fully acknowledged" "$bad" 0
check_eq "union gapless (180,000 records)" \
	"$(records "$w" | awk '{print $2}' | awk 'BEGIN{e=1} {if ($1 != e) {print "gap at " e; exit} e++} END{print e-1}')" 180000
check "each client's records keep their order" bash -c "
	$(declare -f records); records '$w' | awk '\$7 == \"test\" {split(\$13, a, \"-\"); if (a[1] ~ /^k/) { if (a[2] != last[a[1]] + 1) exit 1; last[a[1]] = a[2] } }'"

# --- hostile and broken clients --------------------------------------------
big=$(python3 -c 'print("02" + "01" * 0)')
# oversized record: message of 70,000 bytes > max_record 64K: per-record error, then more records work
hex=$(python3 - <<'PY'
import struct
def frame(t, b): return struct.pack("<IB", len(b) + 1, t) + b
rec = lambda m: frame(2, struct.pack("<BBBB", 1, 6, 0, 3) + b"big" + m)
print((rec(b"x" * 70000) + rec(b"after the big one")).hex())
PY
)
out=$($PROTO_CLIENT "$w/sock" raw - <<<"$hex")
check "oversized record gets ERROR too-large with its recno" grep -q '^ERROR 1 2 ' <<<"$out"
check "the next record is acknowledged" grep -q '^ACK 2 ' <<<"$out"
check "the record after an oversized one is on disk" bash -c "cat '$w'/data/*.log '$w'/data/current 2>/dev/null | grep -q 'after the big one'"

out=$($PROTO_CLIENT "$w/sock" raw "00000000ff")
check "zero-length frame: ERROR malformed, connection closed" grep -q '^ERROR 0 1 ' <<<"$out"
out=$($PROTO_CLIENT "$w/sock" raw "$(head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n')" nohello)
check "garbage bytes without HELLO: ERROR malformed, closed" grep -q '^ERROR 0 1 ' <<<"$out"
out=$($PROTO_CLIENT "$w/sock" raw "0100000077")
check "unknown frame type: ERROR malformed" grep -q '^ERROR 0 1 ' <<<"$out"

# a client that never reads its acks does not stall the others
python3 - "$w/sock" <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = lambda t, b: struct.pack("<IB", len(b) + 1, t) + b
s.sendall(f(1, struct.pack("<IHHI", 0x4C474553, 1, 1, 0)))
rec = f(2, struct.pack("<BBBB", 1, 6, 0, 6) + b"nowait" + b"y" * 50)
try:
    for i in range(200000):
        s.sendall(rec)
except Exception:
    pass
time.sleep(3)
PY
hostile=$!
# and one that connects and never sends
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(4)' "$w/sock" &
idle=$!
out=$($PROTO_CLIENT "$w/sock" send 20000 --id calm)
check_eq "a well-behaved client is served next to hostile ones" "$(echo "$out" | jq -r .acked_recno)" 20000
kill $hostile $idle 2>/dev/null; wait $hostile $idle 2>/dev/null

# a client that sends and closes at once, without reading any ack: every
# record it sent is still committed
python3 - "$w/sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = lambda t, b: struct.pack("<IB", len(b) + 1, t) + b
s.sendall(f(1, struct.pack("<IHHI", 0x4C474553, 1, 1, 0)))
s.sendall(b"".join(f(2, struct.pack("<BBBB", 1, 6, 0, 4) + b"gone" + b"fire-and-forget %d" % i)
                   for i in range(100000)))
s.close()
PY
# (in every segment: with what the hostile client got in before, the
# 64 MiB segment may rotate in the middle of these)
for i in $(seq 1 300); do # up to 30 s on a loaded machine
	n=$(records "$w" | grep -c ' gone - - - - - fire-and-forget ')
	[ "$n" -ge 100000 ] && break
	sleep 0.1
done
check_eq "a client that closes without reading acks loses nothing (100,000 records)" "$n" 100000

# --- the lock, stale and live sockets ---------------------------------------
"$SEGLOGD" --dir "$w/data" --socket "$w/sock2" > "$w/second.log" 2>&1
check_eq "a second seglogd on the same directory is refused" "$?" 1
check "  ... with a message naming the directory" grep -q "in use by another seglogd" "$w/second.log"
"$SEGLOGD" --dir "$w/data2" --socket "$w/sock" > "$w/steal.log" 2>&1
check_eq "a live socket is not stolen" "$?" 1
check "  ... with a message naming the socket" grep -q "$w/sock is in use" "$w/steal.log"

# --- SIGUSR1 seals current ---------------------------------------------------
kill -USR1 $DAEMON_PID
sleep 0.5
check "SIGUSR1 sealed current into a segment" bash -c "ls '$w/data' | grep -qE '^00000000000000000001\.log$'"

# --- SIGTERM while 8 clients send: every acknowledged record is on disk ----
pids=()
for k in $(seq 1 8); do
	$PROTO_CLIENT "$w/sock" send 200000 --id "t$k" --log "$w/tacks-$k" > "$w/tout-$k" &
	pids+=($!)
done
sleep 1
stop_daemon
check_eq "seglogd exits 0 after SIGTERM" "$?" 0
wait "${pids[@]}"
lost=0
for k in $(seq 1 8); do
	n=$(grep -v error "$w/tacks-$k" | tail -n1 | cut -d' ' -f1)
	n=${n:-0}
	have=$(records "$w" | grep -c " t$k-")
	[ "$have" -ge "$n" ] || lost=$((lost + 1))
done
check_eq "after SIGTERM every acknowledged record is on disk" "$lost" 0

# a client that never stops sending cannot hold the shutdown open
start_daemon "$w" || fail "restart failed"
python3 - "$w/sock" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = lambda t, b: struct.pack("<IB", len(b) + 1, t) + b
s.sendall(f(1, struct.pack("<IHHI", 0x4C474553, 1, 1, 0)))
chunk = b"".join(f(2, struct.pack("<BBBB", 1, 6, 0, 7) + b"endless" + b"z" * 80) for i in range(1000))
try:
    while True:
        s.sendall(chunk)
except OSError:
    pass
PY
endless=$!
sleep 1
t0=$(date +%s%N)
stop_daemon
rc=$?
t1=$(date +%s%N)
check_eq "SIGTERM with an endless sender: exit 0" "$rc" 0
check "  ... within 2 s ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 2000
wait $endless 2>/dev/null

# --- restart: stale socket replaced; SIGHUP changes a limit -------------------
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$w/stale.sock"
cat > "$w/conf" <<CONF
[server]
rate_limit_burst = 0
CONF
start_daemon "$w" -c "$w/conf" --syslog-dgram "$w/stale.sock" || fail "restart failed"
check "a stale socket file is replaced" grep -q "Replaced stale socket" "$w/seglogd.log"
out=$($PROTO_CLIENT "$w/sock" send 50 --id r1)
check_eq "no rate limit before SIGHUP" "$(echo "$out" | jq -r '.errors | length')" 0
printf '[server]\nrate_limit_burst = 10\nrate_limit_interval = 1h\n' > "$w/conf"
kill -HUP $DAEMON_PID
sleep 0.5
out=$($PROTO_CLIENT "$w/sock" send 50 --id r2)
check "after SIGHUP records beyond the burst are refused as rate-limited" \
	bash -c "echo '$out' | jq -r '.errors[]' | grep -q 'code 3'"
stop_daemon
check_eq "exit 0" "$?" 0

# --- bad configuration: exit 2 with FILE:LINE: key ------------------------
bad() {
	printf "$2" > "$w/bad.conf"
	"$SEGLOGD" -c "$w/bad.conf" --check-config > "$w/bad.out" 2>&1
	local rc=$?
	check_eq "bad config ($1): exit 2" "$rc" 2
	check "  ... message names $w/bad.conf:$3" grep -q "bad.conf:$3" "$w/bad.out"
}
bad "unknown key" '[storage]\nfrobnicate = 1\n' "2: frobnicate"
bad "unknown section" '\n[nope]\n' "2"
bad "bad size" '[storage]\n\nsegment_size = 64Q\n' "3: segment_size"
bad "bad duration" '[storage]\nsegment_age = 1 fortnight\n' "2: segment_age"
bad "bad mode" '[storage]\nfile_mode = 0999\n' "2: file_mode"
bad "relative path" '[storage]\ndir = var/log\n' "2: dir"
"$SEGLOGD" -c "$w/none.conf" --check-config > "$w/bad.out" 2>&1
check_eq "missing explicit config file: exit 2" "$?" 2
check "  ... names the file" grep -q "none.conf" "$w/bad.out"
summary
