#!/bin/bash
# Bounded memory (issue #14; docs/design.md, "Bounded memory") on a real
# seglogd: 64 native clients pipeline 60 KB records -- each needs a full
# read buffer -- and 8 syslog stream clients send 30 KB lines, against a
# memory_budget of memory_limit plus two full read buffers, the least
# cfg_validate() takes.  Every record is acknowledged (stream: durable),
# stored once, intact and in order (loadverify); the connections had to wait
# for memory (so the rule was exercised); the pool never lent past its
# limit; the daemon's peak RSS is within the bound docs/design.md computes
# from this configuration; all in bounded time (a deadlock would hit the
# timeout).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

LOADGEN=${top_builddir:-.}/bench/loadgen
LOADVERIFY=${top_builddir:-.}/bench/loadverify
[ -x "$LOADGEN" ] && [ -x "$LOADVERIFY" ] || fail "bench/loadgen or bench/loadverify is not built"

K=64 M=12 SIZE=60000 KS=8 MS=40 SSIZE=30000
MAX_CLIENTS=100 CLIENT_BUFFER_K=128 MEMORY_LIMIT_K=2048
BUDGET_K=$((MEMORY_LIMIT_K + 2 * CLIENT_BUFFER_K))
w=$(test_tmpdir)
cat >"$w/conf" <<CONF
[storage]
memory_limit = ${MEMORY_LIMIT_K}K
[server]
max_clients = $MAX_CLIENTS
client_buffer = ${CLIENT_BUFFER_K}K
memory_budget = ${BUDGET_K}K
CONF
# docs/design.md: 6 MiB + 16 x (max_record + 4 KiB) + batch_max + 4 x max_record + 4 KiB
#                 + memory_budget + max_clients x 6 KiB (max_record 64K, batch_max 1M)
BOUND_KB=$((6 * 1024 + 16 * 68 + 1024 + 260 + BUDGET_K + 16 + MAX_CLIENTS * 6))
start_daemon "$w" -c "$w/conf" --syslog-stream "$w/stream" || fail "daemon did not start"
pid=$DAEMON_PID

# field KEY LINE: the value of KEY=VALUE in a result line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
status() { "$SEGLOG" -s "$w/sock" status -o json | jq -r ".$1"; }

timeout 120 "$LOADGEN" -q -s "$w/stream" -m stream --status-socket "$w/sock" -t lgs -c $KS \
	-n $MS -b $SSIZE >"$w/stream.out" 2>"$w/stream.err" &
spid=$!
out=$(timeout 120 "$LOADGEN" -q -s "$w/sock" -t lgn -c $K -n $M -b $SIZE 2>"$w/native.err")
check_eq "native: loadgen exits 0 within 120 s (no deadlock)" "$?" 0
check_eq "  ... every record acknowledged" "$(field acked "$out")" $((K * M))
check_eq "  ... none refused" "$(field refused "$out")" 0
wait $spid
check_eq "stream: loadgen exits 0 within 120 s" "$?" 0
# (its "stored" counts the daemon's durable seq, the native records too)
check "  ... every line durable" test "$(field stored "$(cat "$w/stream.out")")" -ge $((KS * MS))
trace "native: $out"
trace "memory: $("$SEGLOG" -s "$w/sock" status | grep -E '^(memory_|buffer_)' | tr -s ' \n' ' ;')"
check "connections waited for memory (buffer_waits $(status buffer_waits) > 0)" \
	test "$(status buffer_waits)" -gt 0
peak=$(status buffer_peak) limit=$(status buffer_limit)
check "the pool never lent past its limit (buffer_peak $peak <= $limit)" test "$peak" -le "$limit"
check_eq "memory_budget is the configured one" "$(status memory_budget)" $((BUDGET_K * 1024))
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
if ldd "$SEGLOGD" 2>/dev/null | grep -q libasan; then
	trace "ASan build: peak RSS $hwm KiB not checked"
else
	check "peak RSS ($hwm KiB) within the bound from the configuration ($BOUND_KB KiB)" \
		test "$hwm" -le "$BOUND_KB"
fi
stop_daemon
check_eq "seglogd exits 0" "$?" 0
"$SEGLOG" -d "$w/data" cat -t lgn >"$w/native.cat"
check_eq "native: loadverify on seglog cat" \
	"$("$LOADVERIFY" -k $K -m $M --ordered "$w/native.cat")" \
	"$K clients, $M records each: 0 lost, 0 duplicated, 0 corrupt, 0 out of order"
"$SEGLOG" -d "$w/data" cat -t lgs >"$w/stream.cat"
check_eq "stream: loadverify on seglog cat" \
	"$("$LOADVERIFY" -k $KS -m $MS --ordered "$w/stream.cat")" \
	"$KS clients, $MS records each: 0 lost, 0 duplicated, 0 corrupt, 0 out of order"
summary
