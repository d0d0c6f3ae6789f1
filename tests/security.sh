#!/bin/bash
# Security (issue 7): modes of the data directory and its files, sealed
# segments read-only, symlinks planted in the data directory never
# followed, a directory writable by others refused, pid/uid/gid from the
# kernel whatever a client claims, and terminal escapes in messages never
# reaching a terminal (nor the raw files) unescaped.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree

H=${top_srcdir:-.}/tests/hostile
PY=python3
umask 022 # what most services run with
mode() { stat -c %a "$1"; }
sum() { sha256sum < "$1"; }
# the spoofing clients: as root they run as nobody (65534), switched to by
# setpriv before python starts, so the uid the kernel reports is not the
# daemon's; without root they would run as the daemon's own uid, which a
# daemon that stored its own uid would pass, so that part is skipped
if [ "$(id -u)" = 0 ]; then
	EXP_UID=65534 EXP_GID=65534
	AS_SPOOFER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	# a python that nobody may run (a pyenv shim under /root is not one)
	SPOOF_PY=
	for p in "$(command -v $PY)" /usr/bin/python3; do
		"${AS_SPOOFER[@]}" "$p" -c pass 2>/dev/null && { SPOOF_PY=$p; break; }
	done
	[ -n "$SPOOF_PY" ] || fail "no python3 that uid 65534 can run"
else
	EXP_UID=$(id -u) EXP_GID=$(id -g)
	AS_SPOOFER=() SPOOF_PY=$PY
fi
spoof() { "${AS_SPOOFER[@]}" "$SPOOF_PY" "$H/spoof.py" "$@"; }
# wait_log FILE PATTERN [TRIES]: waits (50 ms steps) for PATTERN in FILE
wait_log() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		grep -q "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}
sealed() { ls "$1" | grep -E '^[0-9]{20}\.log$'; }

# --- modes: defaults ---------------------------------------------------------
w=$(test_tmpdir)
chmod 711 "$w" # the spoofing clients (another uid) reach the sockets
start_daemon "$w" --syslog-dgram "$w/syslog.sock" --syslog-stream "$w/stream.sock" ||
	fail "daemon did not start"
$PROTO_CLIENT "$w/sock" send 5 --id before > /dev/null
check_eq "data directory created 0750 by default" "$(mode "$w/data")" 750
check_eq "current created 0640 by default" "$(mode "$w/data/current")" 640
check_eq "dir-id 0440 (file_mode without write)" "$(mode "$w/data/dir-id")" 440
check_eq "lock 0640" "$(mode "$w/data/lock")" 640
kill -USR1 "$DAEMON_PID"
wait_log "$w/seglogd.log" "Sealed .*00000000000000000001.log"
check_eq "SIGUSR1 sealed a segment" "$(sealed "$w/data")" 00000000000000000001.log
seg=$w/data/00000000000000000001.log
for i in $(seq 1 40); do [ -e "$w/data/current" ] && break; sleep 0.05; done
check_eq "the sealed segment is read-only, 0440" "$(mode "$seg")" 440
check_eq "the new current is 0640" "$(mode "$w/data/current")" 640
seg_sum=$(sum "$seg")

# --- spoofing: pid/uid/gid come from the kernel --------------------------------
# each client claims pid 1 (and the native one a time); the daemon runs as root
if [ ${#AS_SPOOFER[@]} = 0 ]; then
	echo "SKIP: uid spoofing needs root to switch users (the pid claims are still checked)"
fi
out=$(spoof native "$w/sock" -1 1 spoof-native)
spid=$(echo "$out" | jq .pid)
check_eq "native spoofer's record acknowledged" "$(echo "$out" | jq -c '.ack | length')" 2
if [ ${#AS_SPOOFER[@]} != 0 ]; then
	check_eq "native spoofer really ran as nobody (65534), not as the daemon's uid $(id -u)" \
		"$(echo "$out" | jq -r '"\(.uid) \(.gid)"')" "65534 65534"
fi
line=$(grep ' spoofer ' "$w/data/current")
check_eq "native: pid/uid/gid recorded are SO_PEERCRED's, the claimed pid kept as claim" \
	"$(echo "$line" | awk '{print $4, $5, $6, $8}')" "$spid $EXP_UID $EXP_GID 1"
check_eq "native: the claimed time is kept as claim, the record time is the daemon's" \
	"$(echo "$line" | awk '{print $9, ($1 != $9)}')" "2001-09-09T01:46:40.000000Z 1"
out=$(spoof syslog "$w/syslog.sock" -1 1 spoof-dgram)
spid=$(echo "$out" | jq .pid)
wait_log "$w/data/current" ' spoof-dgram-5424 ' && wait_log "$w/data/current" ' spoof-dgram-3164 '
check_eq "syslog RFC 3164 'sshd[1]': pid/uid/gid from SCM_CREDENTIALS, 1 only as claim" \
	"$(grep ' spoof-dgram-3164 ' "$w/data/current" | awk '{print $4, $5, $6, $7, $8}')" \
	"$spid $EXP_UID $EXP_GID sshd 1"
check_eq "syslog RFC 5424 PROCID 1: likewise" \
	"$(grep ' spoof-dgram-5424 ' "$w/data/current" | awk '{print $4, $5, $6, $7, $8}')" \
	"$spid $EXP_UID $EXP_GID sshd 1"
out=$(spoof stream "$w/stream.sock" -1 1 spoof-stream)
spid_stream=$(echo "$out" | jq .pid)
wait_log "$w/data/current" ' spoof-stream-stream '
check_eq "syslog stream 'sshd[1]': pid/uid/gid from SO_PEERCRED, 1 only as claim" \
	"$(grep ' spoof-stream-stream ' "$w/data/current" | awk '{print $4, $5, $6, $8}')" \
	"$spid_stream $EXP_UID $EXP_GID 1"
if [ ${#AS_SPOOFER[@]} != 0 ]; then
	check_eq "every spoofer's record carries uid/gid 65534, none the daemon's uid $(id -u)" \
		"$("$SEGLOG" -d "$w/data" cat -o json |
			jq -r 'select(.message | startswith("spoof-")) | "\(.uid) \(.gid)"' | sort | uniq -c |
			awk '{print $1, $2, $3}')" "4 65534 65534"
fi
check_eq "seglog cat -o json shows the kernel's pid and uid" \
	"$("$SEGLOG" -d "$w/data" cat -o json | jq -r 'select(.message == "spoof-dgram-3164") | "\(.pid) \(.uid)"')" \
	"$spid $EXP_UID"
check "seglog cat shows 'sshd[<kernel pid>]', not the claimed 'sshd[1]'" \
	bash -c "'$SEGLOG' -d '$w/data' cat | grep -F 'spoof-dgram-3164' | grep -qF 'sshd[$spid]:'"
check_eq "seglog cat --pid 1 (the claimed pid) selects none of the spoofers' records" \
	"$("$SEGLOG" -d "$w/data" cat --pid 1 | grep -c spoof)" 0
check_eq "seglog cat --uid 0 selects none of them either" \
	"$("$SEGLOG" -d "$w/data" cat --uid "$([ "$EXP_UID" = 0 ] && echo 1 || echo 0)" | grep -c spoof)" 0

# --- terminal escapes and control bytes ------------------------------------------
exp=$($PY "$H/spoof.py" nasty "$w/sock" "$w/syslog.sock")
check_eq "records full of escapes are acknowledged" "$(echo "$exp" | jq -c '.ack | length')" 2
sleep 0.3
files=("$w/data/current" "$seg")
check_eq "raw files: no ESC byte (grep -c \$'\\x1b')" "$(cat "${files[@]}" | LC_ALL=C grep -c $'\x1b')" 0
check "raw files: no C0/C1 control or DEL byte at all" $PY "$H/termsafe.py" --allow-bidi "${files[@]}"
check_eq "raw files: an LF in a message cannot forge a line" \
	"$(LC_ALL=C grep -c '^2001-09-09T01:46:40.000000Z 1 auth.crit' "$w/data/current")" 0
check_eq "  ... the record stays one line" "$(grep -c 'nasty-lf first line' "$w/data/current")" 1
"$SEGLOG" -d "$w/data" tail -n 50 > "$w/tail.out" 2>&1
check_eq "seglog tail shows the 5 hostile records, one line each" "$(grep -c 'nasty-' "$w/tail.out")" 5
check "seglog tail (pipe): no ESC, control, C1 or bidi control" $PY "$H/termsafe.py" "$w/tail.out"
check "  ... the escapes are shown, escaped" grep -qF 'nasty-sgr \x1b[31mred' "$w/tail.out"
check "  ... the tag too" grep -qF 'ev\x1bil[' "$w/tail.out"
check_eq "  ... the forged line is not a line of its own" \
	"$(grep -c '^2001-09-09T01:46:40.000000Z 1 auth.crit' "$w/tail.out")" 0
"$SEGLOG" -d "$w/data" cat > "$w/cat.out" 2>&1
check "seglog cat (pipe): no ESC, control, C1 or bidi control" $PY "$H/termsafe.py" "$w/cat.out"
check_eq "  ... all 5 hostile records there" "$(grep -c 'nasty-' "$w/cat.out")" 5
if command -v script > /dev/null; then
	# on a terminal (a pty from script(1))
	TERM=xterm script -qec "'$SEGLOG' -d '$w/data' tail -n 50 --no-color --no-pager" /dev/null > "$w/tty.out" 2>&1
	check "seglog tail on a terminal, --no-color: nothing unescaped" \
		$PY "$H/termsafe.py" --pty "$w/tty.out"
	check_eq "  ... all 5 hostile records there" "$(grep -c 'nasty-' "$w/tty.out")" 5
	TERM=xterm script -qec "'$SEGLOG' -d '$w/data' tail -n 50 --no-pager" /dev/null > "$w/ttyc.out" 2>&1
	check "seglog tail on a terminal with colours: only its own colours (<= 2 per line)" \
		$PY "$H/termsafe.py" --pty --sgr 2 "$w/ttyc.out"
	TERM=xterm script -qec "'$SEGLOG' -d '$w/data' cat -o raw --no-pager" /dev/null > "$w/ttyraw.out" 2>&1
	check "seglog cat -o raw on a terminal: escaped" $PY "$H/termsafe.py" --pty "$w/ttyraw.out"
	check_eq "  ... all 5 hostile records there" "$(grep -c 'nasty-' "$w/ttyraw.out")" 5
else
	not_ok "script(1) (util-linux) is needed for the terminal checks"
fi
"$SEGLOG" -d "$w/data" cat -o json > "$w/json.out" 2>&1
check "seglog cat -o json: controls \\u-escaped" $PY "$H/termsafe.py" --allow-bidi "$w/json.out"
check_eq "  ... and every message decodes back to the bytes sent" "$($PY - "$w/json.out" <<PY
import json, sys
exp = json.loads('''$exp''')
got = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    m = o["message"]
    b = m.encode("utf-8", "surrogatepass") if isinstance(m, str) else bytes(m)
    for k in exp:
        if k.startswith("nasty") and b.startswith(k.encode()):
            got[k] = b
print(sum(got.get(k) == bytes.fromhex(v) for k, v in exp.items() if k.startswith("nasty")))
PY
)" 5
"$SEGLOG" -d "$w/data" cat -o raw > "$w/raw.out" 2>&1
check "seglog cat -o raw into a pipe: the message bytes as sent (documented)" \
	$PY -c 'import sys; sys.exit(bytes.fromhex(sys.argv[1]) + b"\n" not in open(sys.argv[2], "rb").read())' \
	"$(echo "$exp" | jq -r '."nasty-osc"')" "$w/raw.out"
"$SEGLOG" -d "$w/data" tail -f -n 0 > "$w/follow.out" 2>&1 &
follow=$!
sleep 0.5
$PY "$H/spoof.py" nasty "$w/sock" "$w/syslog.sock" > /dev/null
sleep 1
kill $follow 2>/dev/null
wait $follow 2>/dev/null
check_eq "seglog tail -f shows the new hostile records" "$(grep -c 'nasty-' "$w/follow.out")" 5
check "  ... escaped" $PY "$H/termsafe.py" "$w/follow.out"
check "seglog verify is clean" "$SEGLOG" -d "$w/data" verify

# --- symlinks planted while the daemon runs -----------------------------------------
o=$(test_tmpdir)
echo "outside the data directory; must not change" > "$o/target"
t_sum=$(sum "$o/target")
next=$(head -n1 "$w/data/current" | awk '{printf "%020d.log", $3}')
ln -s "$o/target" "$w/data/$next"
n_err=$(grep -c 'File exists' "$w/seglogd.log")
kill -USR1 "$DAEMON_PID"
wait_log "$w/seglogd.log" "Failed to rename .*current to $next: File exists"
check "a symlink named like the next sealed segment: the seal is refused (logged)" \
	grep -q "Failed to rename .*current to $next: File exists" "$w/seglogd.log"
check_eq "  ... the file it points to is unchanged" "$(sum "$o/target")" "$t_sum"
check "  ... the symlink is still the planted one" test "$(readlink "$w/data/$next")" = "$o/target"
check "  ... current is still a regular file with its records" \
	bash -c "[ -f '$w/data/current' ] && [ ! -L '$w/data/current' ] && grep -q nasty-sgr '$w/data/current'"
rm "$w/data/$next"
wait_log "$w/seglogd.log" "Sealed .*$next" 240
check "  ... once it is removed the daemon seals by itself" grep -q "Sealed .*$next" "$w/seglogd.log"
out=$(timeout 30 $PROTO_CLIENT "$w/sock" send 5 --id after-symlink)
check_eq "  ... and acknowledges new records" "$(echo "$out" | jq -r .acked_recno)" 5
check "  ... the sealed segment is a regular file" test -f "$w/data/$next" -a ! -L "$w/data/$next"

stop_daemon
check_eq "seglogd exits 0" "$?" 0
check_eq "the first sealed segment was never written again" "$(sum "$seg")" "$seg_sum"
check "the directory verifies clean" "$SEGLOG" -d "$w/data" verify

# --- symlinks planted before start: refuse, never write through -----------------
# (each case on a copy of the directory; the daemon must refuse to start)
refuse() { # refuse WHAT DIR [ARGS]: starts seglogd on DIR, expects a refusal
	local what=$1 d=$2
	shift 2
	timeout 10 "$SEGLOGD" --dir "$d" --socket "$w/sock2" "$@" > "$w/refuse.log" 2>&1
	local rc=$?
	check "$what: seglogd refuses to start (exit $rc)" test $rc -ne 0 -a $rc -ne 124
}
cp -a "$w/data" "$w/c1"
rm "$w/c1/current"
ln -s "$o/target" "$w/c1/current"
refuse "current is a symlink to a file outside" "$w/c1"
check "  ... naming current" grep -q "c1/current" "$w/refuse.log"
check_eq "  ... the file outside is unchanged" "$(sum "$o/target")" "$t_sum"
check "  ... the symlink is left alone" test "$(readlink "$w/c1/current")" = "$o/target"

cp -a "$w/data" "$w/c2"
rm "$w/c2/lock"
ln -s "$o/target" "$w/c2/lock"
refuse "lock is a symlink to a file outside" "$w/c2"
check "  ... naming the lock" grep -q "c2/lock" "$w/refuse.log"
check_eq "  ... the file outside is unchanged" "$(sum "$o/target")" "$t_sum"

mkdir -m 0750 "$w/c3"
ln -s "$o/target" "$w/c3/dir-id"
refuse "a new directory whose dir-id is a symlink" "$w/c3"
check "  ... naming dir-id" grep -q "c3/dir-id" "$w/refuse.log"
check_eq "  ... the file outside is unchanged" "$(sum "$o/target")" "$t_sum"

mkdir -m 0750 "$w/c6"
mkfifo "$w/c6/dir-id"
refuse "a FIFO planted as dir-id (a hang at start is no refusal)" "$w/c6"

cp -a "$w/data" "$w/c4"
printf '2026-01-01T00:00:00.000000Z 99999 user.info 1 0 0 torn - - half a li' >> "$w/c4/current"
c4_size=$(stat -c %s "$w/c4/current")
mkdir "$o/qdir"
ln -s "$o/qdir" "$w/c4/quarantine"
refuse "a torn tail to quarantine, quarantine/ a symlink to a directory outside" "$w/c4"
check_eq "  ... nothing written in the directory outside" "$(ls -A "$o/qdir" | wc -l)" 0
check_eq "  ... and the torn tail not destroyed" "$(stat -c %s "$w/c4/current")" "$c4_size"

# a sealed segment replaced by a symlink to (a copy of) itself outside: the
# reader and the daemon do not follow it
cp -a "$w/data" "$w/c5"
first=$(sealed "$w/c5" | head -n1)
mv "$w/c5/$first" "$o/$first"
ln -s "$o/$first" "$w/c5/$first"
s_sum=$(sum "$o/$first")
check_eq "seglog cat does not read a symlinked segment" \
	"$("$SEGLOG" -d "$w/c5" cat -o json 2>/dev/null | jq -r .seq | grep -cx 1)" 0
rm -f "$w/sock2"
start_daemon_c5() {
	"$SEGLOGD" --dir "$w/c5" --socket "$w/sock2" > "$w/c5.log" 2>&1 &
	DAEMON_PID=$!
	wait_ready "$w/c5.log" 0
}
if start_daemon_c5; then
	$PROTO_CLIENT "$w/sock2" send 5 --id c5 > /dev/null
	kill -USR1 "$DAEMON_PID"
	sleep 0.5
	stop_daemon
fi
check_eq "  ... nor does seglogd write through it (restart, records, rotation)" \
	"$(sum "$o/$first")" "$s_sum"
check "  ... the symlink is left alone" test "$(readlink "$w/c5/$first")" = "$o/$first"

# --- a data directory writable by others ------------------------------------------
mkdir "$w/ww"
chmod 0777 "$w/ww"
refuse "a data directory of mode 0777" "$w/ww"
check "  ... with a clear message naming the directory" \
	grep -q "$w/ww is writable by others" "$w/refuse.log"
check_eq "  ... and nothing written in it" "$(ls -A "$w/ww" | wc -l)" 0
chmod 1777 "$w/ww"
refuse "mode 1777 (sticky) too" "$w/ww"
cp -a "$w/data" "$w/ww2"
chmod o+w "$w/ww2"
refuse "an existing data directory made o+w" "$w/ww2"
check "  ... naming it" grep -q "$w/ww2 is writable by others" "$w/refuse.log"

# --- modes: configured -----------------------------------------------------------
w3=$(test_tmpdir)
printf '[storage]\ndir_mode = 0700\nfile_mode = 0600\n' > "$w3/conf"
start_daemon "$w3" -c "$w3/conf" || fail "daemon did not start"
$PROTO_CLIENT "$w3/sock" send 3 > /dev/null
kill -USR1 "$DAEMON_PID"
wait_log "$w3/seglogd.log" "Sealed "
# "Sealed" is logged when current is renamed; the new current follows
for i in $(seq 1 100); do [ -e "$w3/data/current" ] && break; sleep 0.05; done
check_eq "dir_mode = 0700: directory 0700" "$(mode "$w3/data")" 700
check_eq "file_mode = 0600: current 0600" "$(mode "$w3/data/current")" 600
check_eq "  ... dir-id 0400" "$(mode "$w3/data/dir-id")" 400
check_eq "  ... sealed segment 0400" "$(mode "$w3/data/$(sealed "$w3/data" | head -n1)")" 400
stop_daemon

# sealing never widens permissions: with UMask=0027 (systemd/seglogd.service)
# "segments are never world-readable" (docs/systemd.md), whatever file_mode says
w4=$(test_tmpdir)
printf '[storage]\nfile_mode = 0644\n' > "$w4/conf"
saved=("${SEGLOGD_WRAPPER[@]}")
SEGLOGD_WRAPPER=(sh -c 'umask 027 && exec "$0" "$@"' "${SEGLOGD_WRAPPER[@]}")
start_daemon "$w4" -c "$w4/conf" || fail "daemon did not start"
SEGLOGD_WRAPPER=("${saved[@]}")
$PROTO_CLIENT "$w4/sock" send 3 > /dev/null
cur_mode=$(mode "$w4/data/current")
kill -USR1 "$DAEMON_PID"
wait_log "$w4/seglogd.log" "Sealed "
sealed_mode=$(mode "$w4/data/$(sealed "$w4/data" | head -n1)")
check_eq "umask 027, file_mode 0644: current $cur_mode, not world-readable" "$((0$cur_mode & 4))" 0
check_eq "  ... the sealed segment ($sealed_mode) not world-readable either" "$((0$sealed_mode & 4))" 0
stop_daemon
summary
