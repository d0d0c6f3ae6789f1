#!/usr/bin/env bash
# Benchmark 2: seglog against its peers on the same input (100-byte lines).
#
#  - s6-log:  `cat FILE | s6-log -b n20 s100000000 t DIR` (no fsync per line;
#             s6-log fsyncs a file only when it rotates it).
#  - rsyslog: `rsyslogd -n` with a private imuxsock socket and one omfile
#             action, sync="off" (its default: written at the end of each
#             batch, never fsynced) and sync="on" (fdatasync of the file and
#             fsync of its directory after each batch).  Fed by
#             `logger -u SOCK -f FILE` (one datagram per line), 1 or 8 loggers.
#  - seglogd: the same loggers into its syslog datagram socket
#             (--syslog-dgram), and `seglog send` (native stream, acks) with
#             1 or 8 senders; durability=fsync unless said otherwise.
#
# For the datagram sinks the time runs from the start of the loggers until
# the sink's files stopped growing (polled every 5 ms; 1.5 s of quiet ends it).
# Every sink's records are counted afterwards; "lost" must be 0.
. "$(dirname "$0")/lib.sh"

N=200000
[ "$FULL" = 1 ] && N=1000000
IN=$WORK/input
gen_input "$N" "$IN"
split -n l/8 -d "$IN" "$WORK/part."
have_rsyslog=0 have_s6=0
command -v rsyslogd >/dev/null && command -v logger >/dev/null && have_rsyslog=1
command -v s6-log >/dev/null && have_s6=1
[ "$have_rsyslog" = 1 ] || say "rsyslogd or logger missing (apt-get install -y rsyslog bsdutils): skipping rsyslog"
[ "$have_s6" = 1 ] || say "s6-log missing (apt-get install -y s6): skipping s6-log"

# loggers SOCK 1|8: feeds the whole input through logger(1) processes.
loggers() {
	local p pids=() rc=0
	if [ "$2" = 1 ]; then
		logger -u "$1" -f "$IN" || rc=$?
	else
		for p in "$WORK"/part.*; do
			logger -u "$1" -f "$p" &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	fi
	[ "$rc" = 0 ] || echo "bench: logger exited $rc" >&2
}

# result CASE T0 T1 COUNT PID: records the figures of one run; PID is the
# daemon (its CPU and peak RSS), or empty.
result() {
	local c=$1 dt
	dt=$(calc "$3 - $2")
	rec "$c" rec/s "$(calc "$N / $dt")"
	rec "$c" MB/s "$(calc "$N * 100 / $dt / 1e6")"
	if [ -n "$5" ]; then
		rec "$c" cpu_us/rec "$(calc "$(proc_cpu "$5") * 1e6 / $N")"
		rec "$c" rss_MiB "$(proc_hwm_mb "$5")"
	fi
	rec "$c" lost "$((N - $4))"
}

run_s6() {
	local d=$WORK/s6 out
	rm -rf "$d"
	out=$(benchlib run --feed "$IN" -- s6-log -b n20 s100000000 t "$d")
	local n
	n=$(cat "$d"/current "$d"/@* 2>/dev/null | grep -c seglog-bench || true)
	rec "s6-log (no fsync)" rec/s "$(calc "$N / $(field wall_s "$out")")"
	rec "s6-log (no fsync)" MB/s "$(calc "$N * 100 / $(field wall_s "$out") / 1e6")"
	rec "s6-log (no fsync)" cpu_us/rec "$(calc "$(field cpu_s "$out") * 1e6 / $N")"
	rec "s6-log (no fsync)" lost "$((N - n))"
}

# run_rsyslog on|off 1|8
run_rsyslog() {
	local sync=$1 nlog=$2 d=$WORK/rs c t0 t1 pid n i
	c="rsyslog sync=$sync, ${nlog} logger"
	rm -rf "$d"
	mkdir -p "$d/out"
	cat >"$d/rsyslog.conf" <<-EOF
		global(workDirectory="$d")
		module(load="imuxsock" SysSock.Use="off")
		input(type="imuxsock" Socket="$d/sock" RateLimit.Interval="0")
		action(type="omfile" file="$d/out/messages" sync="$sync")
	EOF
	rsyslogd -n -f "$d/rsyslog.conf" -i "$d/pid" >"$d/log" 2>&1 &
	pid=$!
	track "$pid"
	for i in $(seq 1 500); do [ -S "$d/sock" ] && break; sleep 0.01; done
	sleep 0.2	# let its start-up message reach the file
	t0=$EPOCHREALTIME
	loggers "$d/sock" "$nlog"
	t1=$(benchlib waitstable "$d/out" 1.5)
	n=$(grep -c seglog-bench "$d/out/messages" || true)
	result "$c" "$t0" "$t1" "$n" "$pid"
	stop "$pid"
}

# run_seglog_dgram 1|8 [DURABILITY]
run_seglog_dgram() {
	local nlog=$1 dur=${2:-fsync} d=$WORK/sd t0 t1 n
	rm -rf "$d"
	start_seglogd "$d" --syslog-dgram "$d/dgram" --durability "$dur"
	t0=$EPOCHREALTIME
	loggers "$d/dgram" "$nlog"
	t1=$(benchlib waitstable "$d/data" 1.5)
	n=$(status_field "$d/sock" records)
	result "seglogd dgram $dur, ${nlog} logger" "$t0" "$t1" "$n" "$SEGLOGD_PID"
	stop "$SEGLOGD_PID"
}

# run_seglog_send 1|8
run_seglog_send() {
	local ns=$1 d=$WORK/ss t0 t1 n p pids=()
	rm -rf "$d"
	start_seglogd "$d"
	t0=$EPOCHREALTIME
	if [ "$ns" = 1 ]; then
		"$SEGLOG" -s "$d/sock" send -t bench <"$IN" || echo "bench: seglog send failed" >&2
	else
		for p in "$WORK"/part.*; do
			"$SEGLOG" -s "$d/sock" send -t bench <"$p" &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || echo "bench: seglog send failed" >&2; done
	fi
	t1=$EPOCHREALTIME
	n=$(status_field "$d/sock" records)
	result "seglog send fsync+acks, ${ns} sender" "$t0" "$t1" "$n" "$SEGLOGD_PID"
	stop "$SEGLOGD_PID"
}

say "peers: $N lines x 100 B, $RUNS runs per case"
for i in $(seq 1 "$RUNS"); do
	if [ "$have_s6" = 1 ]; then say "run $i: s6-log"; run_s6; fi
	for nl in 1 8; do
		if [ "$have_rsyslog" = 1 ]; then
			for s in off on; do
				say "run $i: rsyslog sync=$s, $nl logger"
				run_rsyslog "$s" "$nl"
			done
		fi
		say "run $i: seglogd syslog dgram, $nl logger"
		run_seglog_dgram "$nl"
		say "run $i: seglog send, $nl sender"
		run_seglog_send "$nl"
	done
	say "run $i: seglogd syslog dgram durability=write, 1 logger"
	run_seglog_dgram 1 write
done

echo "== peers: $N lines of 100 B ($(machine_note))"
ratios=()
[ "$have_rsyslog" = 1 ] && ratios+=(--ratio "rec/s:rsyslog sync=on, 1 logger:x rsyslog-sync-1")
[ "$have_s6" = 1 ] && ratios+=(--ratio "rec/s:s6-log (no fsync):x s6-log")
benchlib summary "$RESULTS" "${ratios[@]}"
