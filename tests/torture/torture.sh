#!/bin/bash
# Crash torture: N iterations of start seglogd (tiny segments, so rotation and
# retention run all the time) → TORTURE_CLIENTS clients (default 3) pipeline
# up to TORTURE_RECORDS records each (default 12000; client.py, their bytes
# from payload.py) and log every ack → SIGKILL at a random moment → restart.
# One iteration in eight is killed during start-up instead (startkill.py:
# mostly aimed at recovery, and classified by what the daemon logged).
#
# Retention is sized to hold two iterations' worst case, so no acknowledged
# record can fall to retention before its last check and every one is
# checked, whole (check.py --all):
#   1. right after its kill (with `seglog verify`: checksums, and nothing
#      wrong but a torn last line);
#   2. after the next start's recovery, before any client writes: every
#      complete line kept byte for byte, the torn tail (if any) and only it
#      quarantined, verify clean;
#   3. after the next iteration's kill once more (a seq reused for another
#      record fails here); the last iteration's after one more kill that
#      follows the final start's recovery.
# Every SIGKILLed daemon must report 137, the final SIGTERMed one 0.
# The kill comes 0.10..0.69 s after every client has connected (HELLO
# answered), so a loaded iteration where no client got a single ack fails;
# one in sixteen is aimed before the first ack instead (0..2 ms), the only
# ones allowed none.
#
# Named crash points (src/basic/crashpoint.h): if seglogd was built with
# --enable-crash-points (probed with SEGLOG_CRASH_AT=probe:1), each iteration
# until every point was hit, then every other one, starts it with SEGLOG_CRASH_AT=POINT:N so that it kills itself
# at POINT, taking the points not hit yet first: the seal steps and
# write-before-sync under load; retention-* under load with max_segments
# lowered for that start so that the first seal removes one segment (only
# when the oldest one holds no record a later check needs); recover-* at a
# start after the torture appended a torn line to current.  Every point must
# be hit; the counts per point are printed.  Without crash points the run is
# the same minus these iterations, and says so (and fails if
# TORTURE_REQUIRE_CRASH_POINTS=1, as scripts/test sets it for its
# sanitizer pass, which is built with them).
# TORTURE_ITERATIONS (default 30).
set -u
shopt -s nullglob
. "${top_srcdir:-.}/tests/lib.sh"

iters=${TORTURE_ITERATIONS:-30}
clients=${TORTURE_CLIENTS:-3}
per_client=${TORTURE_RECORDS:-12000}
here=${top_srcdir:-.}/tests/torture
seg=65536
line_max=400 # bytes: the longest line payload.py's records encode to, rounded up
max_segments=$(((2 * clients * per_client * line_max + seg - 1) / seg + 4))
w=$(test_tmpdir)
cat > "$w/conf" <<CONF
[storage]
segment_size = $seg
max_segments = $max_segments
CONF
mkdir -p "$w/acks"
touch "$w/seglogd.log"
log="$w/seglogd.log"
declare -A kills=()
sum_acked=(0 0 0) sum_checked=(0 0 0)
torn_kills=0 quarantined=0 redo=0 unlogged=0 state= prev=() prev2=() loaded=0 verifies=0
made_torn=0 unlogged_total=0 starts_since=0
from=1 from_prev=1 from_prev2=1 # the first seq of the last loaded iterations

# crash points compiled in? (a build without them ignores SEGLOG_CRASH_AT)
# (in the order first aimed at: a recover-* point needs a loaded kill before it)
cp_points="seal-rename recover-quarantine seal-sync recover-truncate seal-create recover-sync
seal-sync-new write-before-sync retention-unlink retention-unlinked"
mkdir -p "$w/probe"
if SEGLOG_CRASH_AT=probe:1 timeout 20 "$SEGLOGD" --dir "$w/probe/data" --socket "$w/probe/sock" 2>&1 |
	grep -q '^crash point probe #1: killing'; then
	cp_built=1
	trace "seglogd has crash points: every point is aimed at ($(echo $cp_points | wc -w) of them)"
else
	cp_built=0
	# scripts/test's crash-point pass sets this: there, a build that lost
	# its crash points must fail, not pass on the kills alone
	[ "${TORTURE_REQUIRE_CRASH_POINTS:-0}" = 1 ] &&
		fail "TORTURE_REQUIRE_CRASH_POINTS=1, but $SEGLOGD has no crash points (configure --enable-crash-points)"
	trace "seglogd built without --enable-crash-points: no crash-point iterations"
fi
declare -A cp_hits=()
cp_pending=($cp_points)

# cp_pick: the next crash point to aim at, in $point (empty: none fits now)
cp_pick() {
	local p cands=("${cp_pending[@]}")
	point=
	[ "$cp_built" = 1 ] || return 0
	[ ${#cands[@]} -gt 0 ] || cands=($(printf '%s\n' $cp_points | shuf))
	for p in "${cands[@]}" $(printf '%s\n' $cp_points | shuf); do
		case $p in
		# right after a loaded kill, so that the saved state is the last one
		recover-*) [ -n "$state" ] && [ "$starts_since" = 0 ] && [ -e "$w/data/current" ] || continue ;;
		retention-*) retention_ok || continue ;;
		esac
		point=$p
		return 0
	done
}

# retention_ok: the oldest sealed segment ends before from_prev, the first
# seq a later check still needs (so retention may take it)
retention_ok() {
	local segs=("$w"/data/[0-9]*.log)
	[ ${#segs[@]} -ge 3 ] || return 1
	[ "$((10#$(basename "${segs[1]}" .log)))" -le "$from_prev" ]
}

# cp_note OFFSET: counts the crash point the daemon logged since OFFSET;
# sets $hit to its name (empty: none fired)
cp_note() {
	local q
	hit=$(log_since "$1" | sed -n 's/^crash point \([a-z-]*\) #[0-9]*: killing$/\1/p' | tail -n 1)
	[ -n "$hit" ] || return 0
	cp_hits[$hit]=$((${cp_hits[$hit]:-0} + 1))
	local keep=()
	for q in "${cp_pending[@]}"; do [ "$q" = "$hit" ] || keep+=("$q"); done
	cp_pending=("${keep[@]}")
}

# wait_gone PID SECONDS: waits until PID has exited (0) or SECONDS passed (1)
wait_gone() {
	local k
	for k in $(seq 1 $(($2 * 100))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.01
	done
	return 1
}

# log_since OFFSET: the daemon log from byte OFFSET on
log_since() { tail -c +$(($1 + 1)) "$log"; }

# die_with WHAT OFFSET: fails the run, showing the daemon's log since OFFSET
die_with() {
	echo "# daemon log since this start:"
	log_since "$2" | tail -n 30 | sed 's/^/#   /'
	fail "$1"
}

# field NAME FILE: a number from check.py's RESULT line
field() { sed -n "s/^RESULT.* $1=\([0-9]*\).*/\1/p" "$2"; }

# run_check KIND OUT ARGS...: check.py with --all; adds to the totals of
# check kind KIND (0: after the kill, 1: after recovery, 2: a kill later)
run_check() {
	local kind=$1 out=$2; shift 2
	if ! python3 "$here/check.py" "$w/data" --all --format torture "$@" >"$out" 2>&1; then
		cat "$out"; fail "$(basename "$out"): an acknowledged record is not on disk as sent"
	fi
	local a c
	a=$(field acked "$out") c=$(field checked "$out")
	[ "$a" = "$c" ] || { cat "$out"; fail "$(basename "$out"): $c checked of $a acknowledged"; }
	sum_acked[kind]=$((sum_acked[kind] + a))
	sum_checked[kind]=$((sum_checked[kind] + c))
}

# verify_after_kill OFFSET: `seglog verify` after a kill finds no problem
# but, if current does not end with a LF, its one incomplete last line
verify_after_kill() {
	local rc n want=0
	# killed before it created anything: nothing to verify yet
	[ -e "$w/data/dir-id" ] || [ -e "$w/data/current" ] || [ -n "$(ls "$w/data" 2>/dev/null | grep -E '^[0-9]{20}\.log$')" ] ||
		return 0
	[ -s "$w/data/current" ] && [ "$(tail -c 1 "$w/data/current" | od -An -c | tr -d ' ')" != '\n' ] &&
		want=1
	"$SEGLOG" -d "$w/data" verify >"$w/verify.out" 2>&1
	rc=$?
	n=$(sed -n 's/.* \([0-9]*\) problems\{0,1\} (.*/\1/p' "$w/verify.out")
	if [ "$want" = 1 ]; then
		grep -q '/current:[0-9]*: incomplete last line' "$w/verify.out" && [ "$rc" != 0 ] ||
			n=bad
	else
		[ "$rc" = 0 ] || n=bad
	fi
	[ "$n" = "$want" ] || { tail "$w/verify.out"; die_with "verify after a kill: $n problem(s) (rc $rc), expected $want" "$1"; }
	verifies=$((verifies + 1))
}

for i in $(seq 1 "$iters"); do
	off=$(stat -c %s "$log")
	point=
	# every iteration while a point was not hit yet, then every other one
	[ ${#cp_pending[@]} -gt 0 ] || [ $((i % 2)) = 0 ] && cp_pick
	if [ -z "$point" ] && [ $((RANDOM % 8)) = 0 ]; then
		mode=recovery
		[ $((RANDOM % 4)) = 0 ] && mode=uniform
		set -- $(python3 "$here/startkill.py" "$w/data" "$log" $mode $RANDOM -- \
			"$SEGLOGD" -c "$w/conf" --dir "$w/data" --socket "$w/sock")
		[ "${2:-}" = 137 ] || die_with "iteration $i: killed during start-up, status ${2:-none}" "$off"
		kills[start:$1]=$((${kills[start:$1]:-0} + 1))
		# a kill before "Recovered" may repeat the quarantine write next time
		case $1 in before-open|in-recovery) redo=$((redo + 1)) ;; esac
		verify_after_kill "$off"
		starts_since=$((starts_since + 1))
		printf 's'
		continue
	fi
	case $point in
	recover-*)
		# a torn line for recovery to quarantine, in the saved state
		[ "$(tail -c 1 "$w/data/current" | od -An -c | tr -d ' ')" != '\n' ] ||
			torn_kills=$((torn_kills + 1)) made_torn=$((made_torn + 1))
		printf '<14>1 torn line made by the torture, no LF' >> "$w/data/current"
		python3 "$here/check.py" "$w/data" --format torture --from "$from_prev" --save "$state" \
			>/dev/null 2>&1 || die_with "iteration $i: check.py --save after the torn line" "$off"
		starts_since=$((starts_since + 1))
		SEGLOG_CRASH_AT=$point:1 "$SEGLOGD" -c "$w/conf" --dir "$w/data" --socket "$w/sock" >>"$log" 2>&1 &
		DAEMON_PID=$!
		wait_gone $DAEMON_PID 20 2>/dev/null || { kill -9 $DAEMON_PID; die_with "iteration $i: $point not reached in 20 s" "$off"; }
		wait $DAEMON_PID 2>/dev/null
		rc=$?
		cp_note "$off"
		[ "$rc" = 137 ] && [ "$hit" = "$point" ] ||
			die_with "iteration $i: start aimed at $point: status $rc, crash point '${hit}'" "$off"
		kills[crash:$point]=$((${kills[crash:$point]:-0} + 1))
		# past the quarantine write: the next start writes it again; past
		# the truncate: it finds no torn tail, so logs no cut
		case $point in recover-truncate|recover-sync) redo=$((redo + 1)) ;; esac
		[ "$point" = recover-sync ] && unlogged=$((unlogged + 1)) unlogged_total=$((unlogged_total + 1))
		verify_after_kill "$off"
		printf 'r'
		continue
		;;
	esac
	conf=$w/conf crash_env=()
	if [ -n "$point" ]; then
		n=1
		case $point in
		seal-*) n=$((1 + RANDOM % 3)) ;;
		write-before-sync) n=$((1 + RANDOM % 50)) ;;
		retention-*)
			# the first seal of this start removes the oldest segment
			segs=("$w"/data/[0-9]*.log)
			printf '[storage]\nsegment_size = %s\nmax_segments = %s\n' "$seg" "${#segs[@]}" >"$w/conf-ret"
			conf=$w/conf-ret ;;
		esac
		crash_env=(SEGLOG_CRASH_AT=$point:$n)
	fi
	n0=$(grep -c ' ready: ' "$log")
	env "${crash_env[@]}" SEGLOG_ACK_AUDIT=$w/audit "$SEGLOGD" -c "$conf" --dir "$w/data" --socket "$w/sock" \
		>>"$log" 2>&1 &
	DAEMON_PID=$!
	if ! wait_ready "$log" "$n0" 2>/dev/null; then
		wait $DAEMON_PID 2>/dev/null
		rc=$?
		cp_note "$off"
		[ -n "$point" ] && [ "$rc" = 137 ] && [ -n "$hit" ] ||
			die_with "iteration $i: not ready (status $rc)" "$off"
		# killed by its crash point during start-up (retention at start)
		kills[crash:$hit:start]=$((${kills[crash:$hit:start]:-0} + 1))
		verify_after_kill "$off"
		starts_since=$((starts_since + 1))
		printf 'c'
		continue
	fi
	from=$(log_since "$off" | sed -n 's/.* ready: .*next seq \([0-9]*\),.*/\1/p' | tail -n 1)
	# recovery is done and no client writes yet: the last kill's records
	if [ -n "$state" ]; then
		run_check 1 "$w/recovered-$i.out" --from "$from_prev" --recovered "$state" --log <(log_since "$state_off") \
			--redo "$redo" --unlogged-cuts "$unlogged" "${prev[@]}"
		quarantined=$((quarantined + $(field quarantined "$w/recovered-$i.out")))
		"$SEGLOG" -d "$w/data" verify >"$w/verify.out" 2>&1 ||
			{ tail "$w/verify.out"; die_with "iteration $i: verify after recovery" "$off"; }
		verifies=$((verifies + 1))
		redo=0 unlogged=0
	fi
	for c in $(seq 1 "$clients"); do
		python3 "$here/client.py" "$w/sock" "i$i.c$c" "$per_client" "$w/acks/acks-i$i.c$c" \
			>"$w/client-i$i.c$c.out" 2>&1 &
	done
	# the kill moment counts from when every client is connected
	for k in $(seq 1 2000); do
		[ "$(cat "$w"/acks/acks-i$i.c* 2>/dev/null | grep -c '^connected$')" = "$clients" ] && break
		kill -0 $DAEMON_PID 2>/dev/null || break
		sleep 0.01
	done 2>/dev/null
	early=0
	if [ -n "$point" ]; then
		# the daemon kills itself; the fallback kill if it has not in 3 s
		wait_gone $DAEMON_PID 3 2>/dev/null || kill -9 $DAEMON_PID 2>/dev/null
	elif [ $((RANDOM % 16)) = 0 ]; then
		early=1
		sleep "0.00$((RANDOM % 3))"
		kill -9 $DAEMON_PID 2>/dev/null
	else
		# and from the first ack: a slow build (sanitizers) may take longer
		# than the random delay to ack anything (it failed the check below)
		for k in $(seq 1 2000); do
			cat "$w"/acks/acks-i$i.c* 2>/dev/null | grep -qv '^connected$' && break
			kill -0 $DAEMON_PID 2>/dev/null || break
			sleep 0.01
		done 2>/dev/null
		sleep "$(printf "0.%02d" $((10 + RANDOM % 60)))"
		kill -9 $DAEMON_PID 2>/dev/null
	fi
	wait $DAEMON_PID 2>/dev/null # (no "Killed" line)
	rc=$?
	[ "$rc" = 137 ] || die_with "iteration $i: daemon status $rc, not 137 (SIGKILL)" "$off"
	wait # the clients end when the daemon is gone
	! grep -l Traceback "$w"/client-i$i.c*.out >/dev/null ||
		{ cat "$w"/client-i$i.c*.out; die_with "iteration $i: a client failed (not by the kill)" "$off"; }
	hit=
	if [ -n "$point" ]; then
		cp_note "$off"
		[ -z "$hit" ] || kills[crash:$hit]=$((${kills[crash:$hit]:-0} + 1))
		[ -n "$hit" ] || kills[crash:$point:not-reached]=$((${kills[crash:$point:not-reached]:-0} + 1))
	fi
	# a crash point may kill the daemon before a client connects; else
	# every client was connected before the kill
	[ -n "$hit" ] || [ "$(cat "$w"/acks/acks-i$i.c* 2>/dev/null | grep -c '^connected$')" = "$clients" ] ||
		{ cat "$w"/client-i$i.c*.out; die_with "iteration $i: not every client connected before the kill" "$off"; }
	if ! grep -qv "acked 0\$" "$w"/client-i$i.c*.out; then
		# only a kill aimed before the first ack (or a crash point) may
		# leave every client without one
		[ "$early" = 1 ] || [ -n "$hit" ] ||
			die_with "iteration $i: no client got an ack in the 0.1 s or more before the kill" "$off"
		kills[load:before-first-ack]=$((${kills[load:before-first-ack]:-0} + 1))
	elif grep -qv "acked $per_client\$" "$w"/client-i$i.c*.out; then
		kills[load:during]=$((${kills[load:during]:-0} + 1))
	else
		kills[load:after-all-acked]=$((${kills[load:after-all-acked]:-0} + 1))
	fi
	[ "$early" = 0 ] || kills[load:aimed-before-first-ack]=$((${kills[load:aimed-before-first-ack]:-0} + 1))
	loaded=$((loaded + 1)) starts_since=0
	prev2=("${prev[@]}") prev=("$w"/acks/acks-i$i.*)
	from_prev2=$from_prev from_prev=$from
	# right after the kill, before recovery: this iteration's acks, and the
	# previous one's again
	state=$w/state state_off=$(stat -c %s "$log")
	run_check 0 "$w/kill-$i.out" --from "$from" --save "$state" "${prev[@]}"
	[ ${#prev2[@]} = 0 ] || run_check 2 "$w/again-$i.out" --from "$from_prev2" "${prev2[@]}"
	[ "$(field torn "$w/kill-$i.out")" = 0 ] || torn_kills=$((torn_kills + 1))
	verify_after_kill "$off"
	if [ -n "$hit" ]; then printf 'x'; else printf '.'; fi
done
echo
# a clean start on top: recovery of the last kill, then SIGTERM
off=$(stat -c %s "$log")
start_daemon "$w" -c "$w/conf" || die_with "final start failed" "$off"
[ -z "$state" ] || { run_check 1 "$w/recovered-final.out" --from "$from_prev" --recovered "$state" \
	--log <(log_since "$state_off") --redo "$redo" --unlogged-cuts "$unlogged" "${prev[@]}"
	quarantined=$((quarantined + $(field quarantined "$w/recovered-final.out"))); }
# the last loaded iteration's third check: one more kill (idle, after the
# recovery above), its acks checked again, then a start to stop cleanly
if [ -n "$state" ]; then
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID"
	rc=$?
	[ "$rc" = 137 ] || die_with "the daemon SIGKILLed after the final recovery exited $rc, not 137" "$off"
	run_check 2 "$w/again-final.out" --from "$from_prev" "${prev[@]}"
	start_daemon "$w" -c "$w/conf" || die_with "the start after the last kill failed" "$off"
fi
stop_daemon
rc=$?
[ "$rc" = 0 ] || die_with "the SIGTERMed daemon exited $rc, not 0" "$off"
ok "every SIGKILLed daemon reported 137, the SIGTERMed one 0"

trace "iterations $iters: $loaded killed under load, $((iters - loaded)) during start-up; clients per iteration $clients, up to $per_client records each; max_segments $max_segments"
for k in $(printf '%s\n' "${!kills[@]}" | sort); do trace "  kills $k: ${kills[$k]}"; done
trace "right after each kill: ${sum_checked[0]} checked of ${sum_acked[0]} acknowledged (whole records)"
trace "after the next start's recovery: ${sum_checked[1]} checked of ${sum_acked[1]} acknowledged"
trace "after the next iteration's kill: ${sum_checked[2]} checked of ${sum_acked[2]} acknowledged"
check_eq "every acknowledged record was checked right after its kill" "${sum_checked[0]}" "${sum_acked[0]}"
# the previous two iterations are checked after each recovery: every
# iteration's acks at least once
check_eq "every iteration's acks were checked again after the next recovery" \
	"${sum_checked[1]}" "${sum_acked[0]}"
check_eq "every iteration's acks were checked again after the next kill" \
	"${sum_checked[2]}" "${sum_acked[0]}"
check "the checks saw acknowledgements" test "${sum_acked[0]}" -gt 0 -o "$loaded" = 0
trace "seglog verify runs: $verifies (after every kill and every recovery)"
trace "kills that left a torn line: $torn_kills; torn tails quarantined: $quarantined; quarantine files: $(ls "$w/data/quarantine" 2>/dev/null | wc -l); \"Cut a torn tail\" lines: $(grep -c 'Cut a torn tail' "$log")"
trace "torn lines appended by the torture for recover-* points: $made_torn; cuts unlogged (recover-sync kills): $unlogged_total"
check_eq "one \"Cut a torn tail\" line per torn line (but the recover-sync kills')" \
	"$(grep -c 'Cut a torn tail' "$log")" "$((torn_kills - unlogged_total))"
check_eq "every quarantine file is a torn tail a recovery check accounted for" \
	"$(ls "$w/data/quarantine" 2>/dev/null | wc -l)" "$quarantined"
if [ "$cp_built" = 1 ]; then
	for p in $cp_points; do trace "  crash point $p: hit ${cp_hits[$p]:-0} time(s)"; done
	check_eq "every crash point was hit (not hit: ${cp_pending[*]:-none})" "${#cp_pending[@]}" 0
else
	trace "crash points: not compiled in (configure --enable-crash-points), none aimed at"
fi
trace "retention removals: $(grep -c 'Retention' "$log"), seals: $(grep -c 'Sealed ' "$log")"
if "$SEGLOGD" --version | grep -q ack-audit; then
	trace "ack audit: $(grep -c '^ack ' "$w/audit") acknowledgements checked against completed fdatasyncs"
	check "the audit saw acknowledgements" grep -q '^ack ' "$w/audit"
	check_eq "no acknowledgement ran ahead of fdatasync" "$(grep -c VIOLATION "$w/audit")" 0
fi
python3 "$here/check.py" "$w/data" --format torture "$w"/acks/acks-* >"$w/final.out" 2>&1
rc=$?
sed -n 's/^records on disk/# final: records on disk/p' "$w/final.out"
check_eq "the final directory: every acknowledged record retained is whole, gapless, once" "$rc" 0
"$SEGLOG" -d "$w/data" verify >"$w/verify.out" 2>&1
rc=$?
tail -n 1 "$w/verify.out" | sed 's/^/# /'
check_eq "seglog verify is clean" "$rc" 0
summary
