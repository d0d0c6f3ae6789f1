#!/bin/bash
# The Debian package end to end (docs/packaging.md): built with
# dpkg-buildpackage from a clean copy of the source tree, checked by lintian
# (no errors), installed where systemd is not PID 1 (postinst must not fail),
# then installed, used, reloaded, removed and purged in a Debian 12 root booted
# with systemd as PID 1 (tests/container/lib.sh); there seglog-ship.service
# also runs (Type=notify, watchdog, STATUS=, SCHED_IDLE) against librdkafka's
# mock cluster (the build tree's tests/kafka/mockcluster, copied in).
#
# Needs root and a Debian mirror; installs build-essential debhelper lintian,
# the build dependencies, mmdebstrap and systemd-container if missing.
# Exit 77 (skipped) without dpkg-buildpackage, without root, or where nspawn
# cannot boot.  SEGLOG_PKG_KEEP=1 keeps the work directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$(cd "$here/.." && pwd)}
. "$here/container/lib.sh"

step() { printf '==> package: %s\n' "$*"; }
skip() { printf 'package: SKIP: %s\n' "$*"; exit 77; }
die() { printf 'package: FAIL: %s\n' "$*"; exit 1; }

command -v dpkg-buildpackage >/dev/null || skip "no dpkg-buildpackage (not Debian)"
[ "$(id -u)" -eq 0 ] || skip "needs root (apt, systemd-nspawn)"

work=$(mktemp -d /var/tmp/seglog-package.XXXXXX) || die "mktemp"
[ "${SEGLOG_PKG_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export DEBIAN_FRONTEND=noninteractive

# --- tools -------------------------------------------------------------------
need=()
for p in build-essential debhelper lintian; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	step "installing ${need[*]}"
	apt-get install -y -qq --no-install-recommends "${need[@]}" >"$work/apt.log" 2>&1 ||
		{ tail -n 20 "$work/apt.log"; die "cannot install ${need[*]}"; }
fi

# --- a clean copy of the tree: what git tracks or would track, nothing generated
ver=$(sed -n 's/^AC_INIT(\[seglog\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
[ -n "$ver" ] || die "no version in configure.ac"
debver=$(dpkg-parsechangelog -l "$src/debian/changelog" -SVersion) || die "debian/changelog"
[ "${debver%%-*}" = "$ver" ] ||
	die "debian/changelog is at $debver, configure.ac at $ver: add a changelog entry (dch -v $ver)"
tree=$work/seglog-$ver
step "copying the source tree ($src) to $tree"
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
		tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf - || die "copying the tree"
else
	cp -a "$src/." "$tree/" || die "copying the tree"
fi

# --- build -------------------------------------------------------------------
if ! (cd "$tree" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
	step "installing the build dependencies"
	apt-get build-dep -y -qq "$tree/" >"$work/apt.log" 2>&1 ||
		{ tail -n 20 "$work/apt.log"; die "cannot install the build dependencies"; }
fi
step "dpkg-buildpackage -us -uc -b (log: $work/build.log)"
start=$SECONDS
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log"; die "dpkg-buildpackage failed"; }
grep -h '^# \(TOTAL\|PASS\|FAIL\|SKIP\|ERROR\)' "$work/build.log" | tr '\n' ' '
echo
deb=$(ls "$work"/seglog_"$ver"*_*.deb 2>/dev/null | head -n1)
[ -f "$deb" ] || die "no seglog_*.deb"
step "built $(basename "$deb") in $((SECONDS - start)) s"

# --- lintian -----------------------------------------------------------------
step "lintian"
lintian --fail-on error --display-info "$work"/seglog_"$ver"*.changes >"$work/lintian.log" 2>&1
lrc=$?
cat "$work/lintian.log"
printf 'package: lintian: %d error(s), %d warning(s), %d info tag(s)\n' \
	"$(grep -c '^E: ' "$work/lintian.log")" "$(grep -c '^W: ' "$work/lintian.log")" \
	"$(grep -c '^I: ' "$work/lintian.log")"
[ $lrc -eq 0 ] || die "lintian reports errors"

# --- what the package holds ----------------------------------------------------
step "contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/contents"
fails=0
for f in /usr/sbin/seglogd /usr/bin/seglog /lib/systemd/system/seglogd.service \
	/lib/systemd/system/seglogd.socket /lib/systemd/system/seglogd-syslog.socket \
	/usr/lib/sysusers.d/seglog.conf /usr/lib/tmpfiles.d/seglog.conf /etc/seglog/seglogd.conf \
	/etc/seglog/seglogd.conf.d/ \
	/usr/share/bash-completion/completions/seglog /usr/share/man/man1/seglog.1.gz \
	/usr/share/man/man5/seglogd.conf.5.gz /usr/share/man/man8/seglogd.8.gz; do
	grep -qx "$f" "$work/contents" || { echo "FAIL missing $f"; fails=$((fails + 1)); }
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles | grep -qx /etc/seglog/seglogd.conf ||
	{ echo "FAIL /etc/seglog/seglogd.conf is not a conffile"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || die "$fails file(s) missing"

# --- a root with the runtime dependencies (cached) ----------------------------------
container_prepare || skip "cannot run containers here"
# the first alternative of each dependency, without versions
runtime=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
	grep -v '^$' | sort -u)
step "root with: $(echo $runtime)"
base=$(container_root $runtime) || skip "cannot build a Debian root (no mirror?)"

# --- installed where systemd is not PID 1 --------------------------------------
step "install, purge where systemd is not PID 1 (nspawn, not booted)"
container_clone "$base" "$work/root-nb" || die "cloning the root"
container_works "$work/root-nb" || skip "systemd-nspawn cannot run a container here"
mkdir -p "$work/root-nb/seglog-test" && cp "$deb" "$work/root-nb/seglog-test/" || die "copying"
container_run "$work/root-nb" /bin/sh -c '
	set -e
	apt-get install -y -q /seglog-test/seglog_*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
	echo "ok   postinst succeeded without systemd as PID 1"
	getent passwd seglog >/dev/null && echo "ok   user seglog"
	test "$(stat -c "%a %U %G" /var/log/seglog)" = "750 seglog seglog" &&
		echo "ok   /var/log/seglog 0750 seglog:seglog"
	test -L /etc/systemd/system/sockets.target.wants/seglogd.socket &&
	test -L /etc/systemd/system/sockets.target.wants/seglogd-syslog.socket &&
		echo "ok   sockets enabled"
	apt-get purge -y -q seglog >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
	test ! -e /etc/seglog && echo "ok   purge succeeded, /etc/seglog removed"
	test -d /var/log/seglog && echo "ok   /var/log/seglog kept"
' || die "installing without systemd as PID 1"

# --- booted ----------------------------------------------------------------------
step "booting the root with systemd as PID 1"
container_clone "$base" "$work/root" || die "cloning the root"
mkdir -p "$work/root/seglog-test" && cp "$deb" "$work/root/seglog-test/" || die "copying"
# seglog-ship.service against librdkafka's mock cluster (tests/kafka/), in the container
mock=${top_builddir:-.}/tests/kafka/mockcluster
[ -x "$mock" ] || make -C "${top_builddir:-.}" tests/kafka/mockcluster >"$work/mock-build.log" 2>&1 ||
	die "cannot build tests/kafka/mockcluster (log: $work/mock-build.log)"
cp "$mock" "$work/root/seglog-test/" || die "copying the mock cluster"
cat >"$work/booted.sh" <<'EOF'
#!/bin/sh
# runs in the booted container, as root, once multi-user.target is reached
set -u
deb=$(ls /seglog-test/seglog_*.deb)
fails=0
step() { echo "--- $*"; }
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fails=$((fails + 1)); fi; }
check_not() { d=$1; shift; if "$@"; then echo "FAIL $d"; fails=$((fails + 1)); else echo "ok   $d"; fi; }
quiet() { "$@" >/tmp/out 2>&1 || { cat /tmp/out; return 1; }; }
has() { seglog cat 2>/dev/null | grep -q "$1"; }
eventually() { i=0; while [ $i -lt 50 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
within30s() { i=0; while [ $i -lt 300 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
state() { test "$(systemctl "$1" "$2" 2>/dev/null)" = "$3"; }

step "apt install ./$(basename "$deb")"
check "apt install" quiet apt-get install -y "$deb"
check "seglogd.socket enabled" state is-enabled seglogd.socket enabled
check "seglogd-syslog.socket enabled" state is-enabled seglogd-syslog.socket enabled
check "seglogd.socket listening" state is-active seglogd.socket active
check "seglogd-syslog.socket listening" state is-active seglogd-syslog.socket active
check "/run/seglog/seglog.sock is a socket" test -S /run/seglog/seglog.sock
check "/run/seglog/syslog.sock is a socket" test -S /run/seglog/syslog.sock
check "user seglog" quiet getent passwd seglog
check "/var/log/seglog 0750 seglog:seglog" test "$(stat -c '%a %U %G' /var/log/seglog)" = "750 seglog seglog"
check "seglog send" quiet seglog send -t pkgtest "package test record one"
check "the record is stored" has "package test record one"
check "seglogd.service active" state is-active seglogd.service active
check "logger to the syslog socket" quiet logger -u /run/seglog/syslog.sock -t pkgsyslog "via syslog"
check "the syslog record is stored" eventually has "via syslog"
check "seglog status" quiet seglog status
pid=$(systemctl show -p MainPID --value seglogd.service)
check "systemctl reload seglogd" quiet systemctl reload seglogd
check "still active, same process" test "$(systemctl show -p MainPID --value seglogd.service)" = "$pid"
check "seglog send after reload" quiet seglog send -t pkgtest "after reload"
check "sandbox exposure reported" quiet systemd-analyze security seglogd.service

step "seglog-ship.service to a mock Kafka cluster"
(sleep 600 | /seglog-test/mockcluster -b 1 >/tmp/mock.out 2>/tmp/mock.err &)
eventually test -s /tmp/mock.out
brokers=$(head -n 1 /tmp/mock.out)
mkdir -p /etc/seglog/seglogd.conf.d
printf '[ship]\nbrokers = %s\ntopic = pkgtest\n' "$brokers" >/etc/seglog/seglogd.conf.d/ship.conf
shipped() { test "$(awk '{print $4}' /var/lib/seglog/ship.cursor 2>/dev/null)" = "$(seglog cat -o json | tail -n 1 | sed 's/^{"seq":\([0-9]*\).*/\1/')"; }
check "systemctl start seglog-ship (Type=notify: READY=1 once the producer is up)" quiet systemctl start seglog-ship
check "seglog-ship.service active" state is-active seglog-ship.service active
check "everything stored so far is shipped (the cursor holds the last seq)" within30s shipped
check "a new record" quiet seglog send -t pkgtest "to kafka"
check "... is shipped too" within30s shipped
check "STATUS= says running" sh -c 'systemctl show -p StatusText --value seglog-ship | grep -q "^running: "'
check "the watchdog is armed" test "$(systemctl show -p WatchdogUSec --value seglog-ship)" = 30s
check "it runs as seglog, SCHED_IDLE" test "$(ps -o user=,cls= -p "$(systemctl show -p MainPID --value seglog-ship)" | tr -s ' ')" = "seglog IDL"
check "sandbox exposure reported" quiet systemd-analyze security seglog-ship.service
check "systemctl stop seglog-ship" quiet systemctl stop seglog-ship
check "stopped cleanly (exit 0)" test "$(systemctl show -p ExecMainStatus --value seglog-ship)" = 0
rm -f /etc/seglog/seglogd.conf.d/ship.conf

step "apt install --reinstall (the upgrade path)"
check "reinstall" quiet apt-get install -y --reinstall "$deb"
check "seglogd.service active" state is-active seglogd.service active
check "seglogd.socket active" state is-active seglogd.socket active
check "seglog send after the upgrade" quiet seglog send -t pkgtest "after upgrade"

step "apt remove"
check "apt remove" quiet apt-get remove -y seglog
check_not "seglogd.service stopped" systemctl is-active --quiet seglogd.service
check_not "seglogd.socket stopped" systemctl is-active --quiet seglogd.socket
check_not "seglogd-syslog.socket stopped" systemctl is-active --quiet seglogd-syslog.socket
check "the records are kept" grep -rq "package test record one" /var/log/seglog
check "the configuration is kept" test -f /etc/seglog/seglogd.conf

step "apt purge"
check "apt purge" quiet apt-get purge -y seglog
check "the configuration is removed" test ! -e /etc/seglog
check "the sockets' enablement is removed" test ! -e /etc/systemd/system/sockets.target.wants/seglogd.socket
check "the records are kept" grep -rq "after upgrade" /var/log/seglog

step "install over the kept records, then purge with SEGLOG_PURGE_DATA=yes"
check "apt install" quiet apt-get install -y "$deb"
check "seglog send" quiet seglog send -t pkgtest "after reinstall"
check "old and new records readable" has "package test record one"
check "seglog verify" quiet seglog verify
check "apt purge with SEGLOG_PURGE_DATA=yes" quiet env SEGLOG_PURGE_DATA=yes apt-get purge -y seglog
check "the records are removed" test ! -e /var/log/seglog

echo "--- $fails failure(s)"
[ $fails -eq 0 ] && exit 0
journalctl --no-pager -n 40 -u seglogd.service -u seglogd.socket -u seglogd-syslog.socket -u seglog-ship.service
exit 1
EOF
start=$SECONDS
container_boot "$work/root" "$work/booted.sh" "$work/out" 240
rc=$?
cat "$work/out/log" 2>/dev/null
step "booted run: $((SECONDS - start)) s, exit $rc"
case $rc in
0) ;;
77) skip "systemd-nspawn cannot boot here" ;;
*)
	die "in the booted container (console: $work/out/console)" ;;
esac
step "all passed"
