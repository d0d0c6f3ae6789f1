#!/bin/bash
# seglog verify cuts a big segment into byte ranges checked in parallel
# (cmd_verify_walk.c).  The range size is set small here
# (SEGLOG_VERIFY_RANGE_BYTES, a test hook: verify then says on stderr how
# it cut each segment), so that segments of a few hundred KiB are cut into
# several ranges; the report must be the one walk's byte for byte:
# -j 4 (cut) prints exactly what -j 1 (not cut) prints, for damage placed
# at, across and next to the range boundaries: a damaged line starting
# exactly at one, a damaged line across one, a run of damaged lines across
# one, a seq gap and records out of order right at one, a torn last line
# (short, and one long enough that boundaries fall inside it), a line too
# long for any record across several, meta lines, a bad header, the
# problem cap, sealed segments, format version 1, and --full.  With
# VERIFY_OLD_SEGLOG=PATH (an older seglog) its output must be the same too.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

writer=${top_builddir:-.}/tests/engine-writer
w=$(test_tmpdir)
L=65536

if ! "$writer" write "$w/good" 6000 write $((64 << 20)) > /dev/null 2> "$w/err"; then
	[ $? = 77 ] && skip "io_uring unavailable"
	fail "engine-writer: $(cat "$w/err")"
fi
chmod -R u+w "$w/good"
size=$(stat -c %s "$w/good/current")
trace "current: $size bytes, ranges of $L"

# edit.py FILE OP ARGS...: the damage, at line offsets it finds itself;
# prints the range size that puts a boundary where the case needs it
cat > "$w/edit.py" <<'EOF'
import ctypes, sys
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
path, op, args = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]
lines = open(path, "rb").read().split(b"\n")[:-1]
lines = [l + b"\n" for l in lines]
def seqline(seq):  # index of the line of record seq
    for i, l in enumerate(lines[1:], 1):
        f = l.split(b" ")
        if len(f) > 1 and f[1] == b"%d" % seq:
            return i
    raise SystemExit("no seq %d" % seq)
def off(i):
    return sum(len(l) for l in lines[:i])
def flip(i):
    l = bytearray(lines[i]); l[60] = ord("Q") if l[60] != ord("Q") else ord("R"); lines[i] = bytes(l)
def meta(body):
    b = b"#seal " + body
    return b + b" %016x\n" % x(b, len(b))
tail, rng = b"", None
if op == "at":          # a damaged line starting exactly at the boundary
    i = seqline(args[0]); flip(i); rng = off(i)
elif op == "across":    # a damaged line across the boundary at args[0]
    i = max(j for j in range(len(lines)) if off(j) < args[0]); flip(i)
elif op == "run":       # damaged lines seq-2 .. seq+1, the boundary before seq
    i = seqline(args[0]); [flip(j) for j in range(i - 2, i + 2)]; rng = off(i)
elif op == "gap":       # record seq missing, the boundary where it was
    i = seqline(args[0]); del lines[i]; rng = off(i)
elif op == "order":     # the 5 records before seq again, the boundary before them
    i = seqline(args[0]); lines[i:i] = lines[i - 5:i]; rng = off(i)
elif op == "meta":      # a meta line at the boundary, one inside a run across another
    i = seqline(args[0]); lines.insert(i, meta(b"at-a-boundary")); rng = off(i)
    j = max(k for k in range(len(lines)) if off(k) < 2 * rng)
    flip(j - 1); lines.insert(j, meta(b"in-a-run")); flip(j + 1)
elif op == "long":      # a line longer than any record, across several boundaries
    i = seqline(args[0]); lines.insert(i, b"x" * (12 << 20) + b"\n"); rng = 1 << 20
elif op == "torn":      # a torn last line of args[0] bytes
    tail = (b"2026-11-24T09:02:35.123456Z 6001 user.info 1 2 3 wri" * (args[0] // 50 + 1))[:args[0]]
elif op == "many":      # every other line of seq .. seq+2999 damaged: past the cap
    i = seqline(args[0]); [flip(j) for j in range(i, i + 3000, 2)]
elif op == "header":    # a header that does not check
    l = bytearray(lines[0]); l[20] = ord("9") if l[20] != ord("9") else ord("8"); lines[0] = bytes(l)
open(path, "wb").write(b"".join(lines) + tail)
if rng is not None:
    print(rng)
EOF

# fresh NAME [SRC]: a copy of the intact directory (or of SRC)
fresh() {
	rm -rf "${w:?}/$1"
	cp -a "${2:-$w/good}" "$w/$1"
	echo "$w/$1"
}
# verify_out LEN OUT SEGLOG ARGS...: stdout without the timing, status appended
verify_out() {
	local len=$1 out=$2 bin=$3; shift 3
	SEGLOG_VERIFY_RANGE_BYTES=$len "$bin" "$@" > "$out.raw" 2> "$out.err"
	echo "exit $?" >> "$out.raw"
	sed -E 's/ \([0-9.]+ s, [0-9.]+ GB\/s\)$//' "$out.raw" > "$out"
}
# same CASE DIR LEN [verify options...]: -j 1 and -j 4 (and the old seglog)
# print the same, -j 4 cut current (or the sealed segments) into ranges;
# the output is in $w/j4
same() {
	local c=$1 d=$2 len=$3; shift 3
	verify_out "$len" "$w/j1" "$SEGLOG" -d "$d" verify -j 1 "$@"
	verify_out "$len" "$w/j4" "$SEGLOG" -d "$d" verify -j 4 "$@"
	check "$c: -j 4 cut the segments into ranges" grep -qE ': [0-9]+ ranges$' "$w/j4.err"
	check_eq "$c: -j 1 did not" "$(grep -c ' ranges$' "$w/j1.err")" 0
	check "$c: the same report with -j 1 and -j 4" cmp -s "$w/j1" "$w/j4"
	cmp -s "$w/j1" "$w/j4" || diff "$w/j1" "$w/j4" | head -20
	if [ -n "${VERIFY_OLD_SEGLOG:-}" ]; then
		verify_out "$len" "$w/old" "$VERIFY_OLD_SEGLOG" -d "$d" verify -j 4 "$@"
		check "$c: the same report as $VERIFY_OLD_SEGLOG" cmp -s "$w/old" "$w/j4"
	fi
}
has() { grep -qF -- "$2" "$1"; }

# --- intact, and --full ----------------------------------------------------------------
same "intact" "$w/good" $L
check "intact: clean" has "$w/j4" "6000 records, $size bytes, seq 1..6000, 0 problems"
check_eq "intact: the summary and the status only" "$(wc -l < "$w/j4")" 2
check "intact: cut into $((size / L)) ranges" has "$w/j4.err" "current: $((size / L)) ranges"
same "intact --full" "$w/good" $L --full

# --- a damaged line starting exactly at a boundary; one across the next -------------
d=$(fresh at)
len=$(python3 "$w/edit.py" "$d/current" at 1500)
python3 "$w/edit.py" "$d/current" across $((2 * len))
same "damaged line at a boundary" "$d" "$len"
check "  ... named once, with its seq" has "$w/j4" "$d/current:$len: damaged line (seq 1500): checksum mismatch"
check_eq "  ... two problems" "$(grep -c ': damaged line (seq' "$w/j4")" 2
same "damaged line at a boundary, --full" "$d" "$len" --full

# --- a run of damaged lines across a boundary: one problem ----------------------------
d=$(fresh run)
len=$(python3 "$w/edit.py" "$d/current" run 1500)
same "damaged run across a boundary" "$d" "$len"
check "  ... one problem for the run, its seqs named" has "$w/j4" "4 damaged lines in a row (seqs 1498..1501); the first: checksum mismatch"
check_eq "  ... and no other" "$(grep -c "^$d" "$w/j4")" 2

# --- a seq gap, and records out of order, right at a boundary -------------------------
d=$(fresh gap)
len=$(python3 "$w/edit.py" "$d/current" gap 1500)
same "seq gap at a boundary" "$d" "$len"
check "  ... reported once, at the first record after it" has "$w/j4" "$d/current:$len: seqs 1500..1500 missing before this record"
d=$(fresh order)
len=$(python3 "$w/edit.py" "$d/current" order 1500)
same "records out of order at a boundary" "$d" "$len"
check "  ... the first of them" has "$w/j4" "$d/current:$len: seq 1495 out of order (expected 1500)"
check_eq "  ... each of the five" "$(grep -c 'out of order (expected 1500)' "$w/j4")" 5
check "  ... and none missing" sh -c "! grep -q missing '$w/j4'"

# --- meta lines at a boundary and inside a run across one -----------------------------
d=$(fresh meta)
len=$(python3 "$w/edit.py" "$d/current" meta 1500)
same "meta lines at boundaries" "$d" "$len"
check "  ... the run goes on over the meta line" grep -q "2 damaged lines in a row" "$w/j4"

# --- a torn last line: short, and long enough to hold boundaries ----------------------
d=$(fresh torn)
python3 "$w/edit.py" "$d/current" torn 50
same "torn last line" "$d" $L
check "  ... at the end of current" has "$w/j4" "$d/current:$size: incomplete last line (a torn tail"
d=$(fresh torn-long)
python3 "$w/edit.py" "$d/current" torn $((3 * L))
same "torn last line holding boundaries" "$d" $L
check "  ... at the end of current" has "$w/j4" "$d/current:$size: incomplete last line (a torn tail"

# --- a line longer than any record across boundaries ----------------------------------
d=$(fresh long)
len=$(python3 "$w/edit.py" "$d/current" long 1500)
same "an overlong line across boundaries" "$d" "$len"
check "  ... one damaged line" has "$w/j4" "damaged line: line longer than the longest possible record"

# --- more problems than are kept ------------------------------------------------------
d=$(fresh many)
python3 "$w/edit.py" "$d/current" many 1000
same "1500 problems over several ranges" "$d" $L
check "  ... the rest counted" has "$w/j4" "$d/current: 500 more problems not shown"

# --- a bad header ---------------------------------------------------------------------
d=$(fresh header)
python3 "$w/edit.py" "$d/current" header
same "bad header" "$d" $L
check "  ... reported" has "$w/j4" "$d/current:0: bad segment header"

# --- sealed segments: a damaged line at a boundary, a torn end, a lost segment ----------
"$writer" write "$w/sealed" 6000 write 200000 > /dev/null 2>&1 || fail "engine-writer (sealed)"
chmod -R u+w "$w/sealed"
mapfile -t segs < <(ls "$w/sealed" | grep -E '^[0-9]{20}\.log$' | sort)
trace "${#segs[@]} sealed segments"
same "sealed, intact" "$w/sealed" $L
d=$(fresh sealed-damage "$w/sealed")
s1=$((10#${segs[1]%.log}))
len=$(python3 "$w/edit.py" "$d/${segs[1]}" at $((s1 + 300)))
python3 "$w/edit.py" "$d/${segs[2]}" torn 0
truncate -s -30 "$d/${segs[2]}"
rm "$d/${segs[3]}"
same "sealed, damaged" "$d" "$len"
check "  ... the damaged line" has "$w/j4" "$d/${segs[1]}:$len: damaged line (seq $((s1 + 300)))"
check "  ... the torn end" grep -qF "$d/${segs[2]}:" "$w/j4"
check "  ... the lost segment" has "$w/j4" "missing: no segment holds them"

# --- format version 1 -----------------------------------------------------------------
python3 - "$w/v1" <<'EOF'
import ctypes, os, sys
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
def line(body):
    return body + b" %016x\n" % x(body, len(body))
d = sys.argv[1]
os.makedirs(d)
dirid = os.urandom(16).hex().encode()
open(os.path.join(d, "dir-id"), "wb").write(dirid + b"\n")
with open(os.path.join(d, "current"), "wb") as f:
    f.write(line(b"#seglog 1 1 2026-11-25T15:05:01.254367Z %s" % dirid))
    for s in range(1, 4001):
        f.write(line(b"2026-11-25T15:05:01.%06dZ %d user.info 1 0 0 old - - old-%d" % (s, s, s)))
EOF
same "version 1, intact" "$w/v1" $L
check "  ... clean" has "$w/j4" "4000 records"
d=$(fresh v1-damage "$w/v1")
len=$(python3 "$w/edit.py" "$d/current" run 2000)
same "version 1, a damaged run at a boundary" "$d" "$len"
check "  ... one problem" has "$w/j4" "4 damaged lines in a row (seqs 1998..2001)"

summary
