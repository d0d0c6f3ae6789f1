#!/bin/bash
# Reloads and rotations under steady acknowledged load (issue 10, finding 1:
# a reload that switched durability wedged the engine for good).  For 20 s
# three clients stream records and wait for their acks, while a loop
# rewrites the configuration at random moments (durability write/fsync,
# memory_limit, batch_max) with SIGHUP, and sends SIGUSR1.  Checked: no
# 2-second window without the committed seq advancing; every acknowledged
# record is on disk once, in order; SIGTERM then exits 0 within
# shutdown_timeout.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

duration=${RELOAD_LOAD_SECONDS:-20}
check_py=${CHECK_PY:-${top_srcdir:-.}/tests/torture/check.py}
w=$(test_tmpdir)
mkdir -p "$w/acks"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
write_conf() { # durability memory_limit batch_max
	printf '[storage]\ndurability = %s\nmemory_limit = %s\nbatch_max = %s\nsegment_size = 2M\n' \
		"$1" "$2" "$3" > "$w/conf.new"
	printf '[server]\nshutdown_timeout = 5s\nrate_limit_burst = 0\nmemory_budget = 32M\n' >> "$w/conf.new"
	mv "$w/conf.new" "$w/conf"
}

write_conf write 16M 1M
# an --enable-ack-audit build checks every ack against completed fdatasyncs
"$SEGLOGD" --version | grep -q ack-audit && export SEGLOG_ACK_AUDIT=$w/audit
start_daemon "$w" -c "$w/conf" || fail "daemon did not start"

# --- the load: each client sends batches of 5,000 until told to stop -----
client() {
	local k=$1 i=0
	while [ ! -e "$w/stop" ]; do
		i=$((i + 1))
		$PROTO_CLIENT "$w/sock" send 5000 --size 120 --id "c$k-$i" \
			--log "$w/acks/acks-c$k-$i" > "$w/out-c$k-$i" 2>&1 || echo "c$k-$i" >> "$w/client-failures"
	done
}
pids=()
for k in 1 2 3; do
	client "$k" &
	pids+=($!)
done

# --- progress monitor: the committed seq, about every 0.1 s ----------------
monitor() {
	while [ ! -e "$w/stop" ]; do
		s=$("$SEGLOG" -s "$w/sock" status -o json 2>/dev/null | jq -r .seq 2>/dev/null)
		echo "$(now_ms) ${s:-x}" >> "$w/progress"
		sleep 0.1
	done
}
monitor &
mon=$!

# --- reloads and rotations at random moments --------------------------------
t_end=$(($(now_ms) + duration * 1000))
hups=0
usr1s=0
durs=(write fsync)
mems=(1M 4M 16M)
batches=(64K 256K 512K)
while [ "$(now_ms)" -lt "$t_end" ]; do
	# often: the wedge needed a reload between a commit's submission and
	# its completion, a window of microseconds to milliseconds
	sleep "0.0$((RANDOM % 10))"
	if [ $((RANDOM % 8)) = 0 ]; then
		kill -USR1 "$DAEMON_PID" && usr1s=$((usr1s + 1))
	else
		write_conf "${durs[RANDOM % 2]}" "${mems[RANDOM % 3]}" "${batches[RANDOM % 3]}"
		kill -HUP "$DAEMON_PID" && hups=$((hups + 1))
	fi
done
touch "$w/stop"
trace "$hups reloads, $usr1s rotations in ${duration} s"

# clients finish the batch they are in; a wedged daemon would hold them
for i in $(seq 1 300); do
	alive=0
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && break
	sleep 0.1
done
check_eq "clients finished their last batch within 30 s" "$alive" 0
for p in "${pids[@]}" "$mon"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
check_eq "every batch was acknowledged in full" "$(cat "$w/client-failures" 2>/dev/null | wc -l)" 0
check "the daemon is still running" kill -0 "$DAEMON_PID"

# no 2 s without the committed seq advancing while the load ran: the
# longest time over which consecutive samples saw the same seq
gap=$(awk -v end="$t_end" '
	$2 == "x" || $1 > end { next }
	seq == "" || $2 != seq { seq = $2; since = $1; next }
	$1 - since > max { max = $1 - since }
	END { print max + 0 }' "$w/progress")
samples=$(grep -vc ' x$' "$w/progress")
check "the monitor saw the seq $samples times" test "$samples" -ge $((duration * 2))
check "no 2-second window without a commit (longest: ${gap} ms)" test "$gap" -lt 2000

# --- SIGTERM: drained and gone within shutdown_timeout (5 s) ---------------
t0=$(now_ms)
kill -TERM "$DAEMON_PID"
for i in $(seq 1 70); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	kill -9 "$DAEMON_PID"
	not_ok "SIGTERM: still running 7 s later (killed)"
else
	wait "$DAEMON_PID"
	rc=$?
	check_eq "SIGTERM: exit 0" "$rc" 0
	check "  ... within shutdown_timeout ($(($(now_ms) - t0)) ms < 5000)" \
		test $(($(now_ms) - t0)) -lt 5000
fi
check "no ack-audit violation or engine stall was logged" \
	bash -c "! cat '$w/seglogd.log' '$w/audit' 2>/dev/null | grep -E 'VIOLATION|did not complete|did not finish'"
check "every acknowledged record is on disk once, in order" \
	python3 "$check_py" "$w/data" "$w"/acks/acks-*
summary
