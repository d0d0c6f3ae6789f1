# Helpers for the seglog ship tests (sourced after tests/lib.sh): a mock
# Kafka cluster with fault commands, the shipper, and the consumer-side
# check (kcat -J, dedup on (host, dir_id, seq)).

command -v kcat >/dev/null 2>&1 || skip "kcat is not installed (apt-get install kcat)"
MOCKCLUSTER=${top_builddir:-.}/tests/kafka/mockcluster
[ -x "$MOCKCLUSTER" ] || skip "tests/kafka/mockcluster was not built"

# The shipper: `seglog -d DIR ship OPTIONS`.
SHIP_BIN=$SEGLOG

# start_mock WORKDIR NBROKERS TOPIC[:PARTITIONS]...: sets MOCK_PID, BROKERS;
# commands go through mock_cmd.
start_mock() {
	local w=$1 n=$2 i; shift 2
	local targs=()
	for i in "$@"; do targs+=(-t "$i"); done
	rm -f "$w/mock.in"; mkfifo "$w/mock.in"
	"$MOCKCLUSTER" -b "$n" "${targs[@]}" <"$w/mock.in" >"$w/mock.out" 2>"$w/mock.err" &
	MOCK_PID=$!
	exec {MOCK_FD}>"$w/mock.in"
	for i in $(seq 1 100); do
		[ -s "$w/mock.out" ] && break
		sleep 0.05
	done
	BROKERS=$(head -n1 "$w/mock.out")
	MOCK_OUT=$w/mock.out
	[ -n "$BROKERS" ]
}

# mock_cmd COMMAND...: sends one fault command and waits for its answer.
mock_cmd() {
	local n0 i
	n0=$(wc -l <"$MOCK_OUT")
	echo "$*" >&"$MOCK_FD"
	for i in $(seq 1 100); do
		[ "$(wc -l <"$MOCK_OUT")" -gt "$n0" ] && break
		sleep 0.02
	done
	[ "$(tail -n1 "$MOCK_OUT")" = ok ]
}

stop_mock() {
	kill -TERM "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID" 2>/dev/null
	exec {MOCK_FD}>&-
}

# start_ship WORKDIR DATADIR HOSTID TOPIC [options...]: the shipper in the
# background, log in WORKDIR/ship-HOSTID.log; sets SHIP_PID.
start_ship() {
	local w=$1 d=$2 h=$3 t=$4; shift 4
	"$SHIP_BIN" -d "$d" ship --brokers "$BROKERS" --topic "$t" --cursor-file "$w/cursor-$h" \
		--host-id "$h" "$@" >>"$w/ship-$h.log" 2>&1 &
	SHIP_PID=$!
}

# cursor_seq FILE: the seq a cursor file holds (0 if none).
cursor_seq() {
	local s
	s=$(awk '{print $4}' "$1" 2>/dev/null)
	echo "${s:-0}"
}

# last_seq WORKDIR: the newest seq in the daemon's data directory.
last_seq() {
	records "$1" | tail -n1 | awk '{print $2}'
}

# wait_cursor FILE SEQ [SECONDS]: until the shipper confirmed SEQ.
wait_cursor() {
	local i n=$((${3:-60} * 20))
	for i in $(seq 1 "$n"); do
		[ "$(cursor_seq "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# cursor $1 at $(cursor_seq "$1"), wanted $2"
	return 1
}

# consume TOPIC OUT: everything in the topic, as kcat -J lines.
consume() {
	timeout 60 kcat -C -b "$BROKERS" -t "$1" -e -J -q >"$2" 2>"$2.err"
}

# sent_set WORKDIR HOST: "HOST DIRID SEQ" for every record in the daemon's
# directory (the set that must arrive).
sent_set() {
	local id
	id=$(cat "$1/data/dir-id")
	records "$1" | awk -v h="$2" -v id="$id" '{print h, id, $2}'
}

# check_consumed CONSUMED EXPECTED [any-order]: the consumer's view, after
# dedup on (host, dir_id, seq), equals EXPECTED exactly; per host the first
# occurrences come in seq order (unless any-order); key, headers and
# payload agree, and the Kafka timestamp is the record's time.  Prints a
# summary line; fails with the first problems.
check_consumed() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import datetime, json, sys
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = set(tuple(l.split()) for l in open(sys.argv[2]) if l.strip())
seen, order, bad, dups = set(), {}, [], 0
for m in msgs:
    h = m.get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    if set(hd) != {"host", "dir_id", "seq"}:
        bad.append("headers %r" % h); continue
    p = json.loads(m["payload"])
    if str(p["seq"]) != hd["seq"] or m["key"] != hd["host"]:
        bad.append("payload/key disagree with headers: %r" % m); continue
    # the Kafka timestamp is the record's receive time, in ms
    t = datetime.datetime.fromisoformat(p["time"].replace("Z", "+00:00"))
    if m.get("ts") != (t - epoch) // datetime.timedelta(milliseconds=1):
        bad.append("timestamp %r is not the record's time %s" % (m.get("ts"), p["time"])); continue
    ident = (hd["host"], hd["dir_id"], hd["seq"])
    if ident in seen:
        dups += 1; continue
    seen.add(ident)
    k = (hd["host"], hd["dir_id"], m["partition"])
    s = int(hd["seq"])
    if s <= order.get(k, 0) and sys.argv[3] != "any-order":
        bad.append("out of order: %s after %d" % (ident, order[k]))
    order[k] = s
missing, extra = want - seen, seen - want
print("# consumed %d messages, %d after dedup (%d duplicates), expected %d: "
      "%d missing, %d unexpected, %d bad" % (len(msgs), len(seen), dups, len(want),
      len(missing), len(extra), len(bad)))
for x in bad[:5]: print("#   bad:", x)
for x in sorted(missing, key=lambda t: int(t[2]))[:5]: print("#   missing:", x)
for x in sorted(extra)[:5]: print("#   unexpected:", x)
sys.exit(1 if bad or missing or extra else 0)
PY
}
