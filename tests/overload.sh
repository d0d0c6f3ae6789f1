#!/bin/bash
# Overload and hostile clients (issue 7; limits of issue 4): 1,000 concurrent
# native clients; clients that stall in the middle of a frame; clients that
# never read their acks; garbage; oversized frames; a syslog datagram flood
# beyond the rate limit; connection churn; EMFILE.  A well-behaved client
# (tests/hostile/prober.py) sends one record at a time throughout: its p99
# ack latency under each attack must stay within 10x of its idle value
# (median of 3 repetitions: the machine is noisy), the daemon's RSS within the
# bound docs/design.md derives from the configuration -- the default one,
# which must keep it under PRODUCT's 32 MiB -- and every hostile client must
# meet the outcome docs/protocol.md documents for it.
#
# OVERLOAD_FULL=1: 1 GiB of garbage and of oversized frames, 100,000
# connect/close per repetition (default: 64 MiB and 10,000).
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree

H=${top_srcdir:-.}/tests/hostile
PY=python3
REPS=3
if [ "${OVERLOAD_FULL:-0}" = 1 ]; then
	GARBAGE=$((1 << 30)) CHURN=100000 WINDOW_MS=1500
else
	GARBAGE=$((64 << 20)) CHURN=10000 WINDOW_MS=1500
fi
NCLIENTS=1000 NREC=50

# 1,000 clients (and as many sockets in the client process) need descriptors
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge 2400 ] || skip "RLIMIT_NOFILE $(ulimit -n) is too low for $NCLIENTS clients"
command -v jq >/dev/null || skip "jq is needed"

# --- the configuration, and the memory bound it implies (docs/design.md) ---
# Every key that enters the memory bound is at its default (memory_budget,
# memory_limit, batch_max, max_record, client_buffer, max_clients).  Two
# policy keys are not: hello_timeout, so half-HELLOs are timed out within
# the run, and ack_queue_max, so clients that never read are dropped within
# it -- their queues are charged to memory_budget, so the bound does not
# depend on it.  The last phase runs a daemon with no configuration at all.
# BURST per second is the rate of seglogd.conf(5)'s example (10000 per 10 s);
# the prober, a uid of its own, stays under it (one record per 1.25 ms at most)
MAX_CLIENTS=1024 ACK_QUEUE_K=16 BURST=1000 PROBE_MS=1.25
w=$(test_tmpdir)
cat > "$w/conf" <<CONF
[server]
ack_queue_max = ${ACK_QUEUE_K}K
hello_timeout = 2s
CONF
# RSS <= 6 MiB + 16 x (max_record + 4 KiB) + batch_max + (4 x max_record + 4 KiB)
#        + memory_budget + max_clients x 6 KiB, with the defaults (64K, 1M, 16M, 1024)
BOUND_KB=$((6 * 1024 + 16 * (64 + 4) + 1024 + 4 * 64 + 4 + 16 * 1024 + 16 + MAX_CLIENTS * 6))
trace "RSS bound from the default config: 6 MiB + 16 x 68 KiB + 1 MiB + 260 KiB + 16 MiB +" \
	"$MAX_CLIENTS x 6 KiB = $BOUND_KB KiB"
check "  ... which is within PRODUCT's 32 MiB" test "$BOUND_KB" -le 32768

start_daemon "$w" -c "$w/conf" --syslog-dgram "$w/syslog.sock" || fail "daemon did not start"
pid=$DAEMON_PID
$PY "$H/rss.py" "$pid" "$w/rss" &
rss_pid=$!
$PY "$H/prober.py" "$w/sock" "$w/samples" --interval-ms $PROBE_MS > "$w/prober.json" &
probe_pid=$!
sleep 0.5

now_ns() { date +%s%N; }
# phase NAME REP MIN_MS CMD...: runs CMD (again and again until MIN_MS have
# passed, so the prober gets enough samples), its JSON lines into
# $w/NAME.json, and logs the window for figures.py.
phase() {
	local name=$1 rep=$2 min=$3 t0 end
	shift 3
	t0=$(now_ns)
	end=$((t0 + min * 1000000))
	while :; do
		"$@" >> "$w/$name.json" || echo '{"helper_failed": true}' >> "$w/$name.json"
		[ "$(now_ns)" -ge "$end" ] && break
	done
	echo "$name $rep $t0 $(now_ns)" >> "$w/phases"
}
# js NAME FILTER: jq over every JSON line of a phase (slurped)
js() { jq -s -r "$2" "$w/$1.json"; }
attack() { $PY "$H/attack.py" "$@"; }
alive() { kill -0 "$pid" 2>/dev/null; }

phase idle 1 2000 true

# --- (a) 1,000 concurrent native clients -----------------------------------
phase many 1 0 $PY "$H/many.py" "$w/sock" $NCLIENTS $NREC --extra 150 --pid "$pid"
trace "many: $(js many '.[0] | del(.first_errors)' | tr -d '\n ')"
check_eq "$NCLIENTS clients connected at once, every one got HELLO_OK" \
	"$(js many '.[0].hello_ok')" $NCLIENTS
check_eq "  ... every one had its $NREC records acknowledged" "$(js many '.[0].fully_acked')" $NCLIENTS
check_eq "  ... with no error and no ack out of order" "$(js many '.[0].errors')" 0
check_eq "  ... the daemon closed each after its SHUT_WR" \
	"$(js many '.[0].closed_by_daemon_after_shutdown')" $NCLIENTS
check_eq "past max_clients ($MAX_CLIENTS with the prober): exactly the free slots accepted" \
	"$(js many '.[0].extra_accepted')" $((MAX_CLIENTS - NCLIENTS - 1))
check_eq "  ... the rest got ERROR(0, too-many-clients)" \
	"$(js many '.[0].extra_rejected_too_many')" $((150 - (MAX_CLIENTS - NCLIENTS - 1)))
check_eq "  ... and nothing else happened to any of them" "$(js many '.[0].extra_other')" 0
check_eq "each of the $((NCLIENTS * NREC)) records is on disk exactly once" \
	"$(records "$w" | grep ' many - - - - - m' | awk '{print $13}' | sort -u | wc -l) $(records "$w" | grep -c ' many - - - - - m')" \
	"$((NCLIENTS * NREC)) $((NCLIENTS * NREC))"
check_eq "the union is gapless" \
	"$(records "$w" | awk 'BEGIN{e=1} {if ($2 != e) {print "gap at " e; exit} e++} END{print "ok"}')" ok
phase idle 2 2000 true

# --- (b) hostile clients, each repeated REPS times --------------------------
for r in $(seq 1 $REPS); do
	# 200 clients stall in the middle of a 60 KB frame, 20 in the middle of HELLO
	phase halfframe "$r" 0 attack "$w/sock" halfframe 200 20 2.5
	# 2 clients never read their acks (ack_queue_max = 16K)
	phase slowreader "$r" 0 attack "$w/sock" slowreader 2 10
	phase garbage "$r" $WINDOW_MS attack "$w/sock" garbage $GARBAGE
	phase oversize "$r" $WINDOW_MS attack "$w/sock" oversize $GARBAGE
done

check_eq "half a frame: no stalled client got a reply for its partial frame" \
	"$(js halfframe 'map(.stallers_replied_before_finishing) | add')" 0
check_eq "  ... each one's frame completed after the stall was acknowledged (kept, not lost)" \
	"$(js halfframe 'map(.stallers_acked_after_finishing) | add')" $((200 * REPS))
check_eq "half a HELLO: closed with ERROR(0, malformed) (hello_timeout)" \
	"$(js halfframe 'map(.nohello_closed_with_malformed) | add')" $((20 * REPS))
check "  ... after hello_timeout = 2 s, not before, and within 2 s after ($(js halfframe \
	'[(map(.nohello_close_s_min) | min), (map(.nohello_close_s_max) | max)] | map(tostring) | join("..")') s)" \
	test "$(js halfframe '((map(.nohello_close_s_min) | min) >= 1.9) and ((map(.nohello_close_s_max) | max) < 4.0)')" = true
check_eq "the $((200 * REPS)) completed 60 KB records are on disk" "$(records "$w" | grep -c ' half - - - - - hhhh')" \
	$((200 * REPS))

check_eq "clients that never read acks are all dropped (ack_queue_max = ${ACK_QUEUE_K}K)" \
	"$(js slowreader 'map(.dropped) | add')" $((2 * REPS))
trace "slow readers dropped after $(js slowreader '[.[].per_client[].dropped_s] | map(tostring) | join(", ")') s"
missing=0
for p in $(js slowreader '.[].pid'); do
	grep -q "Dropping client pid $p uid .*unread (ack_queue_max" "$w/seglogd.log" || missing=$((missing + 1))
done
check_eq "  ... each with a logged reason naming its pid and ack_queue_max" "$missing" 0
check_eq "  ... each told so with ERROR(0, slow-reader) before the close (docs/protocol.md)" \
	"$(js slowreader 'map(.got_slow_reader_error) | add')" $((2 * REPS))
lost=0 beyond=0
for p in $(js slowreader '.[].pid'); do
	for k in 0 1; do
		acked=$(js slowreader ".[] | select(.pid == $p) | .per_client[$k].max_acked_recno")
		have=$(records "$w" | grep -c " slow - - - - - slow-$p-$k-")
		[ "$have" -ge "$acked" ] || lost=$((lost + 1))
		beyond=$((beyond + have - acked))
	done
done
check_eq "  ... every record a slow reader saw acknowledged is on disk" "$lost" 0
trace "slow readers: $beyond records stored beyond the last ACK they could read"

check_eq "garbage: every connection got ERROR(0, malformed) and was closed" \
	"$(js garbage 'map(.other_outcome) | add')" 0
trace "garbage: $(js garbage 'map(.sent) | add') bytes in $(js garbage 'map(.connections) | add') connections; at most $(js garbage 'map(.max_per_conn) | max') bytes taken per connection; closed within $(js garbage 'map(.max_close_ms) | max') ms"
check "  ... at least $GARBAGE bytes sent per repetition" \
	test "$(js garbage "map(.sent) | add >= $GARBAGE * $REPS")" = true
check "  ... closed quickly (< 1 s after its garbage) and after < 1 MiB" \
	test "$(js garbage '((map(.max_close_ms) | max) < 1000) and ((map(.max_per_conn) | max) < 1048576)')" = true

check_eq "oversized frames: ERROR(n, too-large) for each 16 MiB frame" \
	"$(js oversize 'map(.frames == .too_large) | all')" true
check_eq "  ... no other error, connection kept open" \
	"$(js oversize 'map((.other_errors | length) == 0 and .closed_early == false) | all')" true
check_eq "  ... and the record after them acknowledged" \
	"$(js oversize 'map(.final_ack[0] == .frames + 1) | all')" true
trace "oversized: $(js oversize 'map(.bytes) | add') bytes discarded at $(js oversize 'map(.mb_per_s) | min')..$(js oversize 'map(.mb_per_s) | max') MB/s"

# --- connection churn ------------------------------------------------------
fds0=$(ls "/proc/$pid/fd" | wc -l)
conns0=$($PY "${top_srcdir:-.}/tests/proto_client.py" "$w/sock" status | awk '$1 == "connections" {print $2}')
for r in $(seq 1 $REPS); do
	phase churn "$r" $WINDOW_MS attack "$w/sock" churn $CHURN
done
conns1=$($PY "${top_srcdir:-.}/tests/proto_client.py" "$w/sock" status | awk '$1 == "connections" {print $2}')
check_eq "churn: every connect succeeded" "$(js churn 'map(.failed) | add')" 0
n_churn=$(js churn 'map(.count) | add')
trace "churn: $n_churn connect/close at $(js churn 'map(.per_s) | min')..$(js churn 'map(.per_s) | max') per second"
check "  ... the daemon counted them all ($((conns1 - conns0 - 1)) >= $n_churn)" \
	test $((conns1 - conns0 - 1)) -ge "$n_churn"
for _ in $(seq 1 40); do
	fds1=$(ls "/proc/$pid/fd" | wc -l)
	[ "$fds1" -le "$fds0" ] && break
	sleep 0.05
done
check_eq "  ... and leaked no descriptor" "$fds1" "$fds0"
check_eq "  ... clients connected afterwards: the prober and this status query" \
	"$($PY "${top_srcdir:-.}/tests/proto_client.py" "$w/sock" status | awk '$1 == "clients" {print $2}')" 2

# --- syslog flood beyond the rate limit ------------------------------------
# the flooder runs as uid 65534 (root drops to it), so it has a rate-limit
# bucket of its own; without root it would share the prober's uid, whose
# records would then be refused too
if [ "$(id -u)" = 0 ]; then
	printf '[server]\nrate_limit_burst = %d\nrate_limit_interval = 1s\n' $BURST >> "$w/conf"
	kill -HUP "$pid"
	sleep 0.5
	for r in $(seq 1 $REPS); do
		phase syslogflood "$r" 0 attack "$w/syslog.sock" syslogflood 2 65534
	done
	sleep 2.5 # the last rate-limit window ends and its "suppressed" record is written
	sent=$(js syslogflood 'map(.sent) | add')
	stored=$(records "$w" | grep -c ' user.info [0-9]* 65534 65534 flood ')
	suppressed=$(records "$w" | grep ' seglogd - - - - - suppressed [0-9]* messages from uid 65534 ' |
		awk '{s += $14} END {print s + 0}')
	trace "syslog flood: $sent datagrams sent, $stored stored, $suppressed reported suppressed"
	check "rate limit held: stored <= burst x windows" test "$stored" -le $((BURST * (3 * REPS + 2)))
	check "  ... and it did limit: most of the flood was suppressed" test "$suppressed" -gt "$stored"
	check_eq "no datagram dropped silently: stored + suppressed = sent" $((stored + suppressed)) "$sent"
	check_eq "status 'suppressed' agrees" \
		"$($PY "${top_srcdir:-.}/tests/proto_client.py" "$w/sock" status | awk '$1 == "suppressed" {print $2}')" \
		"$suppressed"
else
	trace "syslog flood skipped: it needs root to run as another uid"
fi
phase idle 3 2000 true

# --- the well-behaved client, the figures ---------------------------------
check_eq "every hostile-client helper ran to its end" "$(cat "$w"/*.json | grep -c helper_failed)" 0
kill -TERM $probe_pid
wait $probe_pid
check_eq "the well-behaved client saw no error and was never disconnected" \
	"$(jq -r '[(.errors | length), .closed, .sent == .acked] | map(tostring) | join(" ")' "$w/prober.json")" "0 false true"
check "the daemon survived everything" alive
kill -TERM $rss_pid 2>/dev/null
wait $rss_pid 2>/dev/null
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
$PY "$H/figures.py" "$w/samples" "$w/phases" "$w/rss" > "$w/figures"
grep '^#' "$w/figures"
idle=$(awk '$1 == "IDLE_P99" {print $2}' "$w/figures")
trace "prober: $(jq -r .acked "$w/prober.json") records acknowledged one at a time; idle p99 $idle us"
# The 10x target of issue 7 is checked in the long run (OVERLOAD_FULL=1,
# alone on the machine; docs/overload-figures.md).  Inside make check other
# tests share the two cores, so the default run only proves the prober is
# never starved (50x); the ratios are printed either way.
if [ "${OVERLOAD_FULL:-0}" = 1 ]; then LATENCY_LIMIT=10; else LATENCY_LIMIT=50; fi
for a in many halfframe slowreader garbage oversize churn syslogflood; do
	ratio=$(awk -v a=$a '$1 == "RATIO" && $2 == a {print $3}' "$w/figures")
	trace "p99 under $a: $(awk -v a=$a '$1 == "RATIO" && $2 == a {$1 = $2 = $3 = ""; print}' "$w/figures") us, median ratio $ratio x idle"
	[ $a = many ] && continue # a load, not an attack: reported only
	[ $a = syslogflood ] && [ "$(id -u)" != 0 ] && continue
	check "p99 ack latency under $a within ${LATENCY_LIMIT}x idle (${ratio}x)" \
		awk -v r="$ratio" -v l="$LATENCY_LIMIT" 'BEGIN {exit !(r ~ /^[0-9.]+$/ && r + 0 <= l)}'
done
trace "daemon RSS: peak VmHWM $hwm KiB; bound $BOUND_KB KiB; PRODUCT target 32768 KiB"
trace "memory: $($PY "${top_srcdir:-.}/tests/proto_client.py" "$w/sock" status |
	awk '$1 ~ /^(memory_|buffer_)/ {printf "%s %s; ", $1, $2}')"
# AddressSanitizer's shadow memory and quarantine are not seglogd's
asan=false
ldd "$SEGLOGD" 2>/dev/null | grep -q libasan && asan=true
if $asan; then
	trace "ASan build: the RSS bound is not checked (reported only)"
else
	check "peak RSS ($hwm KiB) under the bound computed from the config ($BOUND_KB KiB)" \
		test "$hwm" -le "$BOUND_KB"
fi

stop_daemon
check_eq "seglogd exits 0 after all that" "$?" 0
last=$(records "$w" | tail -n1 | awk '{print $2}')
check_eq "the whole directory is gapless, seq 1..$last" \
	"$(records "$w" | awk 'BEGIN{e=1} {if ($2 != e) {print "gap at " e; exit} e++} END{print e-1}')" "$last"
check "seglog verify is clean" "$SEGLOG" -d "$w/data" verify

# --- every acknowledged record, counted on disk per client ------------------
# what each client saw acknowledged (its own view: records 1..N of client ID
# were acked), against the records seglog cat finds on disk, so a record the
# daemon acked and lost without knowing it is caught.  "ID LAST_ACKED" lines:
{
	js many '.[0].acked_by_client | to_entries[] | "\(.key) \(.value)"'
	js slowreader '.[] | .pid as $p | .per_client | to_entries[] | "slow-\($p)-\(.key) \(.value.max_acked_recno)"'
	jq -r '"probe \(.acked)"' "$w/prober.json"
} > "$w/acked"
"$SEGLOG" -d "$w/data" cat -o json |
	jq -r 'select(.tag == "many" or .tag == "slow" or .tag == "probe") | .message |
		capture("^(?<id>.*)-(?<n>[0-9]+)$") | "\(.id) \(.n)"' > "$w/ondisk"
# prints: clients, acked, acked and on disk, lost (acked, not on disk), duplicated
read -r n_clients n_acked n_found n_lost n_dup < <(awk '
	FNR == NR { last[$1] = $2; next }
	{ if (seen[$1, $2]++) dup++ }
	END {
		for (id in last) {
			clients++
			for (i = 1; i <= last[id]; i++) {
				acked++
				if (seen[id, i]) found++; else lost++
			}
		}
		print clients + 0, acked + 0, found + 0, lost + 0, dup + 0
	}' "$w/acked" "$w/ondisk")
trace "on disk: $n_found of $n_acked acknowledged records of $n_clients clients (many, slow readers, prober)"
check_eq "every client that got acks is counted ($NCLIENTS + $((2 * REPS)) slow readers + the prober)" \
	"$n_clients" $((NCLIENTS + 2 * REPS + 1))
check "  ... the prober's acks are among them ($(jq .acked "$w/prober.json") acknowledged)" \
	test "$(jq .acked "$w/prober.json")" -gt 0
check_eq "every acknowledged record is on disk (seglog cat), none lost" "$n_lost" 0
check_eq "  ... and none of those clients' records is on disk twice" "$n_dup" 0

# --- no configuration at all: 1,000 clients, then 1,000 half frames --------
# Every key at its default (hello_timeout too: 10 s, longer than this phase).
# The half frames are the heaviest load on the read buffers: 1,000 clients
# each stop in the middle of a 60 KB record, which needs a full read buffer
# from memory_budget -- 48 fit in it; the rest must wait for them, and all
# must complete once they send the rest.  (Before memory_budget, 1,000 half
# frames took 30 MB of read buffers: the daemon passed 32 MiB here.)
w3=$(test_tmpdir)
start_daemon "$w3" || fail "daemon with the default configuration did not start"
$PY "$H/many.py" "$w3/sock" $NCLIENTS $NREC --pid "$DAEMON_PID" > "$w3/many.json" ||
	echo '{"helper_failed": true}' > "$w3/many.json"
check_eq "defaults: $NCLIENTS clients, every one's $NREC records acknowledged" \
	"$(jq -r .fully_acked "$w3/many.json")" $NCLIENTS
attack "$w3/sock" halfframe $NCLIENTS 0 1.0 > "$w3/half.json" || echo '{}' > "$w3/half.json"
check_eq "  ... $NCLIENTS clients stalled in 60 KB frames: each acknowledged once finished" \
	"$(jq -r .stallers_acked_after_finishing "$w3/half.json")" $NCLIENTS
$PY "${top_srcdir:-.}/tests/proto_client.py" "$w3/sock" status > "$w3/status"
trace "defaults: $(awk '$1 ~ /^(memory_|buffer_)/ {printf "%s %s; ", $1, $2}' "$w3/status")"
check "  ... they had to wait for memory_budget (buffer_waits > 0)" \
	test "$(awk '$1 == "buffer_waits" {print $2}' "$w3/status")" -gt 0
hwm3=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
trace "defaults: peak VmHWM $hwm3 KiB; bound $BOUND_KB KiB"
if ! $asan; then
	check "defaults: peak RSS ($hwm3 KiB) under the bound ($BOUND_KB KiB), so under 32 MiB" \
		test "$hwm3" -le "$BOUND_KB"
fi
stop_daemon
check_eq "  ... exit 0" "$?" 0
check_eq "  ... every record on disk: $((NCLIENTS * NREC + NCLIENTS))" \
	"$(records "$w3" | wc -l)" $((NCLIENTS * NREC + NCLIENTS))

# --- EMFILE: the listener backs off instead of spinning --------------------
if [ "${SEGLOG_VALGRIND:-0}" != 1 ]; then
	w2=$(test_tmpdir)
	saved=("${SEGLOGD_WRAPPER[@]}")
	SEGLOGD_WRAPPER=(prlimit --nofile=40:40)
	start_daemon "$w2" || fail "daemon with 40 descriptors did not start"
	SEGLOGD_WRAPPER=("${saved[@]}")
	attack "$w2/sock" emfile 60 "$DAEMON_PID" > "$w2/emfile.json"
	trace "EMFILE: $(tr -d ' ' < "$w2/emfile.json")"
	check "EMFILE: some clients had to wait" test "$(jq .waiting "$w2/emfile.json")" -gt 0
	check "  ... the daemon logged that it pauses accepts" grep -q "pausing accepts for a second" "$w2/seglogd.log"
	check "  ... and did not spin meanwhile (< 0.3 s CPU in 2 s)" \
		test "$(jq '.daemon_cpu_s_in_2s_while_waiting < 0.3' "$w2/emfile.json")" = true
	check_eq "  ... every waiting client was served once descriptors were free" \
		"$(jq .waiting_served_after_close "$w2/emfile.json")" "$(jq .waiting "$w2/emfile.json")"
	stop_daemon
	check_eq "  ... exit 0" "$?" 0
fi
summary
