#!/bin/bash
# seglog send and seglog status against a real seglogd: arguments and
# stdin, a million pipelined lines, --no-wait, -t/-p, lines over
# max_record, rate limits, a daemon that is missing, killed or stopped,
# usage errors, and status as text and JSON.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
start_daemon "$w" || fail "daemon did not start"
send() { "$SEGLOG" -s "$w/sock" send "$@"; }
# msgs WORKDIR TAG: the messages of the records with that tag, one a line.
# msgs_field WORKDIR TAG N: field N of the records with that tag
msgs_field() { records "$1" | awk -v t="$2" -v n="$3" '$7 == t {print $n}'; }
msgs() {
	records "$1" | awk -v t="$2" '$7 == t' | sed -E 's/^([^ ]* ){12}//; s/ [0-9a-f]{16}$//'
}

# seq_ok: reads record lines, checks that seqs are consecutive and that the
# messages "PREFIX-N ..." count up from 1; prints the number of records.
seq_ok() {
	awk '{ if (NR > 1 && $2 != prev + 1) { print "seq gap after " prev; exit 1 }
	       prev = $2; split($13, a, "-"); if (a[2] + 0 != NR) { print "line " NR " is " $13; exit 1 } }
	     END { print NR }'
}

# --- one message from the arguments ------------------------------------------
send "hello from" "the client test $$"
check_eq "a message from the arguments: exit 0" "$?" 0
check "  ... it is in current, the arguments joined by spaces" \
	grep -q "hello from the client test $$ " "$w/data/current"
check "  ... default tag is the user name, default priority user.notice" \
	bash -c "grep 'client test $$ ' '$w/data/current' | awk '{print \$3, \$7}' | grep -qx 'user.notice $(id -un)'"

# --- -t and -p ----------------------------------------------------------------
send -t mytag -p local3.warning "tag and priority $$"
check "-t and -p land as tag and facility.severity" \
	bash -c "grep 'tag and priority $$ ' '$w/data/current' | awk '{print \$3, \$7}' | grep -qx 'local3.warning mytag'"
send -t t2 -p err "level alone $$"
check "-p LEVEL alone means user.LEVEL" \
	bash -c "grep 'level alone $$ ' '$w/data/current' | awk '{print \$3}' | grep -qx 'user.err'"
send -t t3 -p 16.7 "numbers $$"
check "-p with numbers (16.7 is local0.debug)" \
	bash -c "grep 'numbers $$ ' '$w/data/current' | awk '{print \$3}' | grep -qx 'local0.debug'"
send -t t4 -p LOCAL1.Info "any case $$"
check "-p ignores case, as logger" \
	bash -c "grep 'any case $$ ' '$w/data/current' | awk '{print \$3}' | grep -qx 'local1.info'"
send -p kern.nosuch x 2>"$w/err"
check_eq "bad level in -p: exit 2" "$?" 2
check "  ... the message names the level" grep -q "nosuch" "$w/err"
send -p bogus.info x 2>"$w/err"
check_eq "bad facility in -p: exit 2" "$?" 2
send -p 24.1 x 2>/dev/null
check_eq "facility number out of range: exit 2" "$?" 2
send --bogus x 2>/dev/null
check_eq "unknown option: exit 2" "$?" 2
send --help | grep -q '^Usage: .*send'
check_eq "send --help prints the usage" "${PIPESTATUS[0]}${PIPESTATUS[1]}" 00

# --- -f FILE, -e, --id[=PID] as logger(1) has them ---------------------------
printf 'file one %s\n\n\nfile two %s\n\n' $$ $$ > "$w/in.txt"
send -t ftest -f "$w/in.txt"
check_eq "-f FILE: every line, empty ones too (exit 0)" \
	"$?/$(msgs "$w" ftest | tr '\n' '|')" "0/file one $$|||file two $$||"
send -t fskip -e -f "$w/in.txt"
check_eq "-e: empty lines skipped, exit 0" "$?/$(msgs "$w" fskip | tr '\n' '|')" \
	"0/file one $$|file two $$|"
printf 'a\n\n%s\n\nb\n' "$(head -c 70000 /dev/zero | tr '\0' x)" |
	send -t fskip2 -e 2> "$w/err"
check_eq "-e with an over-long line: exit 1" "$?" 1
check "  ... line numbers stay the input's (line 3 is the long one)" \
	grep -q "line 3 " "$w/err"
check "  ... and the summary counts records, not empty lines: 2 of 3" \
	grep -q "acknowledged 2 of 3 " "$w/err"
send -f "$w/missing.txt" 2> "$w/err"
check_eq "-f a missing file: exit 1" "$?" 1
check "  ... naming it" grep -q "cannot open $w/missing.txt: No such file" "$w/err"
send -f "$w/in.txt" "a message" 2> "$w/err"
check_eq "-f and a message: usage error (exit 2)" "$?" 2
send -t idtest --id=4242 "claimed $$"
check_eq "--id=PID: the claimed pid (CPID field)" "$(msgs_field "$w" idtest 8)" 4242
send -t idown --id "own $$"
own=$(msgs_field "$w" idown 8)
check "--id: seglog's own pid is claimed" test "$own" -gt 1
check_eq "  ... and the trusted pid is still the kernel's (the same process here)" \
	"$(msgs_field "$w" idown 4)" "$own"
send --id=12x "bad" 2> "$w/err"
check_eq "--id=12x: usage error (exit 2)" "$?" 2

# --- stdin: empty lines and a last line without newline ----------------------
printf 'first %s\n\nlast %s' $$ $$ | send -t emptytest
check_eq "stdin with an empty line and no final newline: exit 0" "$?" 0
check_eq "  ... three records, the middle one empty" \
	"$(msgs "$w" emptytest | tr '\n' '|')" "first $$||last $$|"

send -t nothing < /dev/null
check_eq "empty stdin: exit 0" "$?" 0
check_eq "  ... and no record" "$(msgs "$w" nothing | wc -l)" 0

# --- a million lines of 100 bytes, all acknowledged and present --------------
awk 'BEGIN { pad = sprintf("%80s", ""); gsub(/ /, "x", pad);
	     for (i = 1; i <= 1000000; i++) printf "m-%d %s\n", i, pad }' > "$w/million"
start=$(date +%s.%N)
send -t million < "$w/million"
rc=$?
end=$(date +%s.%N)
check_eq "1,000,000 stdin lines: exit 0 (every one acknowledged)" "$rc" 0
trace "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "1,000,000 lines acknowledged in %.2f s (%.0f lines/s)", e - s, 1e6 / (e - s) }')"
check_eq "  ... all present, in order, with consecutive seqs" \
	"$(records "$w" | awk '$7 == "million"' | seq_ok)" 1000000

# --- --no-wait ------------------------------------------------------------------
awk '{ if (NR <= 100000) print }' "$w/million" | send -t nowait --no-wait
check_eq "--no-wait: exit 0 once sent" "$?" 0
for i in $(seq 1 100); do
	[ "$(records "$w" | awk '$7 == "nowait"' | wc -l)" = 100000 ] && break
	sleep 0.1
done
check_eq "  ... the 100,000 records arrive, in order" \
	"$(records "$w" | awk '$7 == "nowait"' | seq_ok)" 100000

# --- a line longer than max_record (64K by default) ---------------------------
{ echo "short-1 $$"; echo "short-2 $$"; head -c 70000 /dev/zero | tr '\0' y; echo
  echo "short-4 $$"; printf 'short-5 %s' $$; } | send -t toolong 2>"$w/err"
check_eq "a line over max_record: exit 1" "$?" 1
check "  ... reported with its line number" grep -q "line 3 .*max_record" "$w/err"
check "  ... and in the summary: acknowledged 4 of 5" grep -q "acknowledged 4 of 5 .*(line 3)" "$w/err"
check_eq "  ... the other lines arrive" \
	"$(records "$w" | awk '$7 == "toolong" {print $13}' | tr '\n' ' ')" \
	"short-1 short-2 short-4 short-5 "
send -t toolong "$(head -c 70000 /dev/zero | tr '\0' z)" 2>"$w/err"
check_eq "a message argument over max_record: exit 1" "$?" 1
check "  ... says so" grep -q "the message (70000 bytes) is longer than max_record" "$w/err"

# --- status ---------------------------------------------------------------------
"$SEGLOG" -s "$w/sock" status > "$w/status"
check_eq "status: exit 0" "$?" 0
for key in version pid state records seq clients fsyncs; do
	check "  ... prints $key" grep -qE "^$key: +[^ ]" "$w/status"
done
check "  ... values aligned in one column" \
	bash -c "awk '{ match(\$0, /: +/); print RSTART + RLENGTH }' '$w/status' | sort -u | wc -l | grep -qx 1"
"$SEGLOG" -s "$w/sock" status -o json > "$w/status.json"
check "status -o json parses with python3 -m json.tool" \
	bash -c "python3 -m json.tool '$w/status.json' > /dev/null"
check "  ... numbers are numbers, words are strings" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["records"], int) and d["records"] >= 1100000, d["records"]
assert isinstance(d["pid"], int) and isinstance(d["state"], str)
assert isinstance(d["version"], str)' "$w/status.json"
"$SEGLOG" -s "$w/sock" status -o yaml 2>/dev/null
check_eq "status -o yaml: exit 2" "$?" 2
"$SEGLOG" -s "$w/sock" status --help | grep -q '^Usage: .*status'
check_eq "status --help prints the usage" "${PIPESTATUS[0]}${PIPESTATUS[1]}" 00

# --- no daemon ------------------------------------------------------------------
"$SEGLOG" -s "$w/nosuch.sock" send hello 2>"$w/err"
check_eq "daemon not running: exit 69" "$?" 69
check "  ... one line naming the socket" \
	bash -c "[ \$(wc -l < '$w/err') = 1 ] && grep -q 'cannot connect to $w/nosuch.sock' '$w/err'"
SEGLOG_SOCKET="$w/nosuch.sock" "$SEGLOG" status 2>"$w/err"
check_eq "status, daemon not running (SEGLOG_SOCKET): exit 69" "$?" 69
check "  ... names the socket" grep -q "$w/nosuch.sock" "$w/err"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$w/dead.sock"
"$SEGLOG" -s "$w/dead.sock" send hello 2>"$w/err"
check_eq "stale socket (ECONNREFUSED): exit 69" "$?" 69
check "  ... says how to fix it" grep -q "is seglogd running" "$w/err"

stop_daemon
check_eq "first daemon stops cleanly" "$?" 0

# --- rate limits and too-long lines: refused lines by number -------------------
w3=$(test_tmpdir)
printf '[server]\nmax_record = 1000\nrate_limit_burst = 5\nrate_limit_interval = 1h\n' > "$w3/conf"
start_daemon "$w3" -c "$w3/conf" --syslog-dgram "$w3/syslog.sock" || fail "daemon 3 did not start"
# first a syslog flood from the same uid: its own bucket (seglogd.conf(5)),
# so it does not use up the native records' limit (issue 10, finding 9)
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(b"<14>syslogflood: flood %d" % i, sys.argv[1])' "$w3/syslog.sock"
for i in $(seq 1 200); do
	[ "$($PROTO_CLIENT "$w3/sock" status | awk '$1 == "suppressed" {print $2}')" = 5 ] && break
	sleep 0.05
done
check_eq "a syslog flood of 10 messages: 5 stored, 5 suppressed (rate_limit_burst 5)" \
	"$(records "$w3" | grep -c 'syslogflood - - - - - flood') $($PROTO_CLIENT "$w3/sock" status | awk '$1 == "suppressed" {print $2}')" \
	"5 5"
{ echo r-1; head -c 1500 /dev/zero | tr '\0' y; echo; echo r-3; echo r-4; echo r-5; echo r-6
  echo r-7; echo r-8; } | "$SEGLOG" -s "$w3/sock" send -t rl 2>"$w3/err"
check_eq "rate-limited records: exit 1" "$?" 1
sed "s/^/# /" "$w3/err"
check "  ... summary names the lines (too long: 2, rate-limited: 7, 8): the syslog flood of the same uid took none of the native burst" \
	grep -q "acknowledged 5 of 8 .*1 longer than max_record (line 2), 2 rate-limited (lines 7, 8)" "$w3/err"
check_eq "  ... status: refused 2 (the long line was never sent), rate_limited 2, suppressed (syslog) 5" \
	"$($PROTO_CLIENT "$w3/sock" status | awk '$1 ~ /^(refused|rate_limited|suppressed)$/ {printf "%s ", $2}')" "2 2 5 "
stop_daemon

# --- the daemon is killed in the middle of a stream -----------------------------
w2=$(test_tmpdir)
start_daemon "$w2" || fail "daemon 2 did not start"
D2=$DAEMON_PID
( yes "killed mid-stream" | "$SEGLOG" -s "$w2/sock" send -t killed 2>"$w2/err"; echo $? > "$w2/rc" ) &
sender=$!
# in_flight N: waits until the daemon at $w2/sock has made seq N durable,
# and so acknowledged it: the ACK is in the client's socket before the daemon
# can be killed, and the client reads it even after the kill
in_flight() {
	local i
	for i in $(seq 1 1200); do
		[ "$("$SEGLOG" -s "$w2/sock" status 2>/dev/null | awk '$1 == "seq:" {print $2}')" -ge "$1" ] \
			2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
in_flight 1000 || not_ok "the stream to be killed did not start"
kill -9 "$D2"
wait "$D2" 2>/dev/null
wait "$sender"
sed "s/^/# /" "$w2/err"
check_eq "daemon killed mid-stream: exit 1" "$(cat "$w2/rc")" 1
check "  ... 'acknowledged N of M' and why" \
	grep -qE "acknowledged [0-9]+ of [0-9]+ records at $w2/sock: .*(lost|closed)" "$w2/err"
n=$(sed -nE 's/.*acknowledged ([0-9]+) of.*/\1/p' "$w2/err")
have=$(records "$w2" | awk '$7 == "killed"' | wc -l)
check "  ... every acknowledged record ($n) is on disk ($have)" test "${n:-0}" -gt 0 -a "$have" -ge "${n:-1}"

# --- the daemon is stopped (SIGTERM) while a writer streams ------------------
# The writer never pauses, so it is writing when the daemon shuts down its
# read side: its next write fails with EPIPE before the daemon has said
# anything.  The client must read what the daemon sends after that -- the
# last ACKs and ERROR(0, shutdown) -- before it reports (issue 10, finding
# 10: it used to report the broken pipe, now and then, in the sanitizer
# build; with a writer that never pauses, every time).
rm -f "$w2/sock" # stale: start_daemon waits for the socket file to appear
start_daemon "$w2" || fail "daemon 2 did not restart"
( yes "streaming" | "$SEGLOG" -s "$w2/sock" send -t stream 2>"$w2/err"; echo $? > "$w2/rc" ) &
sender=$!
in_flight "$(( $(records "$w2" | wc -l) + 1000 ))" || not_ok "the stream did not start"
stop_daemon
check_eq "SIGTERM during a stream: the daemon exits 0" "$?" 0
wait "$sender"
sed "s/^/# /" "$w2/err"
check_eq "  ... seglog send exits 1" "$(cat "$w2/rc")" 1
check "  ... saying the daemon shut down" grep -q "ended the connection (shutdown" "$w2/err"
check "  ... and not that the pipe broke" bash -c "! grep -q 'Broken pipe' '$w2/err'"
n=$(sed -nE 's/.*acknowledged ([0-9]+) of.*/\1/p' "$w2/err")
check_eq "  ... every acknowledged record is on disk" \
	"$(records "$w2" | awk '$7 == "stream"' | wc -l)" "${n:-x}"
summary
