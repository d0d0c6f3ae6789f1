#!/bin/bash
# [server] frame_timeout (docs/design.md, "Bounded memory"): a client that
# stops sending in the middle of a large frame holds a full read buffer of
# the connections' pool.  On its own that harms nobody and it is left
# alone; but while other connections wait for pool memory, one that has sent
# no byte for frame_timeout is closed (native: ERROR(0, stalled)), so a few
# stalled clients cannot keep large records out for ever.  The pool here is
# two full read buffers, the least cfg_validate() takes: two stalled native
# clients and two stalled syslog stream clients hold all of it.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
PY=python3
FT="$PY ${top_srcdir:-.}/tests/frame_timeout.py"

w=$(test_tmpdir)
cat >"$w/conf" <<CONF
[storage]
memory_limit = 2M
[server]
client_buffer = 128K
memory_budget = 2304K
frame_timeout = 2s
CONF
start_daemon "$w" -c "$w/conf" --syslog-stream "$w/stream" || fail "daemon did not start"
status() { "$SEGLOG" -s "$w/sock" status -o json | jq -r ".$1"; }

check_eq "alone: a client that pauses 3.5 s mid-record while nobody waits is acknowledged" \
	"$($FT alone "$w/sock" 3.5)" acked
check_eq "  ... and not counted as stalled" "$(status buffer_stalled)" 0

out=$($FT contend "$w/sock" "$w/stream")
trace "contend: $out"
ack_s=$(jq -r .ack_s <<<"$out")
check "a 60,000-byte record behind four stalled clients is acknowledged (after $ack_s s)" \
	test "$ack_s" != null
check "  ... no sooner than the stall reached frame_timeout (>= 1.4 s)" \
	awk -v t="$ack_s" 'BEGIN { exit !(t != "null" && t >= 1.4) }'
check "  ... within two rounds of frame_timeout and sweeps (the stream clients waited in front of it, then stalled)" \
	awk -v t="$ack_s" 'BEGIN { exit !(t != "null" && t <= 9.5) }'
for i in 0 1; do
	check_eq "stalled native client $i: ERROR(0, stalled) naming frame_timeout" \
		"$(jq -r ".stalled[$i] | if type == \"array\" then \"\(.[0]) \(.[1]) \(.[2] | test(\"frame_timeout\"))\" else . end" <<<"$out")" \
		"error 10 true"
	check_eq "stalled stream client $i: closed by the daemon" "$(jq -r ".stream_closed[$i]" <<<"$out")" true
done
check_eq "status: buffer_stalled counts the four" "$(status buffer_stalled)" 4
check "the daemon's log names the stalled stream connection and frame_timeout" \
	grep -q 'syslog stream of pid [0-9]*:.*frame_timeout' "$w/seglogd.log"
# the stream line that waited is stored (the daemon's durable seq covers it)
for _ in $(seq 1 100); do
	"$SEGLOG" -d "$w/data" cat -t ftwaitline 2>/dev/null | grep -q uuuu && break
	sleep 0.05
done
check "the 30,000-byte stream line that waited is stored whole" \
	test "$("$SEGLOG" -d "$w/data" cat -o raw -t ftwaitline | tr -cd u | wc -c)" -eq 30000
check_eq "nothing of the stalled clients' half frames was stored" \
	"$("$SEGLOG" -d "$w/data" cat -t ftstall -t ftstream | wc -l)" 0
stop_daemon
check_eq "seglogd exits 0" "$?" 0
summary
