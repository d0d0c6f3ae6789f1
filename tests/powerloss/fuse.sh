# Shared by the power-loss scripts (sourced after tests/lib.sh).
PLFS=${top_builddir:-.}/tests/powerloss/plfs
# In a sanitizer build plfs is built with ASan too, and libfuse3 leaks a
# request buffer when a session ends mid-request (at every cut): that is
# libfuse's, not ours, and would fail the cut.  seglogd here is SIGKILLed,
# so no leak check of its own is lost.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# Skips the test (exit 77) where FUSE cannot be mounted: no plfs (configure
# found no libfuse3), no /dev/fuse, or a trial mount fails (not root and no
# usable fusermount3, no permission on /dev/fuse, a container without it).
powerloss_need_fuse() {
	local t
	[ -x "$PLFS" ] || skip "no $PLFS (libfuse3-dev missing at configure time?)"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v mountpoint >/dev/null || skip "no mountpoint(1)"
	t=$(test_tmpdir)
	mkdir "$t/b" "$t/m"
	"$PLFS" "$t/b" "$t/m" 2>"$t/err" &
	local pid=$! i
	for i in $(seq 1 100); do
		mountpoint -q "$t/m" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.02
	done
	if ! mountpoint -q "$t/m"; then
		wait $pid 2>/dev/null
		skip "FUSE cannot be mounted here: $(tail -n1 "$t/err")"
	fi
	kill -TERM $pid
	wait $pid
}

# powerloss_umount DIR: makes sure nothing is mounted on DIR any more.
powerloss_umount() {
	mountpoint -q "$1" 2>/dev/null && { fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1"; }
	return 0
}
