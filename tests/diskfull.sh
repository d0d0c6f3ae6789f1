#!/bin/bash
# Disk full, with the real daemon on a small tmpfs: while clients send, the
# file system fills up; seglogd keeps running, stops acknowledging, reports
# the condition (status, log) and keeps its memory bounded; once space is
# freed it resumes by itself and the waiting clients get their acks;
# nothing acknowledged is lost or duplicated.  Then keep_free retention
# freeing space on its own.  Needs root for mount (skipped otherwise).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
mkdir -p "$w/mnt"
mount -t tmpfs -o size=32m tmpfs "$w/mnt" 2>/dev/null || skip "cannot mount a tmpfs here"
trap 'umount -l "$w/mnt" 2>/dev/null; _cleanup' EXIT

status() { $PROTO_CLIENT "$w/sock" status | sed -n "s/^$1 //p"; }

# --- fill, stall, free, resume ----------------------------------------------
printf "[storage]\nsegment_size = 1M\nmemory_limit = 4M\n" > "$w/conf"
start_daemon "$w" -c "$w/conf" --dir "$w/mnt/data" || fail "daemon did not start"
# leave ~1.5 MiB free, so that the clients run into ENOSPC soon
avail=$(df -B1 --output=avail "$w/mnt" | tail -n1)
dd if=/dev/zero of="$w/mnt/filler" bs=64k count=$(((avail - 1536 * 1024) / 65536)) status=none 2>/dev/null
mkdir -p "$w/acks"
pids=()
for c in 1 2 3; do
	$PROTO_CLIENT "$w/sock" send 20000 --size 150 --id "df$c" --log "$w/acks/acks-df$c" \
		> "$w/out-$c" 2>&1 &
	pids+=($!)
done
stalled=0
for i in $(seq 1 100); do
	[ "$(status state)" = storage-error ] && { stalled=1; break; }
	sleep 0.1
done
check_eq "status reports the storage error" "$stalled" 1
check_eq "  ... naming it" "$(status storage_error)" "No space left on device"
check "the log says commits are failing and acks are held" \
	grep -q "are failing: No space left on device; holding acknowledgements" "$w/seglogd.log"
a1=$(cat "$w"/acks/acks-* 2>/dev/null | wc -l)
sleep 1
a2=$(cat "$w"/acks/acks-* 2>/dev/null | wc -l)
check_eq "no acknowledgement while the disk is full" "$a2" "$a1"
rss=$(status rss_kb)
check "RSS stays bounded while stalled (${rss} kB < 40 MB)" test "$rss" -lt 40000
check "the daemon is still running" kill -0 "$DAEMON_PID"

rm -f "$w/mnt/filler"
wait "${pids[@]}"
n=0
for c in 1 2 3; do
	[ "$(jq -r .acked_recno "$w/out-$c")" = 20000 ] && n=$((n + 1))
done
check_eq "after space was freed every waiting client got all its acks" "$n" 3
check "commits resumed by themselves (logged)" grep -q "work again" "$w/seglogd.log"
check_eq "state is back to running" "$(status state)" running
stop_daemon
check_eq "exit 0" "$?" 0
check "every acknowledged record is there once, in order" \
	python3 "${top_srcdir:-.}/tests/torture/check.py" "$w/mnt/data" "$w"/acks/acks-*
if "$SEGLOG" -d "$w/mnt/data" verify > "$w/verify.out" 2>&1; then
	ok "seglog verify is clean after the resume"
else
	cat "$w/verify.out"; not_ok "seglog verify is clean after the resume"
fi

# --- keep_free: retention makes room on its own ---------------------------------
rm -rf "$w/mnt/data" "$w/acks"; mkdir -p "$w/acks"
printf '[storage]\nsegment_size = 256K\nkeep_free = 3M\n' > "$w/conf"
start_daemon "$w" -c "$w/conf" --dir "$w/mnt/data" || fail "daemon did not start (keep_free)"
avail=$(df -B1 --output=avail "$w/mnt" | tail -n1)
dd if=/dev/zero of="$w/mnt/filler" bs=64k count=$(((avail - 4 * 1024 * 1024) / 65536)) status=none 2>/dev/null
$PROTO_CLIENT "$w/sock" send 60000 --size 150 --id kf --log "$w/acks/acks-kf" > "$w/out-kf" 2>&1
check_eq "with keep_free every record is acknowledged (14 MB through 4 MB of space)" \
	"$(jq -r .acked_recno "$w/out-kf")" 60000
check "retention removed segments for keep_free" grep -q "Retention (keep_free)" "$w/seglogd.log"
stop_daemon
check_eq "exit 0" "$?" 0
check "what is retained is intact and gapless" \
	python3 "${top_srcdir:-.}/tests/torture/check.py" "$w/mnt/data" "$w"/acks/acks-*
summary
