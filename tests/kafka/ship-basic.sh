#!/bin/bash
# seglog ship against librdkafka's mock cluster, consumed with kcat:
#  1. one broker: every record, in seq order, with key and headers host,
#     dir_id, seq and the -o json payload; records sent while it follows;
#     SIGTERM exits 0 with the cursor at the last seq; --once ships what
#     was sent meanwhile and exits by itself;
#  2. three brokers, a 4-partition topic, two daemons (two host ids)
#     shipping into it at once: both complete, nothing lost or extra.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"

w=$(test_tmpdir)

# --- 1. one broker ---------------------------------------------------------------
start_mock "$w" 1 logs:1 || fail "mock cluster did not start: $(cat "$w/mock.err")"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd did not start"
seq 1 3000 | sed 's/^/first batch, record /' | "$SEGLOG" -s "$w/a/sock" send -t basic ||
	fail "send failed"
printf 'tab\there\nquote " and \\ backslash\nutf-8 \xc3\xa9t\xc3\xa9\n' |
	"$SEGLOG" -s "$w/a/sock" send -t odd || fail "send failed"
start_ship "$w" "$w/a/data" hostA logs
check "the shipper catches up" wait_cursor "$w/cursor-hostA" "$(last_seq "$w/a")" 60
seq 1 2000 | sed 's/^/while following, record /' | "$SEGLOG" -s "$w/a/sock" send -t basic ||
	fail "send failed"
check "records sent while it follows arrive" wait_cursor "$w/cursor-hostA" "$(last_seq "$w/a")" 60
kill -TERM "$SHIP_PID"
wait "$SHIP_PID"
check_eq "SIGTERM: exit status" "$?" 0
check_eq "the cursor holds the last seq" "$(cursor_seq "$w/cursor-hostA")" "$(last_seq "$w/a")"
seq 1 1500 | sed 's/^/for --once, record /' | "$SEGLOG" -s "$w/a/sock" send -t once ||
	fail "send failed"
timeout 60 "$SHIP_BIN" -d "$w/a/data" ship --brokers "$BROKERS" --topic logs \
	--cursor-file "$w/cursor-hostA" --host-id hostA --once >>"$w/ship-hostA.log" 2>&1
check_eq "--once: ships what is durable and exits by itself, status" "$?" 0
check_eq "--once: the cursor holds the last seq" "$(cursor_seq "$w/cursor-hostA")" "$(last_seq "$w/a")"
timeout 60 "$SHIP_BIN" -d "$w/a/data" ship --brokers "$BROKERS" --topic logs \
	--cursor-file "$w/cursor-hostA" --host-id hostA --once >>"$w/ship-hostA.log" 2>&1
check_eq "--once with nothing new: exit status" "$?" 0
consume logs "$w/c1.json"
sent_set "$w/a" hostA >"$w/want1"
check "every record once, in order, with its headers" check_consumed "$w/c1.json" "$w/want1"
dups=$(python3 -c 'import sys; print(sum(1 for l in open(sys.argv[1]) if l.strip()))' "$w/c1.json")
check_eq "no duplicates without a crash" "$dups" "$(wc -l <"$w/want1")"
check "the payload is the -o json record" python3 - "$w/c1.json" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    p = json.loads(json.loads(l)["payload"])
    if p["message"] == "utf-8 \u00e9t\u00e9" and p["tag"] == "odd":
        sys.exit(0)
sys.exit(1)
PY

# --- the configuration: FILE, then FILE.d/*.conf, a later key wins (as seglogd)
mkdir -p "$w/conf.d"
printf '[storage]\ndir = %s\n[ship]\nbrokers = %s\ntopic = wrong\nhost_id = hostA\ncursor_file = %s\n' \
	"$w/a/data" "$BROKERS" "$w/cursor-wrong" >"$w/conf"
printf '[ship]\ntopic = fromdropin\ncursor_file = %s\n' "$w/cursor-conf" >"$w/conf.d/50-ship.conf"
timeout 60 "$SHIP_BIN" ship -c "$w/conf" --once >>"$w/ship-conf.log" 2>&1
check_eq "-c FILE with a drop-in: --once exit status" "$?" 0
check_eq "the drop-in's cursor_file holds the last seq" "$(cursor_seq "$w/cursor-conf")" "$(last_seq "$w/a")"
check "the file's own cursor_file was not used" test ! -e "$w/cursor-wrong"
consume fromdropin "$w/c3.json"
check_eq "the drop-in's topic got every record" "$(grep -c . "$w/c3.json")" "$(records "$w/a" | wc -l)"
printf '[ship]\ntopic\n' >"$w/conf.d/60-bad.conf"
timeout 60 "$SHIP_BIN" ship -c "$w/conf" --once >"$w/ship-bad.out" 2>&1
check_eq "a broken drop-in: exit status 2" "$?" 2
check "... and the message names the file and line" grep -q "conf.d/60-bad.conf: line 2" "$w/ship-bad.out"
"$SHIP_BIN" -d "$w/a/data" ship --brokers "$BROKERS" --topic logs \
	--cursor-file "$w/no/such/dir/cursor" --once >"$w/ship-nodir.out" 2>&1
check_eq "a cursor file in a missing directory: exit status 2" "$?" 2
check "... and the message names it and what to do" \
	grep -q "no/such/dir/cursor: No such file or directory: create its directory" "$w/ship-nodir.out"
stop_daemon
stop_mock

# --- 2. three brokers, two hosts into one topic -------------------------------
start_mock "$w" 3 shared:4 || fail "3-broker mock cluster did not start"
for h in b c; do
	mkdir -p "$w/$h"
	start_daemon "$w/$h" || fail "seglogd $h did not start"
	eval "pid_$h=\$DAEMON_PID"
	start_ship "$w" "$w/$h/data" "host-$h" shared
	eval "ship_$h=\$SHIP_PID"
done
senders=()
for h in b c; do
	(seq 1 4000 | sed "s/^/host $h record /" | "$SEGLOG" -s "$w/$h/sock" send -t two) &
	senders+=($!)
done
for p in "${senders[@]}"; do wait "$p" || not_ok "send failed"; done
for h in b c; do
	check "host-$h completes" wait_cursor "$w/cursor-host-$h" "$(last_seq "$w/$h")" 60
	sent_set "$w/$h" "host-$h" >>"$w/want2"
done
for h in b c; do eval "kill -TERM \$ship_$h; wait \$ship_$h"; done
consume shared "$w/c2.json"
check "both hosts' records, once each, in order per host" check_consumed "$w/c2.json" "$w/want2"
for h in b c; do eval "kill -TERM \$pid_$h; wait \$pid_$h"; done
stop_mock
summary
