# Shared helpers for the shell integration tests (sourced).
# Every check prints "ok" or "FAIL"; summary prints "N passed, N failed"
# and exits 1 on any failure.  Exit 77 means skipped (automake).

passed=0
failed=0
_tmpdirs=()

trace() { echo "# $*"; }

test_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/seglog-it.XXXXXX")
	_tmpdirs+=("$d")
	echo "$d"
}

_cleanup() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	[ "${KEEP_TMP:-0}" = 1 ] || rm -rf "${_tmpdirs[@]}"
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
