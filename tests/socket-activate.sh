#!/bin/bash
# Descriptor passing for the system-logger role, outside any service
# manager: systemd-socket-activate hands seglogd a datagram socket named
# "syslog.socket", the name systemd gives the descriptor of syslog.socket
# (the socket journald forwards to with ForwardToSyslog=yes), alone and
# next to seglogd's own "syslog" socket.  As root, a datagram is also sent
# the way journald forwards one: with the original sender's credentials in
# SCM_CREDENTIALS, which seglogd must keep as the trusted pid/uid/gid.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate not installed"
command -v logger >/dev/null || skip "logger (bsdutils) not installed"

w=$(test_tmpdir)
field() { # field N of the last record whose message contains $1
	records "$w" | grep -F -- "$1" | tail -n1 | awk -v n="$2" '{print $n}'
}
wait_for() { # wait_for TEXT: until it is in a record (5 s)
	local i
	for i in $(seq 1 100); do
		records "$w" | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}
# activate NAMES PATH...: seglogd on datagram sockets at PATH..., named NAMES
activate() {
	local names=$1 a=() p
	shift
	for p in "$@"; do a+=(-l "$p"); done
	systemd-socket-activate --datagram "${a[@]}" --fdname="$names" \
		"$SEGLOGD" --dir "$w/data" --socket "$w/native.sock" >>"$w/sa.log" 2>&1 &
	DAEMON_PID=$!
	for p in "$@"; do wait_for_socket "$p" || return 1; done
	# systemd-socket-activate execs seglogd on the first datagram, which was
	# queued before seglogd set SO_PASSCRED and so carries no credentials
	# (syslog.socket has PassCredentials=yes from the start): send a wake-up
	logger -u "$1" -d -t wakeup "wake up"
	wait_ready "$w/sa.log" "$n_ready" || return 1
	n_ready=$((n_ready + 1))
}
n_ready=0
has() { records "$w" | grep -qF -- "$1"; }

# 1. syslog.socket alone: what seglogd gets as the host's syslog daemon
activate syslog.socket "$w/journal-syslog" || fail "systemd-socket-activate did not start"
logger -u "$w/journal-syslog" -d --rfc3164 -t fwdtest -p daemon.notice "forwarded one $$"
wait_for "forwarded one $$"
check_eq "a datagram on the passed \"syslog.socket\" is stored" \
	"$(field "forwarded one $$" 7)" fwdtest
check_eq "  ... with its facility.severity" "$(field "forwarded one $$" 3)" daemon.notice
check_eq "  ... and the sender's trusted uid" "$(field "forwarded one $$" 5)" "$(id -u)"
check "seglogd names the descriptor it uses" \
	grep -q "Using syslog.socket socket passed by systemd" "$w/sa.log"
check "no socket file of its own was bound for it" test ! -e "$w/data/syslog.socket"

# journald's forwarding: "<PRI>TIMESTAMP IDENTIFIER[PID]: MESSAGE", sent with
# the original process's credentials (journald may; so may root here)
if [ "$(id -u)" = 0 ]; then
	sleep 30 &
	victim=$!
	python3 - "$w/journal-syslog" "$victim" <<'PY'
import socket, struct, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
msg = time.strftime("<30>%b %d %H:%M:%S ").encode() + b"myunit[%d]: as journald forwards it" % pid
s.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("iII", pid, 4321, 4322))],
	0, path)
PY
	wait_for "as journald forwards it"
	check_eq "forwarded credentials: the original pid is the trusted pid" \
		"$(field "as journald forwards it" 4)" "$victim"
	check_eq "  ... uid and gid too" \
		"$(field "as journald forwards it" 5) $(field "as journald forwards it" 6)" "4321 4322"
	check_eq "  ... the IDENTIFIER is the tag, its [PID] the claimed pid" \
		"$(field "as journald forwards it" 7) $(field "as journald forwards it" 8)" \
		"myunit $victim"
	check_eq "  ... facility daemon, severity info (<30>)" \
		"$(field "as journald forwards it" 3)" daemon.info
	kill "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
fi
stop_daemon
check_eq "exit 0" "$?" 0

# 2. both at once: journald's forwards and seglogd's own syslog socket
activate syslog:syslog.socket "$w/own-syslog" "$w/journal2" || fail "no start with two sockets"
logger -u "$w/own-syslog" -d -t own "via the own socket $$"
logger -u "$w/journal2" -d -t fwd "via syslog.socket $$"
wait_for "via the own socket $$" && wait_for "via syslog.socket $$"
check "the \"syslog\" datagram socket works next to \"syslog.socket\"" has "via the own socket $$"
check "  ... and so does \"syslog.socket\"" has "via syslog.socket $$"
stop_daemon
check_eq "exit 0" "$?" 0

# 3. a stream socket under the name syslog.socket is refused, naming it
systemd-socket-activate -l "$w/wrong" --fdname=syslog.socket \
	"$SEGLOGD" --dir "$w/data" --socket "$w/n3.sock" >"$w/sa3.log" 2>&1 &
DAEMON_PID=$!
wait_for_socket "$w/wrong"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
	"$w/wrong" 2>/dev/null
wait "$DAEMON_PID"
check_eq "a stream socket passed as \"syslog.socket\" stops the start" "$?" 1
check "  ... with a message naming it" grep -q '"syslog.socket" is not a Unix datagram socket' \
	"$w/sa3.log"
summary
