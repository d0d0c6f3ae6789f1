#!/bin/bash
# seglogd and real syslog clients: util-linux logger over the datagram
# socket (RFC 3164 and RFC 5424) and the stream socket (octet counting and
# newline framing), python's SysLogHandler; trusted credentials; claimed
# PIDs kept as claims; rate limiting with a "suppressed" record.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v logger >/dev/null || skip "logger (bsdutils) not installed"

w=$(test_tmpdir)
printf '[server]\nrate_limit_burst = 1000\nrate_limit_interval = 2s\n' > "$w/conf"
start_daemon "$w" -c "$w/conf" --syslog-dgram "$w/dgram" --syslog-stream "$w/stream" ||
	fail "daemon did not start"
wait_for_socket "$w/stream"

field() { # field N of the record whose message contains $1
	records "$w" | grep -- "$1" | tail -n1 | awk -v n="$2" '{print $n}'
}

logger -u "$w/dgram" -d --rfc3164 -t mytag -p local3.warning "hello rfc3164 $$"
logger -u "$w/dgram" -d --rfc5424 -t app5424 -p daemon.err "hello rfc5424 $$"
logger -u "$w/stream" -T --octet-count --rfc5424 -t octet -p user.notice "hello octet $$"
logger -u "$w/stream" -T --rfc3164 -t lf -p mail.info "hello lf $$"
python3 - "$w/dgram" <<'PY'
import logging, logging.handlers, sys
h = logging.handlers.SysLogHandler(address=sys.argv[1], facility="local7")
log = logging.getLogger("py"); log.addHandler(h); log.setLevel(logging.DEBUG)
log.error("hello python handler")
PY
# a client claiming another PID in the message: the claim is kept apart
printf '<13>Nov 24 10:00:00 liar[1]: hello spoofed pid' |
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.stdin.buffer.read(), sys.argv[1])' "$w/dgram"
# the last line of a newline-framed stream needs no LF: the end of stream
# ends it (rsyslog, syslog-ng and journald store it too); an octet-counted
# frame cut short by the end of stream is incomplete and is not stored
python3 - "$w/stream" "$$" <<'PY'
import socket, sys
for data in (b"<13>Nov 24 10:00:00 eof: hello unterminated %s" % sys.argv[2].encode(),
             b"<13>Nov 24 10:00:00 eof: first %s\n\0\n<13>eof: second unterminated %s" % (
                 sys.argv[2].encode(), sys.argv[2].encode()),
             b"60 <13>Nov 24 10:00:00 eof: cut short %s" % sys.argv[2].encode()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); s.sendall(data); s.close()
PY
sleep 0.5

check_eq "rfc3164 facility.severity" "$(field "hello rfc3164 $$" 3)" local3.warning
check_eq "rfc3164 tag" "$(field "hello rfc3164 $$" 7)" mytag
check_eq "rfc3164 trusted uid" "$(field "hello rfc3164 $$" 5)" "$(id -u)"
check_eq "rfc5424 facility.severity" "$(field "hello rfc5424 $$" 3)" daemon.err
check_eq "rfc5424 tag (APP-NAME)" "$(field "hello rfc5424 $$" 7)" app5424
check_eq "octet-counted stream" "$(field "hello octet $$" 3)" user.notice
check_eq "octet-counted stream tag" "$(field "hello octet $$" 7)" octet
check_eq "newline-framed stream" "$(field "hello lf $$" 3)" mail.info
check_eq "a stream's last line without LF is stored" "$(field "hello unterminated $$" 7)" eof
check_eq "  ... and the lines before it" "$(field "first $$" 7)" eof
check_eq "  ... and once" "$(records "$w" | grep -c "second unterminated $$")" 1
check_eq "an octet frame cut short is not stored" "$(records "$w" | grep -c "cut short $$")" 0
check "  ... and the daemon says so, naming the sender's pid" \
	grep -q "pid [0-9]* ended inside an incomplete octet-counted frame" "$w/seglogd.log"
check_eq "python SysLogHandler" "$(field "hello python handler" 3)" local7.err
check_eq "spoofed pid kept as a claim only" "$(field "hello spoofed pid" 8)" 1
pid=$(field "hello spoofed pid" 4)
check "  ... while the trusted pid is the sender's, not 1" test "$pid" != 1 -a "$pid" -gt 1
check "the message text is found by plain grep" grep -q "hello rfc3164 $$" "$w/data/current"

# rate limit: 3000 datagrams from one uid in a 2 s window with burst 1000
python3 - "$w/dgram" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(b"<14>flood %d" % i, sys.argv[1])
PY
sleep 3.5
check "a 'suppressed N messages from uid U' record is written" \
	bash -c "grep -q 'suppressed [0-9]* messages from uid $(id -u)' '$w/data/current'"
# datagrams read in batches (recvmmsg): descriptors a sender passes along
# (SCM_RIGHTS) are closed, not kept; a batch of 40 with 3 each
fds0=$(ls /proc/"$DAEMON_PID"/fd | wc -l)
python3 - "$w/dgram" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
for i in range(40):
    socket.send_fds(s, [b"<13>fdpass: carrying descriptors %d" % i], fds)
PY
for i in $(seq 1 100); do
	[ "$(records "$w" | grep -c 'carrying descriptors')" -ge 40 ] && break
	sleep 0.05
done
check_eq "40 datagrams with descriptors: all stored" \
	"$(records "$w" | grep -c 'carrying descriptors')" 40
check_eq "... and the daemon holds none of the 120 descriptors" \
	"$(ls /proc/"$DAEMON_PID"/fd | wc -l)" "$fds0"
n=$(grep -c ' flood ' "$w/data/current")
check "the flood was limited to the burst ($n passed)" test "$n" -le 1000 -a "$n" -ge 900
stop_daemon
check_eq "exit 0" "$?" 0
summary
