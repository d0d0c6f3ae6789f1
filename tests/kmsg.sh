#!/bin/bash
# The kernel log input (kmsg = yes) against the real /dev/kmsg: a line
# written into it (as root) is stored once with tag "kernel", the facility
# and severity the kernel reports and trusted pid/uid/gid 0; a restart (clean
# or kill -9 after the state was written) stores no record twice; without
# the right to read /dev/kmsg the daemon says so and runs on.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
[ -r /dev/kmsg ] && [ -w /dev/kmsg ] ||
	skip "/dev/kmsg is not readable and writable here (needs root, and a /dev/kmsg)"
# readable by mode is not enough: kernel.dmesg_restrict=1 needs CAP_SYSLOG
( exec 3</dev/kmsg ) 2>/dev/null || skip "cannot open /dev/kmsg for reading (CAP_SYSLOG?)"
( printf '<6>seglogtest: probe\n' >/dev/kmsg ) 2>/dev/null ||
	skip "cannot write to /dev/kmsg (needs root)"

w=$(test_tmpdir)
printf '[server]\nkmsg = yes\n' >"$w/conf"
tok=$$.$RANDOM

# count TEXT: records whose message is exactly TEXT
count() {
	"$SEGLOG" -d "$w/data" cat -o json |
		python3 -c 'import json, sys
t = sys.argv[1]
print(sum(1 for l in sys.stdin if json.loads(l)["message"] == t))' "$1"
}
# fields TEXT: "facility.severity tag pid uid gid" of the last record with TEXT
fields() {
	"$SEGLOG" -d "$w/data" cat -o json |
		python3 -c 'import json, sys
t, last = sys.argv[1], "none"
for l in sys.stdin:
    r = json.loads(l)
    if r["message"] == t:
        last = "%s.%s %s %s %s %s" % (r["facility"], r["severity"], r["tag"], r["pid"],
                                      r["uid"], r["gid"])
print(last)' "$1"
}
# wait_for TEXT: until a record with TEXT is on disk (5 s)
wait_for() {
	local i
	for i in $(seq 1 100); do
		[ "$(count "$1")" -ge 1 ] && return 0
		sleep 0.05
	done
	return 1
}

start_daemon "$w" -c "$w/conf" || fail "daemon did not start"
check "the kernel log input is on" grep -q "Kernel log input from /dev/kmsg" "$w/seglogd.log"
echo "<6>seglogtest: info $tok" >/dev/kmsg
echo "<3>seglogtest: err $tok" >/dev/kmsg
echo "<190>seglogtest: local7 $tok" >/dev/kmsg
printf '<5>seglogtest: tab\there %s\n' "$tok" >/dev/kmsg
wait_for "seglogtest: local7 $tok" && wait_for "seglogtest: tab	here $tok"
# what userspace writes into /dev/kmsg has facility user unless it names
# one: the kernel forbids kern from userspace, and seglog keeps what it reports
check_eq "<6> from userspace: user.info, tag kernel, pid/uid/gid 0" \
	"$(fields "seglogtest: info $tok")" "user.info kernel 0 0 0"
check_eq "<3>: user.err" "$(fields "seglogtest: err $tok" | cut -d' ' -f1)" user.err
check_eq "<190>: the facility the kernel reports (local7)" \
	"$(fields "seglogtest: local7 $tok" | cut -d' ' -f1)" local7.info
check_eq "the kernel's \\x09 escape is undone (one record with a real tab)" \
	"$(count "seglogtest: tab	here $tok")" 1
check "the kernel's own records are there too, as kern" \
	bash -c "'$SEGLOG' -d '$w/data' cat -o json | grep -q '\"facility\":\"kern\"'"
# the claimed time is the kernel's monotonic stamp made wall-clock time
ct=$(records "$w" | grep -F "seglogtest: info $tok" | awk '{print $9}')
check "a claimed time in the line, within 60 s of now ($ct)" python3 - "$ct" <<'PY'
import sys, datetime
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
now = datetime.datetime.utcnow()
sys.exit(0 if abs((now - t).total_seconds()) < 60 else 1)
PY
stop_daemon
check_eq "exit 0" "$?" 0
check "DIR/kmsg holds this boot's id and a seq" \
	grep -qx "seglog-kmsg 1 $(cat /proc/sys/kernel/random/boot_id) [0-9]*" "$w/data/kmsg"

# a clean restart: the whole kernel buffer is read again, what is stored skipped
start_daemon "$w" -c "$w/conf" || fail "daemon did not restart"
check "the restart resumes after the stored seq" grep -q "after seq [0-9]* of this boot" \
	"$w/seglogd.log"
echo "<6>seglogtest: after restart $tok" >/dev/kmsg
wait_for "seglogtest: after restart $tok"
check_eq "no record is stored twice after a restart" "$(count "seglogtest: info $tok")" 1
# kernel records are told apart by their claimed time (the printk's stamp)
# and text; the receive time, seq and checksum are left out
dups() {
	records "$w" | grep ' 0 0 0 kernel ' | awk '{ $1 = $2 = $NF = ""; print }' | sort |
		uniq -d | wc -l
}
check_eq "  ... and none of the kernel's own records is stored twice" "$(dups)" 0

# kill -9 once the state was written (it is written at most once a second)
sleep 1.5
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
start_daemon "$w" -c "$w/conf" || fail "daemon did not start after kill -9"
echo "<6>seglogtest: after kill $tok" >/dev/kmsg
wait_for "seglogtest: after kill $tok"
check_eq "kill -9 1.5 s after the last kernel record: no duplicate" \
	"$(count "seglogtest: after restart $tok")" 1
check_eq "  ... of any kernel record" "$(dups)" 0
check "seglog verify is clean" "$SEGLOG" -d "$w/data" verify
stop_daemon

# without the right to read /dev/kmsg: a clear message, and the daemon runs
if [ "$(cat /proc/sys/kernel/dmesg_restrict 2>/dev/null)" = 1 ] &&
	command -v setpriv >/dev/null; then
	u=$(test_tmpdir)
	chmod 0777 "$u"
	cp "$w/conf" "$u/conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$SEGLOGD" -c "$u/conf" --dir "$u/data" --socket "$u/sock" >"$u/seglogd.log" 2>&1 &
	DAEMON_PID=$!
	wait_ready "$u/seglogd.log" 0
	check "unprivileged: 'Kernel log input off: cannot open /dev/kmsg' and it runs" \
		grep -q "Kernel log input off: cannot open /dev/kmsg: Operation not permitted" \
		"$u/seglogd.log"
	seq 1 3 | "$SEGLOG" -s "$u/sock" send -t unpriv
	check_eq "  ... and still takes records" "$?" 0
	stop_daemon
fi
summary
