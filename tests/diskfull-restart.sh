#!/bin/bash
# A crash on a full disk, then the restart (issue 10, finding 3: seglogd
# refused to start -- "Failed to write .../quarantine/...: No space left on
# device" -- so systemd's restarts ran into its start limit).  On a small
# tmpfs, a kill -9 leaves a torn tail in current and the disk full:
#  1. with retention (max_segments, then keep_free): the restart frees
#     space before it writes the quarantine copy, and starts normally;
#  2. without retention: it starts anyway, reports storage-error in status,
#     accepts records but holds their acks; once space is freed it finishes
#     the recovery (the torn tail into quarantine/) and acknowledges them by
#     itself; nothing acknowledged is lost.
# Needs root for mount (skipped otherwise).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

check_py=${CHECK_PY:-${top_srcdir:-.}/tests/torture/check.py}
[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
w=$(test_tmpdir)
mkdir -p "$w/mnt" "$w/acks"
mount -t tmpfs -o size=16m tmpfs "$w/mnt" 2>/dev/null || skip "cannot mount a tmpfs here"
trap 'umount -l "$w/mnt" 2>/dev/null; _cleanup' EXIT

d=$w/mnt/data
torn='2026-12-01T00:00:00.000000Z 424242 user.info torn by the crash'
status() { $PROTO_CLIENT "$w/sock" status | sed -n "s/^$1 //p"; }
wait_status() { # KEY VALUE: polls status for up to 15 s
	local i
	for i in $(seq 1 150); do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Records in sealed segments and in current, a kill -9, a torn tail, and
# not one free block left.
crash_on_full_disk() { # CONF
	umount -l "$w/mnt" && mount -t tmpfs -o size=16m tmpfs "$w/mnt" || fail "remount"
	rm -f "$w"/acks/*
	start_daemon "$w" -c "$1" --dir "$d" || fail "daemon did not start"
	$PROTO_CLIENT "$w/sock" send 20000 --size 150 --id pre --log "$w/acks/acks-pre" > "$w/out-pre"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	printf '%s' "$torn" >> "$d/current"
	dd if=/dev/zero of="$w/mnt/filler" bs=64k status=none 2>/dev/null
	check_eq "the file system is full" "$(df -B1 --output=avail "$w/mnt" | tail -n1 | tr -d ' ')" 0
}

# --- 1. with retention: space is made before the quarantine copy -----------
for rule in "max_segments = 4" "keep_free = 2M"; do
	printf '[storage]\nsegment_size = 256K\n' > "$w/conf-plain"
	printf '[storage]\nsegment_size = 256K\n%s\n' "$rule" > "$w/conf"
	crash_on_full_disk "$w/conf-plain"
	n0=$(grep -c ' ready: ' "$w/seglogd.log")
	start_daemon "$w" -c "$w/conf" --dir "$d" ||
		fail "($rule) the daemon did not start after a crash on a full disk"
	ok "($rule) the daemon starts after a crash on a full disk"
	check "($rule)   ... retention ran before the torn tail was cut" bash -c "
		tail -n +\$(grep -n ' ready: ' '$w/seglogd.log' | sed -n '${n0}p' | cut -d: -f1) \
			'$w/seglogd.log' | grep -E 'Retention|Cut a torn tail' | head -n1 | grep -q Retention"
	check "($rule)   ... the torn tail is in quarantine/" bash -c "cat '$d'/quarantine/* | grep -qF '$torn'"
	check_eq "($rule)   ... status: running" "$(status state)" running
	out=$($PROTO_CLIENT "$w/sock" send 1000 --id post --log "$w/acks/acks-post")
	check_eq "($rule)   ... new records are acknowledged" "$(echo "$out" | jq -r .acked_recno)" 1000
	stop_daemon
	check_eq "($rule)   ... exit 0" "$?" 0
	check "($rule)   ... what is retained is intact, gapless, acknowledged records in order" \
		python3 "$check_py" "$d" "$w"/acks/acks-*
done

# --- 2. without retention: up, storage-error, acks held, then it recovers ----
printf '[storage]\nsegment_size = 256K\nmemory_limit = 2M\n' > "$w/conf"
crash_on_full_disk "$w/conf"
start_daemon "$w" -c "$w/conf" --dir "$d" ||
	fail "(no retention) the daemon did not start after a crash on a full disk"
ok "(no retention) the daemon starts after a crash on a full disk"
check "  ... status: storage-error" wait_status state storage-error
check_eq "  ... naming it" "$(status storage_error)" "No space left on device"
check "  ... the log says why" grep -q "Recovery of $d cannot finish: failed to copy the torn tail" \
	"$w/seglogd.log"
check "  ... the torn tail is still in current, not cut" bash -c "tail -c 200 '$d/current' | grep -qF '$torn'"
$PROTO_CLIENT "$w/sock" send 3000 --size 150 --id held --log "$w/acks/acks-held" > "$w/out-held" 2>&1 &
client=$!
sleep 1
check_eq "  ... records are accepted but not acknowledged" "$(cat "$w/acks/acks-held" | wc -l)" 0
sleep 2
check "  ... and it does not exit (no restart loop)" kill -0 "$DAEMON_PID"
rm -f "$w/mnt/filler"
wait "$client"
check_eq "  ... once space is freed every held record is acknowledged" \
	"$(jq -r .acked_recno "$w/out-held")" 3000
check "  ... the recovery finished (logged)" grep -q "Recovery of $d/current finished\|Recovery of $d finished" \
	"$w/seglogd.log"
check "  ... the torn tail went to quarantine/ and was cut" bash -c "
	cat '$d'/quarantine/* | grep -qF '$torn' && ! grep -qF '$torn' '$d/current'"
check_eq "  ... status: running" "$(status state)" running
stop_daemon
check_eq "  ... exit 0" "$?" 0
check "  ... every acknowledged record is there once, in order" \
	python3 "$check_py" "$d" "$w"/acks/acks-*
if "$SEGLOG" -d "$d" verify > "$w/verify.out" 2>&1; then
	ok "  ... seglog verify is clean"
else
	cat "$w/verify.out"; not_ok "  ... seglog verify is clean"
fi
summary
