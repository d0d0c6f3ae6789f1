#!/bin/bash
# seglog verify on a directory written by the storage engine (engine-writer,
# 64 KiB segments), intact and then damaged in each way it must name with
# file and byte offset: a flipped byte, a truncated line, a line cut short,
# a deleted middle segment, a header from another directory, a wrong name,
# a torn tail; and what is not damage: retention, a line being written.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

writer=${top_builddir:-.}/tests/engine-writer
w=$(test_tmpdir)

if ! "$writer" write "$w/good" 5000 write 65536 > /dev/null 2> "$w/err"; then
	[ $? = 77 ] && skip "io_uring unavailable"
	fail "engine-writer: $(cat "$w/err")"
fi
"$writer" write "$w/other" 100 write 65536 > /dev/null 2>&1 || fail "engine-writer (other)"
chmod -R u+w "$w/good"
touch "$w/stamp"
sleep 0.01
mapfile -t segs < <(ls "$w/good" | grep -E '^[0-9]{20}\.log$' | sort)
nsegs=$((${#segs[@]} + 1))
trace "${#segs[@]} sealed segments + current"

# fresh NAME: a copy of the intact directory
fresh() {
	rm -rf "${w:?}/$1"
	cp -a "$w/good" "$w/$1"
	echo "$w/$1"
}
# line_off FILE SEQ: byte offset of the line of record SEQ
line_off() {
	grep -b -m1 "^[^ ]* $2 " "$1" | cut -d: -f1
}
# run DIR: verify's stdout in $w/out, its status in $rc
run() {
	"$SEGLOG" -d "$1" verify > "$w/out" 2> "$w/verr"
	rc=$?
}

# --- intact ----------------------------------------------------------------------
run "$w/good"
check_eq "intact: exit 0" "$rc" 0
check "intact: summary" grep -qE "^$w/good: $nsegs segments, 5000 records, [0-9]+ bytes, seq 1\.\.5000, 0 problems \(" "$w/out"
check_eq "intact: nothing but the summary" "$(wc -l < "$w/out")" 1
check_eq "intact: nothing on stderr" "$(cat "$w/verr")" ""
"$SEGLOG" -d "$w/good" verify --full > /dev/null
check_eq "intact: --full exit 0" "$?" 0
"$SEGLOG" -d "$w/good" verify -j 1 > /dev/null
check_eq "intact: -j 1 exit 0" "$?" 0
bytes=$(cat "$w/good"/*.log "$w/good/current" | wc -c)
check "intact: the byte count is the segments' size" grep -q " $bytes bytes" "$w/out"

# --- a flipped byte ----------------------------------------------------------------
d=$(fresh flip)
s=$d/${segs[3]}
first=$((10#${segs[3]%.log}))
seq=$((first + 17))
off=$(line_off "$s" $seq)
printf 'Q' | dd of="$s" bs=1 seek=$((off + 70)) conv=notrunc 2> /dev/null
run "$d"
check_eq "flipped byte: exit 1" "$rc" 1
check "flipped byte: file, offset and seq named" grep -qF "$s:$off: damaged line (seq $seq): checksum mismatch" "$w/out"
check "flipped byte: 1 problem in the summary" grep -q ', 4999 records, .* 1 problem (' "$w/out"
"$SEGLOG" -d "$d" cat > /dev/null 2> "$w/cat.err"
check_eq "flipped byte: cat exits 1" "$?" 1
check "flipped byte: cat warns with the same file and offset" grep -qF "${segs[3]}:$off: damaged line" "$w/cat.err"

# --- a truncated line (the end of a sealed segment cut off) -------------------------
d=$(fresh trunc)
s=$d/${segs[5]}
last=$(($((10#${segs[6]%.log})) - 1))
off=$(line_off "$s" $last)
truncate -s $((off + 50)) "$s"
run "$d"
check_eq "truncated line: exit 1" "$rc" 1
check "truncated line: file, offset and seq" grep -qF "$s:$off: incomplete last line (presumably seq $last)" "$w/out"
check "truncated line: the missing seq is not reported twice" sh -c "! grep -q 'missing' '$w/out'"

# --- a line cut short in the middle of a file --------------------------------------
d=$(fresh short)
s=$d/${segs[2]}
seq=$(($((10#${segs[2]%.log})) + 5))
off=$(line_off "$s" $seq)
python3 - "$s" "$off" <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = open(p, "rb").read()
open(p, "wb").write(b[:off + 40] + b[off + 60:])
EOF
run "$d"
check_eq "line cut short: exit 1" "$rc" 1
check "line cut short: file and offset" grep -qF "$s:$off: damaged line (seq $seq)" "$w/out"

# --- a deleted middle segment --------------------------------------------------------
d=$(fresh deleted)
rm "$d/${segs[4]}"
a=$((10#${segs[4]%.log}))
b=$(($((10#${segs[5]%.log})) - 1))
run "$d"
check_eq "deleted segment: exit 1" "$rc" 1
check "deleted segment: the next file, offset 0, the missing seqs" \
	grep -qF "$d/${segs[5]}:0: seqs $a..$b missing: no segment holds them" "$w/out"

# --- a header from another directory --------------------------------------------------
d=$(fresh foreign)
s=$d/${segs[0]}
python3 - "$s" "$w/other/current" <<'EOF'
import sys
seg, other = sys.argv[1], sys.argv[2]
b = open(seg, "rb").read()
h = open(other, "rb").read().split(b"\n")[0] + b"\n"
assert h.split(b" ")[2] == b"1"  # both start at seq 1: only the dir id differs
open(seg, "wb").write(h + b[b.index(b"\n") + 1:])
EOF
run "$d"
check_eq "foreign header: exit 1" "$rc" 1
check "foreign header: file, offset 0, both ids" \
	grep -qE "^$s:0: the header names data directory [0-9a-f]{32}, not this one \($(cat "$d/dir-id")\)" "$w/out"
"$SEGLOG" -d "$d" cat > /dev/null 2> "$w/cat.err"
check "foreign header: cat skips the segment and says so" grep -qF "${segs[0]}:0: segment skipped: the header names another data directory" "$w/cat.err"
# also in the middle, with the same first seq (name and header agree)
d=$(fresh foreign2)
s=$d/${segs[6]}
python3 - "$s" "$w/other/current" <<'EOF'
import ctypes, sys
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
seg, other = sys.argv[1], sys.argv[2]
b = open(seg, "rb").read()
mine = b[:b.index(b"\n")].split(b" ")
theirs = open(other, "rb").read().split(b"\n")[0].split(b" ")
body = b" ".join(mine[:4] + [theirs[4]] + mine[5:-1])  # version 2: ATTRS after DIRID
open(seg, "wb").write(body + b" %016x\n" % x(body, len(body)) + b[b.index(b"\n") + 1:])
EOF
run "$d"
check "foreign header in the middle: file, offset 0" grep -qF "$s:0: the header names data directory" "$w/out"
check_eq "foreign header in the middle: the one problem" "$(grep -c "^$d" "$w/out")" 2

# --- a name that does not match the header ---------------------------------------------
d=$(fresh renamed)
n7=$((10#${segs[7]%.log}))
mv "$d/${segs[7]}" "$d/$(printf '%020d.log' $((n7 + 1)))"
run "$d"
check_eq "wrong name: exit 1" "$rc" 1
check "wrong name: file and offset 0" grep -qF "$(printf '%020d.log' $((n7 + 1))):0: the name says first seq $((n7 + 1)) but the header says $n7" "$w/out"

# --- retention is not damage --------------------------------------------------------------
d=$(fresh retention)
rm "$d/${segs[0]}" "$d/${segs[1]}"
run "$d"
check_eq "retention gap at the start: exit 0" "$rc" 0
check "retention gap at the start: reported as such" \
	grep -qF "note: seqs 1..$(($((10#${segs[2]%.log})) - 1)) precede the oldest segment ${segs[2]}: removed by retention, not damage" "$w/out"

# --- a torn tail in current, and a line being written -----------------------------------------
d=$(fresh torn)
size=$(stat -c %s "$d/current")
printf '2026-11-24T09:02:35.123456Z 5001 user.info 1 2 3 wri' >> "$d/current"
run "$d"
check_eq "torn tail, no writer: exit 1" "$rc" 1
check "torn tail: current and offset" grep -qF "$d/current:$size: incomplete last line (a torn tail" "$w/out"
if command -v flock > /dev/null; then
	flock "$d/lock" -c "'$SEGLOG' -d '$d' verify" > "$w/out"
	check_eq "the last line while a writer holds the lock: exit 0" "$?" 0
	check "... reported as being written" grep -qF "current: the last line (at offset $size) is being written" "$w/out"
fi

# --- an entry named like a segment that is not a file: skipped with a warning, by verify and cat
d=$(fresh notafile)
mkdir "$d/00000000000099999999.log"
run "$d"
check_eq "a directory named like a segment: verify exits 1" "$rc" 1
check "  ... names it" grep -qF "$d/00000000000099999999.log:0: not a regular file" "$w/out"
check "  ... and still checks the rest" grep -qE " $nsegs segments, 5000 records, .* 1 problem " "$w/out"
"$SEGLOG" -d "$d" cat -o raw > "$w/cat.out" 2> "$w/cat.err"
check_eq "  ... cat exits 1" "$?" 1
check "  ... cat names it" grep -qF "00000000000099999999.log:0: segment skipped: not a regular file" "$w/cat.err"
check_eq "  ... and prints every record" "$(wc -l < "$w/cat.out")" 5000
rmdir "$d/00000000000099999999.log"
ln -s "${segs[0]}" "$d/00000000000099999999.log"
run "$d"
check "a symlink named like a segment: verify names it" grep -qF "00000000000099999999.log:0: not a regular file" "$w/out"

# --- dir-id: the daemon's rule (32 lowercase hex digits, at most one LF) -----------------------
d=$(fresh dirid)
id=$(cat "$d/dir-id")
chmod u+w "$d/dir-id"
printf '%s\n\n' "$id" > "$d/dir-id"
run "$d"
check_eq "dir-id with two LFs: verify exits 1" "$rc" 1
check "  ... and says what is wrong" grep -qF "$d/dir-id:0: not 32 lowercase hex digits" "$w/out"
"$SEGLOG" -d "$d" cat > /dev/null 2> "$w/cat.err"
check "  ... cat warns too" grep -qF "dir-id: damaged (not 32 lowercase hex digits" "$w/cat.err"
printf '%s' "$id" > "$d/dir-id"
run "$d"
check_eq "dir-id without its LF: fine" "$rc" 0
echo "$id" | tr a-f A-F > "$d/dir-id"
run "$d"
check_eq "dir-id in upper case: verify exits 1" "$rc" 1

# --- not a data directory; and verify never writes -------------------------------------------
mkdir "$w/empty"
run "$w/empty"
check_eq "empty directory: exit 1" "$rc" 1
run "$w/nonexistent"
check_eq "missing directory: exit 1" "$rc" 1
check "missing directory: says so" grep -q "cannot open data directory" "$w/verr"
check_eq "nothing was written to the data directory" "$(find "$w/good" -newer "$w/stamp")" ""

summary
