# Shared by the power-loss scripts (sourced after tests/lib.sh).
PLFS=${top_builddir:-.}/tests/powerloss/plfs
# In a sanitizer build plfs is built with ASan too, and libfuse3 leaks a
# request buffer when a session ends mid-request (at every cut): that is
# libfuse's, not ours, and would fail the cut.  seglogd here is SIGKILLed,
# so no leak check of its own is lost.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# Skips the test (exit 77) where FUSE cannot be mounted: no plfs (configure
# found no libfuse3), no /dev/fuse, or a trial mount that libfuse refuses
# (not root and no usable fusermount3, no permission on /dev/fuse, a
# container without it).  A trial mount that fails any other way (plfs
# crashed, an error of its own) is plfs broken, and fails the test: only
# libfuse's own refusals may become an allowed skip.  Every wait is bounded.
powerloss_need_fuse() {
	local t pid i rc msg
	[ -x "$PLFS" ] || skip "no $PLFS (libfuse3-dev missing at configure time?)"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v mountpoint >/dev/null || skip "no mountpoint(1)"
	t=$(test_tmpdir)
	mkdir "$t/b" "$t/m"
	"$PLFS" "$t/b" "$t/m" 2>"$t/err" &
	pid=$!
	for i in $(seq 1 250); do
		mountpoint -q "$t/m" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.02
	done
	if ! mountpoint -q "$t/m"; then
		kill -0 $pid 2>/dev/null && { kill -9 $pid; fail "plfs neither mounted nor exited in 5 s"; }
		wait $pid
		rc=$?
		msg=$(tail -n1 "$t/err")
		case $msg in
		*"fuse: "*"/dev/fuse"* | *"fuse: mount failed"* | *fusermount*)
			[ $rc -lt 128 ] && skip "FUSE cannot be mounted here: $msg" ;;
		esac
		fail "plfs failed its trial mount (exit $rc): ${msg:-no message}; see $t/err"
	fi
	kill -TERM $pid
	for i in $(seq 1 250); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid
		powerloss_umount "$t/m"
		fail "plfs did not exit 5 s after SIGTERM (trial mount)"
	fi
	wait $pid
}

# powerloss_umount DIR: makes sure nothing is mounted on DIR any more.
powerloss_umount() {
	mountpoint -q "$1" 2>/dev/null && { fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1"; }
	return 0
}
