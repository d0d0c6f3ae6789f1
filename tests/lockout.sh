#!/bin/bash
# Fair connection limits (issue 10, finding 5): one unprivileged uid that
# opens 1,100 connections, says HELLO on each and then nothing, must not
# lock root out -- `seglog send` and `seglog status` work 10 of 10 times --
# and the clients it refuses hear why: ERROR(0, too-many-clients) naming
# the limit, and `seglog` exits 75 (refused), not 69 (not running).  Then
# the reserved slots: with the general slots full, root and socket_group's
# members still get in, others are refused saying so.  Needs root (to run
# the attacker as nobody); skipped otherwise.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree

[ "$(id -u)" = 0 ] || skip "needs root to run clients as nobody"
command -v setpriv > /dev/null || skip "setpriv (util-linux) is needed"
command -v jq > /dev/null || skip "jq is needed"
ulimit -n 8192 2>/dev/null || skip "cannot raise RLIMIT_NOFILE to 8192"
NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"; }
H=${top_srcdir:-.}/tests/hostile

# hold SOCK N OUT: as nobody, N connections that say HELLO and then
# nothing, held until release; waits until the daemon answered each one and
# the counts are in OUT.  Sets HOLD_PID.
hold() {
	local i
	mkfifo "$3.fifo"
	python3 "$H/attack.py" "$1" hold "$2" $NOBODY < "$3.fifo" > "$3" &
	HOLD_PID=$!
	exec {HOLD_FD}> "$3.fifo"
	for i in $(seq 1 1200); do
		[ -s "$3" ] && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
release() {
	exec {HOLD_FD}>&-
	wait "$HOLD_PID"
}

# ten SOCK AS... : runs `seglog send` and `seglog status` 10 times each (as
# the command prefix AS, if given) and prints "SEND_EXITS STATUS_EXITS"
# (each the sorted unique exit statuses); stderr goes to ten.err beside SOCK.
ten() {
	local sock=$1 k s=() t=()
	local err=${sock%/*}/ten.err
	shift
	: > "$err"
	for k in $(seq 1 10); do
		"$@" "$SEGLOG" -s "$sock" send -t lockout "try $k" 2>> "$err"
		s+=($?)
		"$@" "$SEGLOG" -s "$sock" status > /dev/null 2>> "$err"
		t+=($?)
	done
	echo "$(printf '%s\n' "${s[@]}" | sort -u | tr '\n' ,) $(printf '%s\n' "${t[@]}" | sort -u | tr '\n' ,)"
}

# --- defaults: max_clients 1024, max_clients_per_uid 256 -----------------------
w=$(test_tmpdir)
chmod 711 "$w" # nobody reaches the socket (mode 0666 by default)
start_daemon "$w" || fail "daemon did not start"
hold "$w/sock" 1100 "$w/hold.json" || fail "the 1,100 connections of nobody did not settle"
trace "nobody: $(cat "$w/hold.json")"
check_eq "nobody's 1,100 connections: 256 admitted (max_clients_per_uid)" \
	"$(jq .hello_ok "$w/hold.json")" 256
check_eq "  ... the other 844 refused with ERROR(0, too-many-clients)" \
	"$(jq .refused "$w/hold.json")" 844
check_eq "  ... saying which limit" \
	"$(jq -r '.errors | keys[]' "$w/hold.json")" \
	"too many connections from uid $NOBODY (max_clients_per_uid = 256)"
check_eq "root: seglog send and seglog status exit 0, 10 of 10 times" "$(ten "$w/sock")" "0, 0,"
check_eq "  ... all 10 records stored" "$(records "$w" | awk '$7 == "lockout"' | wc -l)" 10
check_eq "nobody's own seglog send / status: exit 75 (refused), 10 of 10 times" \
	"$(ten "$w/sock" as_nobody)" "75, 75,"
check_eq "  ... each time with one line naming the socket, the code and the limit" \
	"$(grep -c "^seglog: the daemon at $w/sock refused the connection: too-many-clients: too many connections from uid $NOBODY (max_clients_per_uid = 256)\$" "$w/ten.err")" 20
check_eq "  ... and nothing else on stderr" "$(wc -l < "$w/ten.err")" 20
status=$("$SEGLOG" -s "$w/sock" status -o json)
check_eq "status: 257 clients (its own too), rejected_clients counts every refusal" \
	"$(echo "$status" | jq -c '[.clients, .rejected_clients]')" "[257,864]"
release
check_eq "the holder ends cleanly" "$?" 0
"$SEGLOG" -s "$w/sock" send "after the release" 2>/dev/null
check_eq "after the release, nobody's slots are free again (send: exit 0)" "$?" 0
as_nobody "$SEGLOG" -s "$w/sock" send -t lockout-nobody "nobody after the release"
check_eq "  ... nobody too" "$?" 0
stop_daemon
check_eq "seglogd exits 0" "$?" 0

# --- the reserved slots ---------------------------------------------------------
w2=$(test_tmpdir)
chmod 711 "$w2"
ADM=$(getent group adm | cut -d: -f3)
[ -n "$ADM" ] || fail "no group adm"
cat > "$w2/conf" <<CONF
[server]
max_clients = 40
max_clients_per_uid = 0
reserved_clients = 8
socket_group = adm
CONF
start_daemon "$w2" -c "$w2/conf" || fail "daemon 2 did not start"
check_eq "socket_group = adm: the socket's group is adm" "$(stat -c %G "$w2/sock")" adm
hold "$w2/sock" 40 "$w2/hold.json" || fail "the 40 connections of nobody did not settle"
trace "nobody: $(cat "$w2/hold.json")"
check_eq "max_clients 40, reserved_clients 8: nobody gets 32 slots" \
	"$(jq .hello_ok "$w2/hold.json")" 32
check_eq "  ... and is refused 8 times, saying the rest are reserved" \
	"$(jq -c '.errors' "$w2/hold.json")" \
	'{"too many clients (the last 8 of max_clients = 40 are reserved for root and socket_group)":8}'
check_eq "root still gets in: send and status exit 0, 10 of 10 times" "$(ten "$w2/sock")" "0, 0,"
as_adm() { setpriv --reuid=$NOBODY --regid=$NOBODY --groups="$ADM" "$@"; }
check_eq "a member of adm (uid nobody, supplementary group) gets in, 10 of 10 times" \
	"$(ten "$w2/sock" as_adm)" "0, 0,"
check_eq "nobody without the group: exit 75, 10 of 10 times" "$(ten "$w2/sock" as_nobody)" "75, 75,"
check "  ... told that the last slots are reserved" \
	grep -q "refused the connection: too-many-clients: too many clients (the last 8 of max_clients = 40 are reserved" "$w2/ten.err"
release
stop_daemon
check_eq "seglogd exits 0" "$?" 0

# --- a daemon that is not there is another exit status ---------------------------
"$SEGLOG" -s "$w2/sock" send x 2>"$w2/err"
check_eq "no daemon: seglog send exits 69, not 75" "$?" 69
check "  ... saying it cannot connect" grep -q "cannot connect to $w2/sock" "$w2/err"
summary
