#!/bin/bash
# bench/relay (the socket-to-pipe relay in front of s6-log and svlogd in
# bench/peers.sh) keeps lines whole: 8 loadgen clients write 64 KiB at a
# time, so most lines are split across reads, and what comes out of the
# relay must still be every line once, intact (loadverify), with the
# relay's own count on SIGTERM.  Needs no peer; quick.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

LOADGEN=${top_builddir:-.}/bench/loadgen
LOADVERIFY=${top_builddir:-.}/bench/loadverify
RELAY=${top_builddir:-.}/bench/relay
[ -x "$LOADGEN" ] && [ -x "$LOADVERIFY" ] && [ -x "$RELAY" ] ||
	fail "bench/loadgen, bench/loadverify or bench/relay is not built"

w=$(test_tmpdir)
"$RELAY" -s "$w/sock" >"$w/out" 2>"$w/err" &
pid=$!
DAEMON_PID=$pid	# wait_for_socket gives up when this process is gone
wait_for_socket "$w/sock" || fail "relay made no socket ($(cat "$w/err"))"
"$LOADGEN" -q -m stream -s "$w/sock" -c 8 -n 5000 >"$w/lg" 2>&1
check_eq "loadgen exits 0" "$?" 0
# the relay has written everything once its count stops growing
for _ in $(seq 1 500); do
	[ "$(grep -c 'lg C=' "$w/out")" -ge 40000 ] && break
	sleep 0.01
done
kill -TERM "$pid"
wait "$pid"
check_eq "relay exits 0 on SIGTERM" "$?" 0
check "relay reports 8 connections, 40000 lines: $(cat "$w/err")" \
	grep -q '^relay conns=8 lines=40000 bytes=[0-9]* user_s=[0-9.]* sys_s=[0-9.]*$' "$w/err"
"$LOADVERIFY" -k 8 -m 5000 "$w/out" >"$w/verify" 2>&1
check "every line once and intact: $(tail -n 1 "$w/verify")" \
	grep -q ': 0 lost, 0 duplicated, 0 corrupt$' "$w/verify"
check_eq "only loadgen's lines" "$(wc -l <"$w/out")" 40000

"$RELAY" >/dev/null 2>"$w/usage"
check_eq "no -s: exit 2" "$?" 2
check "no -s: says what is missing" grep -q -- '-s SOCK is required' "$w/usage"
summary
