#!/bin/bash
# Throughput of seglog ship against `kcat -P` in the same run, to a
# one-broker mock cluster (docs/shipping.md).  Not a test (never timed):
#   top_builddir=BUILD top_srcdir=SRC tests/kafka/bench.sh [RECORDS]
# Fills a data directory with RECORDS 128-byte messages through seglogd,
# then ships it from scratch with `seglog ship --once` (which exits once
# Kafka confirmed everything and the cursor holds the last seq);
# kcat -P produces the same values (the -o json lines, key = host id, same
# compression, idempotence and acks) from a file and exits once everything
# is delivered; a second kcat run adds three headers of the same sizes
# (kcat -H sets the same ones on every message), since the shipper sends
# host, dir_id and seq with each.  Each runs RUNS (5) times, interleaved;
# the medians are compared (wall, CPU, peak RSS).  Then ingest through
# `seglog send` alone and with a shipper following (SCHED_IDLE, as
# seglog-ship.service runs it; the mock cluster too, as a remote broker
# would not share the CPU), RUNS times each, interleaved, medians.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"
N=${1:-200000}
w=$(test_tmpdir)
start_mock "$w" 1 || fail "mock"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd"
msg=$(head -c 100 /dev/zero | tr '\0' m)
seq -w 1 "$N" | sed "s/\$/ $msg/" | cut -c1-128 | "$SEGLOG" -s "$w/a/sock" send -t bench ||
	fail "send"
stop_daemon
last=$(last_seq "$w/a")
"$SEGLOG" -d "$w/a/data" cat -o json | sed 's/^/bench-host\t/' >"$w/values"
bytes=$(stat -c %s "$w/values")
now() { date +%s.%N; }
RUNS=${RUNS:-5}
# run NAME COMMAND...: one timed run; appends "NAME wall cpu rss_kb" to $w/runs
run() {
	local name=$1 t0 t1; shift
	t0=$(now)
	/usr/bin/time -o "$w/t" -f '%U %S %M' "$@" >>"$w/bench-$name.log" 2>&1 || fail "$name failed: $(tail -n 3 "$w/bench-$name.log")"
	t1=$(now)
	echo "$name $(echo "$t1 - $t0" | bc) $(tail -n 1 "$w/t" | awk '{printf "%.2f %d", $1 + $2, $3}')" >>"$w/runs"
}
: >"$w/runs"
for r in $(seq 1 "$RUNS"); do
	rm -f "$w/cursor-bench-host"
	run ship "$SHIP_BIN" -d "$w/a/data" ship --brokers "$BROKERS" --topic "ship$r" \
		--cursor-file "$w/cursor-bench-host" --host-id bench-host --once
	[ "$(cursor_seq "$w/cursor-bench-host")" = "$last" ] || fail "ship --once stopped short"
	run kcat kcat -P -b "$BROKERS" -t "kcat$r" -K $'\t' -z zstd -X enable.idempotence=true \
		-X acks=all -l "$w/values"
	run kcat-H kcat -P -b "$BROKERS" -t "kcath$r" -K $'\t' -z zstd -X enable.idempotence=true \
		-X acks=all -H host=bench-host -H dir_id="$(cat "$w/a/data/dir-id")" -H seq="$last" \
		-l "$w/values"
	echo "# run $r of $RUNS: $(tail -n 3 "$w/runs" | awk '{printf "%s %s s; ", $1, $2}')" >&2
done
echo "records $last, $((bytes / 1024 / 1024)) MiB of -o json values; medians of $RUNS interleaved runs"
# median NAME FIELD [FILE]: the median of one column of NAME's runs
median() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "${3:-$w/runs}" | sort -g |
	awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=$(median kcat 2)
for name in ship kcat kcat-H; do
	wall=$(median "$name" 2)
	printf '%-8s %.3f s wall (%.0f records/s), %.2f s CPU, peak RSS %d MiB, %.2fx kcat -P\n' "$name" \
		"$wall" "$(echo "$last / $wall" | bc -l)" "$(median "$name" 3)" \
		"$(( $(median "$name" 4 | cut -d. -f1) / 1024 ))" "$(echo "$wall / $base" | bc -l)"
done

# Ingest with and without a shipper following the same directory (as
# seglog-ship.service runs it, SCHED_IDLE): N records through `seglog send`
# (acks, fsync) into a fresh daemon each time, interleaved, medians.
ingest_once() { # DIR WITH_SHIP: prints the seconds the send took
	local d=$1 ship=$2 t0 t1 sp=
	rm -rf "$d"; mkdir -p "$d"
	start_daemon "$d" || fail "seglogd"
	if [ "$ship" = 1 ]; then
		chrt -i 0 "$SHIP_BIN" -d "$d/data" ship --brokers "$BROKERS" --topic "ingest$RANDOM" \
			--cursor-file "$d/cursor" --host-id ingest-host >>"$w/ship-ingest.log" 2>&1 &
		sp=$!
	fi
	t0=$(now)
	"$SEGLOG" -s "$d/sock" send -t bench <"$w/input" || fail "send"
	t1=$(now)
	if [ -n "$sp" ]; then
		# it must keep up once ingest stops: everything shipped
		for _ in $(seq 1 600); do
			[ "$(cursor_seq "$d/cursor")" = "$N" ] && break
			sleep 0.1
		done
		[ "$(cursor_seq "$d/cursor")" = "$N" ] || fail "the shipper did not catch up"
		kill -TERM "$sp"; wait "$sp"
	fi
	stop_daemon
	echo "$t1 - $t0" | bc
}
seq -w 1 "$N" | sed "s/\$/ $msg/" | cut -c1-128 >"$w/input"
# the mock cluster stands in for a remote broker: on this host it must not
# compete with the daemon either (nice applies per thread in Linux)
for t in /proc/"$MOCK_PID"/task/*; do renice -n 10 -p "${t##*/}" >/dev/null; done
: >"$w/ingest"
for r in $(seq 1 "$RUNS"); do
	a=$(ingest_once "$w/i" 0); b=$(ingest_once "$w/i" 1)
	echo "alone $a" >>"$w/ingest"; echo "with $b" >>"$w/ingest"
	echo "# run $r of $RUNS: ingest alone $a s, with the shipper following $b s" >&2
done
alone=$(median alone 2 "$w/ingest"); with=$(median with 2 "$w/ingest")
printf 'ingest alone: %.3f s (%.0f records/s); with seglog ship following: %.3f s (%.0f records/s), %.2fx\n' \
	"$alone" "$(echo "$N / $alone" | bc -l)" "$with" "$(echo "$N / $with" | bc -l)" \
	"$(echo "$with / $alone" | bc -l)"
stop_mock
