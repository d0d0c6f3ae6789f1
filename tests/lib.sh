# Shared helpers for the shell integration tests (sourced).
# Every check prints "ok" or "FAIL"; summary prints "N passed, N failed"
# and exits 1 on any failure.  Exit 77 means skipped (automake).

passed=0
failed=0
# test_tmpdir is called as w=$(test_tmpdir), in a subshell: the directories
# it makes are listed in a file, so the exit trap finds them all.
_tmplist=$(mktemp "${TMPDIR:-/tmp}/seglog-it-list.XXXXXX")

trace() { echo "# $*"; }

test_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/seglog-it.XXXXXX")
	echo "$d" >> "$_tmplist"
	echo "$d"
}

_cleanup() {
	local p d
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP_TMP:-0}" != 1 ]; then
		while read -r d; do
			[ -n "$d" ] && rm -rf "$d"
		done < "$_tmplist"
	fi
	rm -f "$_tmplist"
}
trap _cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes if the command exits 0.
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what (exit $?: $*)"; fi
}

# check_eq DESCRIPTION GOT EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', expected '$3'"; fi
}

fail() { echo "FAIL - $*"; failed=$((failed + 1)); summary; }
skip() { echo "SKIP: $*"; exit 77; }

summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] || exit 1
	exit 0
}

# --- the daemon ------------------------------------------------------------
SEGLOGD=${top_builddir:-.}/src/seglogd
SEGLOG=${top_builddir:-.}/src/seglog
PROTO_CLIENT="python3 ${top_srcdir:-.}/tests/proto_client.py"

# start_daemon WORKDIR [seglogd options...]: data in WORKDIR/data, native
# socket WORKDIR/sock, log in WORKDIR/seglogd.log; sets DAEMON_PID.
# With SEGLOG_VALGRIND=1 the daemon runs under valgrind memcheck, and any
# error or leak makes it exit 99 (stop_daemon's status shows it).
SEGLOGD_WRAPPER=()
if [ "${SEGLOG_VALGRIND:-0}" = 1 ]; then
	SEGLOGD_WRAPPER=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99)
fi
start_daemon() {
	local w=$1; shift
	local n0
	n0=$(grep -c ' ready: ' "$w/seglogd.log" 2>/dev/null)
	"${SEGLOGD_WRAPPER[@]}" "$SEGLOGD" --dir "$w/data" --socket "$w/sock" "$@" >>"$w/seglogd.log" 2>&1 &
	DAEMON_PID=$!
	wait_ready "$w/seglogd.log" "$n0" || { cat "$w/seglogd.log"; return 1; }
}

# wait_ready LOG N: waits until LOG holds more than N "ready" lines, i.e. the
# daemon started last listens (a socket file may be a stale one from a kill).
wait_ready() {
	local i
	for i in $(seq 1 600); do
		[ "$(grep -c ' ready: ' "$1")" -gt "${2:-0}" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

wait_for_socket() {
	local i
	for i in $(seq 1 600); do
		[ -S "$1" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stop_daemon: SIGTERM and wait; returns the daemon's exit status.
stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
}

# records WORKDIR: every record line of the data directory, in seq order.
records() {
	local d=$1/data f
	for f in $(ls "$d" | grep -E '^[0-9]{20}\.log$' | sort) current; do
		[ -f "$d/$f" ] && grep -v '^#' "$d/$f"
	done
}
