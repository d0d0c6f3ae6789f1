#!/bin/bash
# The numeric options of seglog, read strictly (issue 17): digits only.
# strtoull(3) skipped leading blanks and took a sign, so `tail --after-seq
# " -1"` read 2^64-1 and showed nothing; atoi(3) read `verify -j 4x` as 4.
# Every numeric option refuses a blank, a sign, an empty value, trailing
# bytes and a value past its range with a usage error (exit 2) naming the
# option and the value; the values that are numbers still work.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
nodir=$w/nodir # never created: an accepted value gets as far as opening it
nosock=$w/nosock

# refused DESCRIPTION OPTION-NAME VALUE COMMAND...: exit 2, and stderr names
# the option and the value (quoted).
refused() {
	local what=$1 opt=$2 val=$3
	shift 3
	"$@" > "$w/out" 2> "$w/err" < /dev/null
	local rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$opt" "$w/err" && grep -qF -- "'$val'" "$w/err"; then
		ok "$what"
	else
		not_ok "$what: exit $rc, stderr: $(head -c 300 "$w/err")"
	fi
}

bad_u64=(' -1' '-1' '+1' '' ' 1' '1 ' '1x' '0x10' $'\t1' '18446744073709551616'
	'99999999999999999999999')
for cmd in tail cat; do
	for v in "${bad_u64[@]}"; do
		refused "$cmd --after-seq '$v'" --after-seq "$v" \
			"$SEGLOG" -d "$nodir" "$cmd" --after-seq "$v"
		refused "$cmd --lines '$v'" --lines "$v" "$SEGLOG" -d "$nodir" "$cmd" --lines "$v"
		refused "$cmd -n '$v'" -n "$v" "$SEGLOG" -d "$nodir" "$cmd" -n "$v"
		refused "$cmd --pid '$v'" --pid "$v" "$SEGLOG" -d "$nodir" "$cmd" --pid "$v"
	done
done
for v in ' 0' '+0' '-0' ' -1' '0 ' '4294967296'; do
	refused "tail --uid '$v'" --uid "$v" "$SEGLOG" -d "$nodir" tail --uid "$v"
done
for v in "${bad_u64[@]}"; do
	refused "vacuum --files '$v'" --files "$v" "$SEGLOG" -s "$nosock" vacuum --files "$v"
done
for v in ' 5' '+5' '5 ' '5s' '' '0' '86401' '18446744073709551621'; do
	refused "rotate --timeout '$v'" --timeout "$v" "$SEGLOG" -s "$nosock" rotate --timeout "$v"
done
for v in ' 4' '+4' '4x' '' '0' '-1' '18446744073709551617'; do
	refused "verify -j '$v'" -j "$v" "$SEGLOG" -d "$nodir" verify -j "$v"
	refused "verify --jobs '$v'" --jobs "$v" "$SEGLOG" -d "$nodir" verify --jobs "$v"
done
for v in ' 5' '+5' '-1' '5 ' '' '2147483648'; do
	refused "send --id='$v'" --id "$v" "$SEGLOG" -s "$nosock" send --id="$v" msg
done

# The numbers themselves still get through the options (and then to the
# missing directory or socket: not a usage error).
accepted() {
	local what=$1 want=$2
	shift 2
	"$@" > /dev/null 2> "$w/err" < /dev/null
	local rc=$?
	check_eq "$what: exit $want ($(head -c 200 "$w/err"))" "$rc" "$want"
}
for v in 0 007 18446744073709551615; do
	accepted "tail --after-seq $v" 1 "$SEGLOG" -d "$nodir" tail --after-seq "$v"
	accepted "tail -n $v" 1 "$SEGLOG" -d "$nodir" tail -n "$v"
	accepted "cat --pid $v" 1 "$SEGLOG" -d "$nodir" cat --pid "$v"
	accepted "vacuum --files $v" 69 "$SEGLOG" -s "$nosock" vacuum --files "$v"
done
accepted "tail -n all" 1 "$SEGLOG" -d "$nodir" tail -n all
accepted "tail --uid 4294967295" 1 "$SEGLOG" -d "$nodir" tail --uid 4294967295
accepted "tail --uid root" 1 "$SEGLOG" -d "$nodir" tail --uid root
accepted "rotate --timeout 1" 69 "$SEGLOG" -s "$nosock" rotate --timeout 1
accepted "sync --timeout 86400" 69 "$SEGLOG" -s "$nosock" sync --timeout 86400
accepted "verify -j 1" 1 "$SEGLOG" -d "$nodir" verify -j 1
accepted "verify --jobs 0004" 1 "$SEGLOG" -d "$nodir" verify --jobs 0004
accepted "send --id=2147483647" 69 "$SEGLOG" -s "$nosock" send --id=2147483647 msg

summary
