# shellcheck shell=bash
# Shared helpers of the bench/ scripts (sourced).  Not part of `make check`.
#
# Environment: BENCH_FULL=1 for the full sizes, RUNS (default 3),
# BUILD (default ../build), BENCH_TMPDIR (default /var/tmp: on disk, not tmpfs),
# BENCH_BIGDIR (an existing ~1 GiB data directory to reuse, left in place).

set -Eeuo pipefail
# set -e alone ends a script without a word: say what failed, and where
trap 'echo "bench: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SEGLOGD=$BUILD/src/seglogd
SEGLOG=$BUILD/src/seglog
ENGINE_WRITER=$BUILD/tests/engine-writer
FULL=${BENCH_FULL:-0}
RUNS=${RUNS:-3}

for _b in "$SEGLOGD" "$SEGLOG"; do
	[ -x "$_b" ] || { echo "bench: $_b missing: build first (cd $BUILD && make -j2)" >&2; exit 1; }
done

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/seglog-bench.XXXXXX")
RESULTS=$WORK/results.tsv
: >"$RESULTS"
CONF=$WORK/seglogd.conf	# empty: the defaults, whatever is installed in /etc
: >"$CONF"
_pids=()

_bench_cleanup() {
	local p
	for p in "${_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap _bench_cleanup EXIT
trap 'exit 130' INT TERM

benchlib() { python3 "$BENCH/benchlib.py" "$@"; }
say() { printf '# %s\n' "$*" >&2; }

# rec CASE METRIC VALUE: one measurement of one run.
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# gen_input N FILE: N lines of exactly 100 bytes (newline included).
gen_input() { [ -s "$2" ] || benchlib gen "$1" "$2"; }

# drop_caches: 0 if the page cache could be dropped (root, not in a container).
drop_caches() { sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; }

# track PID / untrack PID: processes the EXIT trap must stop.
track() { _pids+=("$1"); }
untrack() {
	local p keep=()
	for p in "${_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	_pids=("${keep[@]}")
}

# stop PID: SIGTERM, wait, untrack.
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; untrack "$1"; }

# start_seglogd DIR [seglogd options...]: fresh daemon on DIR/data with socket
# DIR/sock, log DIR/seglogd.log; sets SEGLOGD_PID once it is ready.
start_seglogd() {
	local d=$1; shift
	mkdir -p "$d"
	# SEGLOGD_PREFIX: a command that execs it, e.g. "taskset -c 1" (same pid)
	# shellcheck disable=SC2086
	${SEGLOGD_PREFIX:-} "$SEGLOGD" -c "$CONF" --dir "$d/data" --socket "$d/sock" "$@" >"$d/seglogd.log" 2>&1 &
	SEGLOGD_PID=$!
	track "$SEGLOGD_PID"
	for _ in $(seq 1 1000); do
		grep -q ' ready: ' "$d/seglogd.log" && return 0
		kill -0 "$SEGLOGD_PID" 2>/dev/null || break
		sleep 0.01
	done
	cat "$d/seglogd.log" >&2
	echo "bench: seglogd did not start" >&2
	exit 1
}

# status_field SOCK KEY...: values from `seglog status -o json`, one per line.
status_field() {
	local sock=$1; shift
	"$SEGLOG" -s "$sock" status -o json |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print("\n".join(str(d[k]) for k in sys.argv[1:]))' "$@"
}

# proc_cpu PID: user+system CPU seconds of a live process (all its threads).
proc_cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
# proc_hwm_mb PID: peak resident set size in MiB.
proc_hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# field NAME LINE: the value after NAME in a "name value name value" line.
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

# bigdir: prints the path of a data directory whose `current` is ~1 GiB
# (64 MiB unless BENCH_FULL=1), one segment, made with tests/engine-writer.
bigdir() {
	if [ -n "${BENCH_BIGDIR:-}" ]; then
		echo "$BENCH_BIGDIR"
		return
	fi
	local bytes=$((64 << 20)) d=$WORK/big
	[ "$FULL" = 1 ] && bytes=$((1 << 30))
	if [ ! -d "$d" ]; then
		[ -x "$ENGINE_WRITER" ] || { echo "bench: build $ENGINE_WRITER (make tests/engine-writer)" >&2; exit 1; }
		say "creating a $((bytes >> 20)) MiB data directory (engine-writer, durability=write)"
		"$ENGINE_WRITER" write "$d" $((bytes / 175)) write $((2 << 30)) >/dev/null 2>&1
	fi
	echo "$d"
}

# machine_note: one line that says where the figures come from.
machine_note() {
	echo "machine: $(nproc) CPUs, $(uname -r), $(findmnt -no FSTYPE,SOURCE -T "$WORK" | tr -s ' ' ' '), noisy shared VM, load $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS runs"
}

# save_results NAME: with BENCH_OUT set (bench/run-all), keeps this script's
# measurements as $BENCH_OUT/NAME.tsv for bench/report.py.
save_results() { [ -z "${BENCH_OUT:-}" ] || cp "$RESULTS" "$BENCH_OUT/$1.tsv"; }
