#!/bin/bash
# seglogd as the host's syslog daemon, for real: a Debian 12 root with
# rsyslog installed (and enabled, as its package does) gets this build
# (make install DESTDIR=ROOT of a build for /usr); `systemctl enable seglogd`
# must refuse to steal syslog.service from rsyslog, and take it once rsyslog
# is disabled.  The root is then booted with systemd as PID 1
# (tests/container/lib.sh), journald forwarding (ForwardToSyslog=yes), and
# records sent with logger to /dev/log and with systemd-cat must be in
# seglog with the right facility, tag and pid.  Then the /dev/log takeover
# (systemd/seglogd-devlog.conf): logger reaches seglogd directly.
# Needs root; exit 77 where no container can be built or booted.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/container/lib.sh"
container_prepare || skip "cannot run containers here"

w=$(test_tmpdir)
# nspawn names the machine after the root's directory: a unique name, so
# that its settings file below concerns this run alone
machine=seglog-jd-$$
nspawn_settings=/run/systemd/nspawn/$machine.nspawn
# the root is 300 MB: always remove it (KEEP_TMP=1 keeps it for a look)
trap 'rm -f "$nspawn_settings"; [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$w"; _cleanup' EXIT
# a build for /usr: this one if it is configured so, else a private one
build=${top_builddir:-.}
if [ "$(sed -n 's/^prefix = //p' "$build/Makefile")" != /usr ] ||
	[ "$(sed -n 's/^runstatedir = //p' "$build/Makefile")" != /run ]; then
	trace "building for --prefix=/usr in $w/build"
	mkdir -p "$w/build" && (cd "$w/build" &&
		"$(cd "${top_srcdir:-.}" && pwd)/configure" -q --prefix=/usr --sysconfdir=/etc \
			--localstatedir=/var --runstatedir=/run && make -j"$(nproc)") \
		>"$w/build.log" 2>&1 || { tail -n 30 "$w/build.log"; fail "the /usr build failed"; }
	build=$w/build
fi

# the root: the packages of the libraries the build links, and rsyslog
libpkgs() {
	local l
	for l in $(ldd "$build/src/seglogd" "$build/src/seglog" | awk '/=> \//{print $3}' | sort -u); do
		dpkg -S "$l" 2>/dev/null || dpkg -S "$(readlink -f "$l")" 2>/dev/null
	done | cut -d: -f1 | sort -u
}
pkgs=$(libpkgs)
[ -n "$pkgs" ] || skip "cannot tell which packages hold the libraries (dpkg -S)"
base=$(container_root $pkgs procps rsyslog) || skip "cannot build a Debian root (no mirror?)"
root=$w/$machine
container_clone "$base" "$root" || fail "cloning the root"
container_works "$root" || skip "systemd-nspawn cannot run a container here"
make -C "$build" install DESTDIR="$root" >"$w/install.log" 2>&1 ||
	{ tail -n 20 "$w/install.log"; fail "make install DESTDIR=ROOT failed"; }
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nForwardToSyslog=yes\n' >"$root/etc/systemd/journald.conf.d/forward.conf"

# what an admin types, in the root before it boots
container_run "$root" /bin/sh -c 'systemd-sysusers && systemd-tmpfiles --create' \
	>"$w/setup.log" 2>&1 || { cat "$w/setup.log"; fail "sysusers/tmpfiles"; }
check_eq "rsyslog holds syslog.service (its package enabled it)" \
	"$(basename "$(readlink "$root/etc/systemd/system/syslog.service")")" rsyslog.service
container_run "$root" systemctl enable seglogd >"$w/enable1.log" 2>&1
check "systemctl enable seglogd refuses to take syslog.service from rsyslog" \
	grep -q "syslog.service.*already exists" "$w/enable1.log"
sed 's/^/#   /' "$w/enable1.log"
check_eq "  ... which stays rsyslog's" \
	"$(basename "$(readlink "$root/etc/systemd/system/syslog.service")")" rsyslog.service
container_run "$root" /bin/sh -c 'systemctl disable rsyslog && systemctl enable seglogd' \
	>"$w/enable2.log" 2>&1
check_eq "after systemctl disable rsyslog, systemctl enable seglogd succeeds" "$?" 0
sed 's/^/#   /' "$w/enable2.log"
check_eq "  ... and makes seglogd syslog.service" \
	"$(basename "$(readlink "$root/etc/systemd/system/syslog.service")")" seglogd.service

# the host's /dev/kmsg inside, readable (nspawn drops CAP_SYSLOG otherwise),
# for the kernel log input under the unit's sandbox
if [ -c /dev/kmsg ]; then
	mkdir -p /run/systemd/nspawn &&
		printf '[Exec]\nCapability=CAP_SYSLOG\n[Files]\nBindReadOnly=/dev/kmsg\n' >"$nspawn_settings"
fi

cat >"$w/inside.sh" <<'EOF'
#!/bin/sh
# runs in the booted container, as root, after multi-user.target
set -u
fails=0
check() {
	d=$1; shift
	if "$@"; then echo "ok - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi
}
check_eq() {
	if [ "$2" = "$3" ]; then echo "ok - $1"
	else echo "FAIL - $1: got '$2', expected '$3'"; fails=$((fails + 1)); fi
}
tok=$(cut -c1-8 /proc/sys/kernel/random/uuid)
rec() { seglog -d /var/log/seglog cat -o json 2>/dev/null | grep -F "$1" | tail -n1; }
eventually() {
	i=0
	while [ $i -lt 50 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}
has() { [ -n "$(rec "$1")" ]; }
num() { rec "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
str() { rec "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }
fs() { echo "$(str "$1" facility).$(str "$1" severity)"; }
# send_alive TEXT LOGGER-ARGS...: logger reads TEXT from a pipe and stays
# alive a second after it, so journald still finds the sender when it
# forwards (else it forwards with its own pid); prints logger's pid
send_alive() {
	text=$1; shift
	rm -f /tmp/fifo; mkfifo /tmp/fifo
	"$@" </tmp/fifo & p=$!
	{ echo "$text"; sleep 1; } >/tmp/fifo
	wait $p
	echo $p
}

echo "--- the syslog daemon"
check "seglogd is active" systemctl is-active -q seglogd
check_eq "syslog.service is seglogd" "$(systemctl show -P Id syslog.service)" seglogd.service
check "rsyslog is not running" sh -c '! systemctl is-active -q rsyslog'
check "syslog.socket listens" systemctl is-active -q syslog.socket
check "seglogd took syslog.socket's descriptor" \
	sh -c 'journalctl -b -u seglogd | grep -q "Using syslog.socket socket passed by systemd"'
check "journald forwards to syslog" \
	sh -c 'systemd-analyze cat-config systemd/journald.conf | grep -q "^ForwardToSyslog=yes"'

echo "--- logger to /dev/log (journald), forwarded"
p=$(send_alive "via dev-log $tok" logger -t jtest -p local4.warning)
eventually has "via dev-log $tok"
check_eq "facility.severity" "$(fs "via dev-log $tok")" local4.warning
check_eq "tag" "$(str "via dev-log $tok" tag)" jtest
check_eq "trusted pid = logger's pid" "$(num "via dev-log $tok" pid)" "$p"
check_eq "trusted uid = root" "$(num "via dev-log $tok" uid)" 0
check "journald has it too" sh -c "journalctl -b -t jtest | grep -q 'via dev-log $tok'"

echo "--- systemd-cat (a journal stream), forwarded"
systemd-cat -t catest -p err sh -c "echo 'via systemd-cat $tok'; sleep 1" & p=$!
wait $p
eventually has "via systemd-cat $tok"
check_eq "facility.severity (user: a stream has no facility)" "$(fs "via systemd-cat $tok")" user.err
check_eq "tag" "$(str "via systemd-cat $tok" tag)" catest
check_eq "trusted pid = the command's pid" "$(num "via systemd-cat $tok" pid)" "$p"

echo "--- an unprivileged sender, forwarded"
p=$(send_alive "as uid 4321 $tok" \
	setpriv --reuid=4321 --regid=4321 --clear-groups logger -t uidtest)
eventually has "as uid 4321 $tok"
check_eq "trusted pid" "$(num "as uid 4321 $tok" pid)" "$p"
# PrivateUsers=yes in the unit would show 65534 here: a user namespace maps
# every uid but root and seglog's to nobody in SCM_CREDENTIALS
check_eq "trusted uid/gid = the sender's" \
	"$(num "as uid 4321 $tok" uid)/$(num "as uid 4321 $tok" gid)" 4321/4321

echo "--- the /dev/log takeover"
mkdir -p /etc/systemd/system/seglogd-syslog.socket.d
cp /usr/share/doc/seglog/examples/seglogd-devlog.conf \
	/etc/systemd/system/seglogd-syslog.socket.d/devlog.conf
systemctl mask --now systemd-journald-dev-log.socket
systemctl daemon-reload
# stop the service with every socket that could start it again meanwhile
systemctl stop seglogd.service seglogd.socket seglogd-syslog.socket syslog.socket
systemctl start seglogd.service
check "seglogd is active again" systemctl is-active -q seglogd
systemctl --no-pager status seglogd-syslog.socket 2>&1 | sed 's/^/# /' | head -n 12
check "/dev/log is seglogd's socket now (not journald's symlink)" \
	sh -c 'test -S /dev/log && ! test -L /dev/log'
check_eq "seglogd-syslog.socket listens on /dev/log" \
	"$(systemctl show -P Listen seglogd-syslog.socket)" "/dev/log (Datagram)"
p=$(send_alive "direct to seglogd $tok" logger -t dtest -p mail.notice)
eventually has "direct to seglogd $tok"
check_eq "facility.severity" "$(fs "direct to seglogd $tok")" mail.notice
check_eq "tag" "$(str "direct to seglogd $tok" tag)" dtest
check_eq "trusted pid = logger's pid" "$(num "direct to seglogd $tok" pid)" "$p"
check "journald no longer sees /dev/log" \
	sh -c "! journalctl -b -t dtest | grep -q 'direct to seglogd $tok'"
systemd-cat -t catest2 sh -c "echo 'stream after takeover $tok'; sleep 1"
check "journald's other sources still reach seglogd (syslog.socket)" \
	eventually has "stream after takeover $tok"

echo "--- the kernel log input under the unit (systemd/seglogd-kmsg.conf)"
if [ -c /dev/kmsg ]; then
	mkdir -p /etc/systemd/system/seglogd.service.d
	cp /usr/share/doc/seglog/examples/seglogd-kmsg.conf /etc/systemd/system/seglogd.service.d/kmsg.conf
	printf '\n[server]\nkmsg = yes\n' >>/etc/seglog/seglogd.conf
	systemctl daemon-reload
	systemctl restart seglogd.service
	check "seglogd reads /dev/kmsg in its sandbox" \
		sh -c 'journalctl -b -u seglogd | grep -q "Kernel log input from /dev/kmsg"'
	check "  ... and this boot's id (no warning)" \
		sh -c '! journalctl -b -u seglogd | grep "boot id"'
	echo "<6>seglogtest: kmsg in the unit $tok" >/dev/kmsg
	eventually has "seglogtest: kmsg in the unit $tok"
	check_eq "tag kernel, user.info, pid 0" \
		"$(str "kmsg in the unit $tok" tag) $(fs "kmsg in the unit $tok") $(num "kmsg in the unit $tok" pid)" \
		"kernel user.info 0"
	systemctl restart seglogd.service
	echo "<6>seglogtest: kmsg after restart $tok" >/dev/kmsg
	eventually has "seglogtest: kmsg after restart $tok"
	check_eq "no duplicate after systemctl restart" \
		"$(seglog -d /var/log/seglog cat -o json | grep -c "kmsg in the unit $tok")" 1
else
	echo "# skipped: no /dev/kmsg in the container"
fi

echo "--- clean stop"
systemctl stop seglogd.service
check "seglog verify is clean" sh -c 'seglog -d /var/log/seglog verify >/tmp/verify 2>&1'
cat /tmp/verify
echo "$fails failed"
[ $fails = 0 ]
EOF
container_boot "$root" "$w/inside.sh" "$w/out" 240
rc=$?
sed 's/^/  /' "$w/out/log" 2>/dev/null
case $rc in
77) skip "systemd-nspawn cannot boot here (console: $(tail -n 3 "$w/out/console" | tr '\n' ' '))" ;;
124) tail -n 30 "$w/out/console"; fail "the booted test did not finish" ;;
esac
check_eq "the checks in the booted container pass" "$rc" 0
summary
