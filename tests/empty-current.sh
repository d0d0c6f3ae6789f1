#!/bin/bash
# An empty current (what `: > current` or logrotate's copytruncate leaves;
# issue 10, finding 7) no longer stops seglogd from starting: it rebuilds
# the header after the newest sealed segment and the durable watermark (a
# seq that readers may have seen is never handed out again), keeps the
# empty file in quarantine/, and says so.  A current whose header is
# damaged still refuses, with a message that says what to do -- and doing
# it works.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
d=$w/data
seq_of_last() { records "$w" | tail -n1 | awk '{print $2}'; }

start_daemon "$w" || fail "daemon did not start"
$PROTO_CLIENT "$w/sock" send 500 --id a > /dev/null
kill -USR1 "$DAEMON_PID"
for i in $(seq 1 100); do ls "$d" | grep -qE '^[0-9]{20}\.log$' && break; sleep 0.05; done
$PROTO_CLIENT "$w/sock" send 300 --id b > /dev/null
last=$(seq_of_last)
check_eq "800 records written" "$last" 800
stop_daemon

# --- : > current ---------------------------------------------------------------
: > "$d/current"
start_daemon "$w" || fail "the daemon did not start with an empty current"
ok "the daemon starts with an empty current"
check "  ... and says so" grep -q "current was empty" "$w/seglogd.log"
check "  ... the empty file is kept in quarantine/" \
	bash -c "ls '$d/quarantine' | grep -q -- '-current.empty\$'"
out=$($PROTO_CLIENT "$w/sock" send 10 --id c)
check_eq "  ... new records are acknowledged" "$(echo "$out" | jq -r .acked_recno)" 10
check_eq "  ... their seqs follow the last durable one (no seq handed out twice)" \
	"$(echo "$out" | jq -r .last_seq)" $((last + 10))
stop_daemon
check_eq "  ... exit 0" "$?" 0

# --- a damaged header refuses, and the message says what to do ---------------
printf 'garbage that is not a header\n' > "$d/current"
"$SEGLOGD" --dir "$d" --socket "$w/sock" > "$w/refused.log" 2>&1
check_eq "a damaged header stops the start (exit 1)" "$?" 1
check "  ... the message says to move it aside" grep -q "mv $d/current $d/quarantine/current.damaged" \
	"$w/refused.log"
cmd=$(grep -o "mkdir -p [^)]*current.damaged" "$w/refused.log")
check "  ... doing what it says works" bash -c "$cmd"
start_daemon "$w" || fail "no start after moving the damaged current aside"
out=$($PROTO_CLIENT "$w/sock" send 5 --id e)
check_eq "  ... and the seqs still go on" "$(echo "$out" | jq -r .last_seq)" $((last + 15))
stop_daemon
check_eq "  ... exit 0" "$?" 0
summary
