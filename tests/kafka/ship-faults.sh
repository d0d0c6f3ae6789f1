#!/bin/bash
# seglog ship under Kafka faults, records flowing all the while; after each
# the consumed set (deduplicated on (host, dir_id, seq)) equals the sent set:
#  1. the only broker down for 3 s and back (librdkafka retries);
#  3. injected retriable produce errors (NOT_LEADER_OR_FOLLOWER (6),
#     REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS, a dropped connection);
#  4. one OUT_OF_ORDER_SEQUENCE_NUMBER, fatal for the idempotent producer;
#  2. the broker down longer than -X message.timeout.ms=1500 (the default
#     is 0, no timeout): deliveries fail, the shipper purges, recreates its
#     producer and resends from the cursor;
#  5. a record larger than message.max.bytes: a permanent error stops
#     shipping with the reason, and the cursor stays before it.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"

w=$(test_tmpdir)
start_mock "$w" 1 faults:1 || fail "mock cluster did not start"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd did not start"

feed_start() {
	rm -f "$w/stop-feeding"
	(
		b=0
		while [ ! -e "$w/stop-feeding" ]; do
			b=$((b + 1))
			seq 1 40 | sed "s/^/$1 batch $b record /" | "$SEGLOG" -s "$w/a/sock" send -t faults ||
				echo "send failed" >>"$w/feeder.err"
			sleep 0.02
		done
	) &
	feeder=$!
}
feed_stop() {
	touch "$w/stop-feeding"
	wait "$feeder"
}
# settle PHASE [any-order]: stop feeding, wait until all is confirmed,
# check the topic.
settle() {
	feed_stop
	check "$1: everything confirmed" wait_cursor "$w/cursor-h1" "$(last_seq "$w/a")" 90
	consume faults "$w/c.json"
	sent_set "$w/a" h1 >"$w/want"
	if check_consumed "$w/c.json" "$w/want" "${2:-}"; then
		ok "$1: nothing lost"
	else
		not_ok "$1: nothing lost"
		# what the shipper and the consumer said, for the record
		grep -E 'missing|not shipped|damaged|resending|fatal|Stopped' "$w/ship-h1.log" |
			tail -n 20 | sed 's/^/#   ship: /'
		sed 's/^/#   kcat: /' "$w/c.json.err" | tail -n 5
		# the mock cluster trims a partition's oldest message sets past
		# ~5 MiB: a first offset above 0 would say the loss is the mock's
		jq -rs '"#   kafka: \(length) messages, offsets \(map(.offset) | min)..\(map(.offset) | max)"' \
			"$w/c.json"
	fi
}

start_ship "$w" "$w/a/data" h1 faults
ship=$SHIP_PID

# --- 1. broker down a few seconds --------------------------------------------
feed_start down
sleep 0.5
check "broker 1 down" mock_cmd down 1
sleep 3
check "broker 1 up" mock_cmd up 1
sleep 0.5
settle "broker down 3 s"

# --- 3. retriable errors --------------------------------------------------------
feed_start retriable
sleep 0.3
check "inject NOT_LEADER_OR_FOLLOWER" mock_cmd err produce 6 3
sleep 0.3
check "inject REQUEST_TIMED_OUT" mock_cmd err produce REQUEST_TIMED_OUT 2
sleep 0.3
check "inject NOT_ENOUGH_REPLICAS" mock_cmd err produce NOT_ENOUGH_REPLICAS 2
sleep 0.3
check "inject a dropped connection" mock_cmd err produce _TRANSPORT 1
sleep 0.5
settle "retriable errors"

# --- 4. fatal OUT_OF_ORDER_SEQUENCE_NUMBER -------------------------------------
r0=$(grep -c 'resending from seq' "$w/ship-h1.log")
feed_start fatal
sleep 0.3
check "inject OUT_OF_ORDER_SEQUENCE_NUMBER" mock_cmd err produce OUT_OF_ORDER_SEQUENCE_NUMBER 1
sleep 1
settle "fatal OUT_OF_ORDER_SEQUENCE_NUMBER"
r1=$(grep -c 'resending from seq' "$w/ship-h1.log")
check "the fatal error made it recreate the producer" test "$r1" -gt "$r0"
check "the log names the fatal error" grep -q 'fatal.*OUT_OF_ORDER_SEQUENCE_NUMBER' "$w/ship-h1.log"
kill -TERM "$ship"
wait "$ship"
check_eq "SIGTERM: exit status" "$?" 0

# --- 2. down longer than message.timeout.ms ------------------------------------
# -X message.timeout.ms: deliveries time out while the broker is down
start_ship "$w" "$w/a/data" h1 faults -X message.timeout.ms=1500
ship=$SHIP_PID
r0=$(grep -c 'resending from seq' "$w/ship-h1.log")
feed_start timeout
sleep 0.5
mock_cmd down 1
sleep 4
mock_cmd up 1
sleep 0.5
# records timed out in librdkafka's queue while younger ones got through:
# after the resend the set is whole, but not in seq order (docs/shipping.md)
settle "deliveries timed out" any-order
r1=$(grep -c 'resending from seq' "$w/ship-h1.log")
check "timed-out deliveries made it recreate the producer" test "$r1" -gt "$r0"

kill -TERM "$ship"
wait "$ship"
check_eq "SIGTERM: exit status" "$?" 0

# --- 5. a permanent error --------------------------------------------------------
before=$(last_seq "$w/a")
start_ship "$w" "$w/a/data" h1 faults -X message.max.bytes=4000
ship=$SHIP_PID
"$SEGLOG" -s "$w/a/sock" send -t big "$(head -c 6000 /dev/zero | tr '\0' x)" || fail "send big"
"$SEGLOG" -s "$w/a/sock" send -t after "after the big one" || fail "send"
for i in $(seq 1 100); do grep -q 'Shipping stopped' "$w/ship-h1.log" && break; sleep 0.05; done
check "a too-large record stops shipping with the reason" \
	grep -q 'Shipping stopped: .*too large' "$w/ship-h1.log"
check_eq "the cursor stays before it" "$(cursor_seq "$w/cursor-h1")" "$before"
kill -TERM "$ship"
wait "$ship"
check_eq "stopped, then SIGTERM: exit status 1" "$?" 1
stop_daemon
stop_mock
summary
