#!/bin/bash
# A client that does not read its replies (issue 10, finding 6) is dropped
# after ack_queue_max, and must learn why: ERROR(0, slow-reader) after the
# replies the socket already held, every frame whole, then an orderly end
# of stream rather than a reset -- 5 of 5 times.  Two such clients: one
# that never reads its acks, and one that asks for STATUS again and again
# and reads only a trickle of the (large) replies, so that the daemon's
# sends are partial and its queue starts inside a frame when the drop
# comes (the old daemon spliced the ERROR into that torn frame).  What a
# client saw acknowledged is on disk.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
command -v jq > /dev/null || skip "jq is needed"

H=${top_srcdir:-.}/tests/hostile
RUNS=5
w=$(test_tmpdir)
cat > "$w/conf" <<CONF
[storage]
durability = write
[server]
ack_queue_max = 4K
CONF
start_daemon "$w" -c "$w/conf" || fail "daemon did not start"

# runs NAME KIND BATCH TRICKLE: RUNS clients, one after the other; each
# stops writing when the daemon drops it, then reads the rest
runs() {
	local r
	: > "$w/$1.json"
	for r in $(seq 1 $RUNS); do
		python3 "$H/attack.py" "$w/sock" unread "$2" "$3" "$4" 60 >> "$w/$1.json" ||
			echo '{"helper_failed": true}' >> "$w/$1.json"
	done
}
js() { jq -s -r "$2" "$w/$1.json"; }
# outcome NAME WHAT REPLIES: the checks every slow reader must pass
outcome() {
	trace "$1 per run: $(js "$1" '[.[].per_client[0] | {dropped_s, acks_read_afterwards, status_frames, errors: (.errors | length), last_frame, reset, torn_bytes}] | tostring')"
	check_eq "$2: dropped, $RUNS of $RUNS runs" "$(js "$1" 'map(.dropped) | add')" $RUNS
	check_eq "  ... and reads ERROR(0, slow-reader), $RUNS of $RUNS runs" \
		"$(js "$1" 'map(.got_slow_reader_error) | add')" $RUNS
	check_eq "  ... as its last frame, after $3" \
		"$(js "$1" "[.[].per_client[0] | select(.last_frame == \"0x83\" and .$3 > 0)] | length")" $RUNS
	check_eq "  ... with no frame torn (no byte left over, no frame of another type)" \
		"$(js "$1" '[.[].per_client[0] | select(.torn_bytes == 0 and .unknown_frames == 0)] | length')" $RUNS
	check_eq "  ... then an orderly end of stream, not ECONNRESET" \
		"$(js "$1" '[.[].per_client[0] | select(.eof and (.reset | not))] | length')" $RUNS
	check_eq "  ... no other ERROR" \
		"$(js "$1" '[.[].per_client[0].errors[] | select(. != [0, 8])] | length')" 0
}

runs acks records 20 0
outcome acks "a client that never reads its acks" acks_read_afterwards
# large replies: a queue above the largest unit the kernel takes in one go
sed -i 's/^ack_queue_max = .*/ack_queue_max = 256K/' "$w/conf"
n=$(grep -c 'Configuration reloaded' "$w/seglogd.log")
kill -HUP "$DAEMON_PID"
for i in $(seq 1 200); do
	[ "$(grep -c 'Configuration reloaded' "$w/seglogd.log")" -gt "$n" ] && break
	sleep 0.05
done
runs status status 10 4096
outcome status "a client that reads a trickle of its STATUS replies" status_frames

lost=0
for p in $(js acks '.[].pid'); do
	acked=$(js acks ".[] | select(.pid == $p) | .per_client[0].max_acked_recno")
	have=$(records "$w" | grep -c " slow - - - - - slow-$p-0-")
	[ "$have" -ge "$acked" ] || lost=$((lost + 1))
done
check_eq "every record a slow reader saw acknowledged is on disk" "$lost" 0
check_eq "the daemon logged each drop, naming ack_queue_max" \
	"$(grep -c 'Dropping client pid .*unread (ack_queue_max = \(4096\|262144\))' "$w/seglogd.log")" \
	$((2 * RUNS))
check_eq "status counts them (slow_readers)" \
	"$($PROTO_CLIENT "$w/sock" status | awk '$1 == "slow_readers" {print $2}')" $((2 * RUNS))
stop_daemon
check_eq "seglogd exits 0" "$?" 0
summary
