#!/usr/bin/env bash
# Benchmark: seglogd against its peers, every one fed the same bytes on the
# same kind of socket by bench/loadgen (issue #14, docs/bench.md "Peers").
#
# Stream load: 8 clients x 250,000 RFC 3164 lines of 128 message bytes
# over a Unix stream socket, newline framing, 64 KiB writes
# (loadgen -m stream), into
#  - s6-log and svlogd, which read only stdin: through bench/relay (one
#    process, socket -> pipe, whole lines only; its CPU is shown apart);
#  - rsyslog: imptcp on a Unix path, omfile sync="off" and sync="on";
#  - syslog-ng: unix-stream(), file() fsync(no) and fsync(yes);
#  - seglogd: its --syslog-stream socket, and the native protocol with acks
#    (loadgen -m native), durability write and fsync.
# Datagram load: 1 client x 400,000 lines, one per datagram
# (loadgen -m dgram, 64 per sendmmsg), into rsyslog's imuxsock (sync="off")
# and seglogd's --syslog-dgram (fsync).
#
# The time runs from loadgen's start until the last record is in the sink:
# for seglogd, until its durable seq covers every record (--status-socket;
# native: the last ack); for the peers, until bench/benchlib.py waitlines,
# which reads what the sink appends to its file(s) every 5 ms and counts
# the complete lines holding "lg C=", has seen all of them (or nothing new
# for 5 s: then records are missing, and loadverify says which).  Daemon CPU
# is utime + stime from /proc/PID/stat across the load (all threads), peak
# RSS is VmHWM.  Every run's output is checked by bench/loadverify: lost,
# duplicated, corrupt.  The peers' configurations are bench/peers/*.
#
# Cases run interleaved, RUNS rounds (3), the order rotated each round.
# Missing peers are left out with a message (bench/deps installs them).
# PEERS_CLIENTS / PEERS_RECORDS / PEERS_DGRAMS shrink the load for a try;
# PEERS_CASES (a regex against the case functions, e.g. 's6|rsyslog on')
# keeps only some.
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

LOADGEN=$BUILD/bench/loadgen
LOADVERIFY=$BUILD/bench/loadverify
RELAY=$BUILD/bench/relay
for _b in "$LOADGEN" "$LOADVERIFY" "$RELAY"; do
	[ -x "$_b" ] || { echo "bench: $_b missing: build first (cd $BUILD && make -j2)" >&2; exit 1; }
done
PEERS=$BENCH/peers
SNG_ROOT=${BENCH_CACHE:-/var/tmp/seglog-bench-cache}/syslog-ng
K=${PEERS_CLIENTS:-8}
M=${PEERS_RECORDS:-250000}
DM=${PEERS_DGRAMS:-400000}
SIZE=128
VERIFY=$WORK/verify.tsv	# case <TAB> loadverify's summary line, one per run
: >"$VERIFY"

have_s6=0 have_svlogd=0 have_rsyslog=0 have_sng=0
command -v s6-log >/dev/null && have_s6=1
command -v svlogd >/dev/null && have_svlogd=1
command -v rsyslogd >/dev/null && have_rsyslog=1
[ -x "$SNG_ROOT/usr/sbin/syslog-ng" ] && have_sng=1
[ "$have_s6" = 1 ] || say "s6-log missing (bench/deps installs s6): skipping it"
[ "$have_svlogd" = 1 ] || say "svlogd missing (bench/deps installs runit): skipping it"
[ "$have_rsyslog" = 1 ] || say "rsyslogd missing (bench/deps installs rsyslog): skipping it"
[ "$have_sng" = 1 ] || say "no syslog-ng in $SNG_ROOT (bench/deps unpacks it there): skipping it"

# syslog_ng ARGS...: the unpacked syslog-ng, with its libraries and modules.
syslog_ng() {
	LD_LIBRARY_PATH=$SNG_ROOT/usr/lib/syslog-ng:$SNG_ROOT/usr/lib/x86_64-linux-gnu \
		exec "$SNG_ROOT/usr/sbin/syslog-ng" --module-path="$SNG_ROOT/usr/lib/syslog-ng/3.38" "$@"
}

# conf TEMPLATE OUT [KEY=VALUE...]: bench/peers/TEMPLATE with @DIR@ and
# each @KEY@ replaced.
conf() {
	local t=$1 out=$2 kv args=(-e "s|@DIR@|$D|g")
	shift 2
	for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${args[@]}" "$PEERS/$t" >"$out"
}

# wait_socket PATH PID WHAT: until the daemon PID made its socket.
wait_socket() {
	local _
	for _ in $(seq 1 500); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.01
	done
	cat "$D/daemon.log" >&2 2>/dev/null || true
	echo "bench: $3 did not create $1 (its log is above)" >&2
	exit 1
}

# start_daemon WHAT CMD...: runs CMD in the background (DPID), its output
# in $D/daemon.log, until it has made its socket $D/sock.
start_daemon() {
	local what=$1
	shift
	"$@" >"$D/daemon.log" 2>&1 &
	DPID=$!
	track "$DPID"
	wait_socket "$D/sock" "$DPID" "$what"
}

# The case being run: its directory D, the daemon's PID DPID, the relay's
# RPID (or empty) and the path OUT the records land in (empty: seglogd).
D="" DPID="" RPID="" OUT=""

# load CASE MODE CLIENTS RECORDS SOCK [loadgen options...]: one run of the
# load against the started case; records rec/s, MB/s, CPU and RSS.
load() {
	local c=$1 mode=$2 k=$3 m=$4 sock=$5 t0 t1 cpu0 cpu1 n got
	shift 5
	n=$((k * m))
	cpu0=$(proc_cpu "$DPID")
	t0=$EPOCHREALTIME
	"$LOADGEN" -q -m "$mode" -c "$k" -n "$m" -b "$SIZE" -s "$sock" "$@" >"$D/loadgen.out" || {
		echo "bench: $c: loadgen failed ($(cat "$D/loadgen.out"))" >&2
		exit 1
	}
	if [ -n "$OUT" ]; then
		read -r t1 got <<<"$(benchlib waitlines "$OUT" "$n")"
		[ "$got" = "$n" ] || say "$c: $got of $n records arrived"
	else
		t1=$EPOCHREALTIME
	fi
	cpu1=$(proc_cpu "$DPID")
	rec "$c" rec/s "$(calc "$n / ($t1 - $t0)")"
	rec "$c" MB/s "$(calc "$n * $SIZE / ($t1 - $t0) / 1e6")"
	rec "$c" cpu_us/rec "$(calc "($cpu1 - $cpu0) * 1e6 / $n")"
	rec "$c" rss_MiB "$(proc_hwm_mb "$DPID")"
}

# finish CASE CLIENTS RECORDS: stops the relay (recording its CPU) and the
# daemon, then verifies what was delivered.
finish() {
	local c=$1 k=$2 m=$3 r
	if [ -n "$RPID" ]; then
		kill -0 "$RPID" 2>/dev/null || say "$c: the relay had exited before the end"
		stop "$RPID"
		r=$(grep '^relay ' "$D/relay.err") ||
			{ cat "$D/relay.err" >&2; echo "bench: $c: bench/relay did not report" >&2; exit 1; }
		rec "$c" relay_us/rec "$(calc "($(kv user_s "$r") + $(kv sys_s "$r")) * 1e6 / ($k * $m)")"
	fi
	stop "$DPID"
	if [ -n "$OUT" ]; then
		find "$OUT" -type f -print0 | sort -z | xargs -0 cat
	else
		"$SEGLOG" -d "$D/data" cat -t lg
	fi | "$LOADVERIFY" -k "$k" -m "$m" >"$D/verify.out" 2>&1 || true
	printf '%s\t%s\n' "$c" "$(tail -n 1 "$D/verify.out")" >>"$VERIFY"
	grep -q ': 0 lost, 0 duplicated, 0 corrupt$' "$D/verify.out" ||
		{ say "$c: verification failed:"; cat "$D/verify.out" >&2; }
	rm -rf "$D"
}

# stream_run CASE: the stream load on $D/sock, then finish.
stream_run() {
	load "$1" stream "$K" "$M" "$D/sock"
	finish "$1" "$K" "$M"
}

# kv KEY LINE: the value of KEY=VALUE in a line of such pairs.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

fresh() { D=$WORK/case; rm -rf "$D"; mkdir -p "$D/out"; RPID="" OUT=""; }

# relay_into NAME CMD...: bench/relay on $D/sock piped into CMD (a logger
# that reads stdin), both tracked; DPID is the logger.
relay_into() {
	mkfifo "$D/pipe"
	"$RELAY" -s "$D/sock" >"$D/pipe" 2>"$D/relay.err" &
	RPID=$!
	track "$RPID"
	"$@" <"$D/pipe" >"$D/daemon.log" 2>&1 &
	DPID=$!
	track "$DPID"
	wait_socket "$D/sock" "$RPID" relay
}

case_s6() {
	local c="s6-log (relay, no fsync)"
	fresh
	OUT=$D/out
	# t: a TAI64N stamp per line; s268435455: s6-log's largest `current`
	relay_into s6-log -b n20 s268435455 t "$OUT"
	stream_run "$c"
}

case_svlogd() {
	local c="svlogd (relay, no fsync)"
	fresh
	OUT=$D/out
	cp "$PEERS/svlogd.config" "$OUT/config"	# s0: never rotate
	# -tt: a UTC stamp per line; -b: read 64 KiB at a time (default 1 KiB)
	relay_into svlogd -tt -b 65536 "$OUT"
	stream_run "$c"
}

# case_rsyslog off|on
case_rsyslog() {
	local c="rsyslog imptcp, sync=$1"
	fresh
	OUT=$D/out/messages
	conf rsyslog-stream.conf "$D/rsyslog.conf" SYNC="$1"
	start_daemon rsyslogd rsyslogd -n -f "$D/rsyslog.conf" -i "$D/pid"
	stream_run "$c"
}

# case_sng no|yes
case_sng() {
	local c="syslog-ng, fsync($1)"
	fresh
	OUT=$D/out/messages
	conf syslog-ng.conf "$D/syslog-ng.conf" FSYNC="$1"
	start_daemon syslog-ng \
		syslog_ng -F --no-caps -f "$D/syslog-ng.conf" -R "$D/persist" -p "$D/pid" -c "$D/ctl"
	stream_run "$c"
}

# case_seglogd stream|native write|fsync [baseline]: with baseline, the
# seglogd of $BENCH_BASELINE's build (the "before" of a speed change).
case_seglogd() {
	local c SEGLOGD=$SEGLOGD who=seglogd
	if [ "${3:-}" = baseline ]; then
		SEGLOGD=$BENCH_BASELINE/src/seglogd
		who="seglogd baseline"
	fi
	fresh
	if [ "$1" = stream ]; then
		c="$who syslog stream, $2"
		start_seglogd "$D" --durability "$2" --syslog-stream "$D/stream"
		DPID=$SEGLOGD_PID
		load "$c" stream "$K" "$M" "$D/stream" --status-socket "$D/sock"
	else
		c="$who native+acks, $2"
		start_seglogd "$D" --durability "$2"
		DPID=$SEGLOGD_PID
		load "$c" native "$K" "$M" "$D/sock"
	fi
	finish "$c" "$K" "$M"
}

case_dgram_rsyslog() {
	local c="dgram: rsyslog imuxsock, sync=off"
	fresh
	OUT=$D/out/messages
	conf rsyslog-dgram.conf "$D/rsyslog.conf"
	start_daemon rsyslogd rsyslogd -n -f "$D/rsyslog.conf" -i "$D/pid"
	load "$c" dgram 1 "$DM" "$D/sock"
	finish "$c" 1 "$DM"
}

case_dgram_seglogd() {
	local c="dgram: seglogd, fsync"
	fresh
	start_seglogd "$D" --syslog-dgram "$D/dgram"
	DPID=$SEGLOGD_PID
	load "$c" dgram 1 "$DM" "$D/dgram" --status-socket "$D/sock"
	finish "$c" 1 "$DM"
}

cases=()
[ "$have_s6" = 1 ] && cases+=(case_s6)
[ "$have_svlogd" = 1 ] && cases+=(case_svlogd)
[ "$have_rsyslog" = 1 ] && cases+=("case_rsyslog off" "case_rsyslog on")
[ "$have_sng" = 1 ] && cases+=("case_sng no" "case_sng yes")
cases+=("case_seglogd stream write" "case_seglogd stream fsync"
	"case_seglogd native write" "case_seglogd native fsync")
# BENCH_BASELINE=DIR: another build's seglogd too, e.g. main before a change
if [ -n "${BENCH_BASELINE:-}" ]; then
	[ -x "$BENCH_BASELINE/src/seglogd" ] ||
		{ echo "bench: BENCH_BASELINE=$BENCH_BASELINE has no src/seglogd: build it there first" >&2; exit 1; }
	cases+=("case_seglogd stream fsync baseline" "case_seglogd native fsync baseline")
fi
[ "$have_rsyslog" = 1 ] && cases+=(case_dgram_rsyslog)
cases+=(case_dgram_seglogd)
if [ -n "${PEERS_CASES:-}" ]; then	# a regex, e.g. PEERS_CASES='s6|rsyslog'
	for j in "${!cases[@]}"; do [[ ${cases[$j]} =~ $PEERS_CASES ]] || unset "cases[$j]"; done
	cases=("${cases[@]}")
fi

say "peers: stream $K x $M x $SIZE B, datagrams 1 x $DM; ${#cases[@]} cases, $RUNS rounds"
for i in $(seq 1 "$RUNS"); do
	off=$(((i - 1) * ${#cases[@]} / RUNS))
	for j in $(seq 0 $((${#cases[@]} - 1))); do
		k=${cases[$(((j + off) % ${#cases[@]}))]}
		say "round $i: ${k#case_}"
		$k
	done
done

echo "== peers: stream $K x $M x $SIZE B, datagrams 1 x $DM ($(machine_note))"
benchlib summary "$RESULTS" \
	--ratio "rec/s:s6-log (relay, no fsync):x s6-log" \
	--ratio "rec/s:rsyslog imptcp, sync=on:x rsyslog-sync"
echo
echo "verification (bench/loadverify, every run):"
sort -s -t "$(printf '\t')" -k1,1 "$VERIFY" | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)\t/\2: \1 x /'
save_results peers
if [ -n "${BENCH_OUT:-}" ]; then
	cp "$VERIFY" "$BENCH_OUT/peers-verify.tsv"
	echo "$K $M $SIZE $DM" >"$BENCH_OUT/peers-load.txt"
fi
