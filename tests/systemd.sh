#!/bin/bash
# The systemd integration, proved with systemd's own tools (no systemd runs
# as PID 1 here): installed units verify, the service's exposure score is
# <= 1.0, socket activation with named descriptors, and sd_notify.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"

w=$(test_tmpdir)
root=$w/root
make -C "${top_builddir:-.}" install DESTDIR="$root" >"$w/install.log" 2>&1 ||
	{ cat "$w/install.log"; fail "make install failed"; }
unitdir=$(find "$root" -name seglogd.service -printf '%h\n' | head -n1)
check "units installed" test -n "$unitdir" -a -f "$unitdir/seglogd.socket" -a -f "$unitdir/seglogd-syslog.socket"
for f in sbin/seglogd bin/seglog share/man/man8/seglogd.8 share/man/man5/seglogd.conf.5 \
	share/man/man1/seglog.1 lib/sysusers.d/seglog.conf lib/tmpfiles.d/seglog.conf \
	etc/seglog/seglogd.conf; do
	check "make install places $f" bash -c "find '$root' -path '*/$f' | grep -q ."
done
# an edited configuration survives a reinstall
conf=$(find "$root" -path '*/etc/seglog/seglogd.conf')
echo "# edited by the admin" >> "$conf"
make -C "${top_builddir:-.}" install DESTDIR="$root" >>"$w/install.log" 2>&1
check "make install keeps an existing seglogd.conf" grep -q "edited by the admin" "$conf"

# verify: the unit refers to the installed binary path; point a copy at the
# DESTDIR copy of the binary so the offline check can see it
sbin=$(find "$root" -name seglogd -type f -perm -u+x | head -n1)
mkdir -p "$w/units"
sed "s|^ExecStart=.*|ExecStart=$sbin|" "$unitdir/seglogd.service" > "$w/units/seglogd.service"
bin=$(find "$root" -name seglog -type f -perm -u+x | head -n1)
sed "s|^ExecStart=[^ ]*|ExecStart=$bin|" "$unitdir/seglog-ship.service" > "$w/units/seglog-ship.service"
cp "$unitdir/seglogd.socket" "$unitdir/seglogd-syslog.socket" "$w/units/"
(cd "$w/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	seglogd.service seglogd.socket seglogd-syslog.socket seglog-ship.service) >"$w/verify.log" 2>&1
rc=$?
grep -v -e 'Unknown key name .*ProtectHostname' "$w/verify.log" | sed 's/^/# /'
check_eq "systemd-analyze verify passes on the units" "$rc" 0

score=$(systemd-analyze security --offline=true "$w/units/seglogd.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
trace "exposure score: $score"
check "systemd-analyze security exposure <= 1.0 (got $score)" \
	awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.0) }'
score=$(systemd-analyze security --offline=true "$w/units/seglog-ship.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
trace "seglog-ship.service exposure score: $score"
# the network is its job (AF_INET, no IPAddressDeny): a little more exposed
check "seglog-ship.service: systemd-analyze security exposure <= 2.0 (got $score)" \
	awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'

# socket activation: the native socket passed by name
command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
systemd-socket-activate -l "$w/native.sock" --fdname=native \
	"$SEGLOGD" --dir "$w/data" --socket "$w/unused.sock" >"$w/sa.log" 2>&1 &
DAEMON_PID=$!
wait_for_socket "$w/native.sock"
seq 1 10 | sed 's/^/socket-activated /' | "$SEGLOG" -s "$w/native.sock" send -t sa
check_eq "seglog send reaches seglogd on the inherited native socket (all acknowledged)" "$?" 0
check_eq "  ... and its 10 records are on disk" "$(grep -c ' sa - - - - - socket-activated ' "$w/data/current")" 10
check "seglogd used the descriptor passed as \"native\"" grep -q "Using native socket passed by systemd" "$w/sa.log"
check "no socket file was created by the daemon itself" test ! -e "$w/unused.sock"
stop_daemon
check_eq "exit 0" "$?" 0

# the datagram socket, passed as "syslog"
systemd-socket-activate --datagram -l "$w/syslog.sock" --fdname=syslog \
	"$SEGLOGD" --dir "$w/data" --socket "$w/native2.sock" >"$w/sa2.log" 2>&1 &
DAEMON_PID=$!
wait_for_socket "$w/syslog.sock"
sleep 0.3
logger -u "$w/syslog.sock" -d -t activated "hello through an inherited datagram socket"
sleep 0.5
check "logger reaches seglogd on the inherited datagram socket" \
	grep -q "hello through an inherited datagram socket" "$w/data/current"
stop_daemon

# a descriptor with an unknown name is refused clearly
systemd-socket-activate -l "$w/odd.sock" --fdname=bogus \
	"$SEGLOGD" --dir "$w/data" --socket "$w/n3.sock" >"$w/sa3.log" 2>&1 &
DAEMON_PID=$!
sleep 0.3
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$w/odd.sock" 2>/dev/null
wait $DAEMON_PID
check_eq "an unknown FileDescriptorName is refused" "$?" 1
check "  ... naming it" grep -q '"bogus"' "$w/sa3.log"

# sd_notify protocol
check "READY/STATUS/WATCHDOG/RELOADING/STOPPING in order" \
	python3 "${top_srcdir:-.}/tests/notify_listener.py" "$w" "$SEGLOGD" --dir "$w/data"
summary
