#!/bin/bash
# The layer rule of src/ (src/LAYERS) on the compiled objects: every symbol
# an object of src/LAYER/ uses and src/ defines is defined in LAYER itself
# or in a layer it may use; where the table grants one header of a layer
# (client: ship/ship.h), only the functions that header declares.  This is
# what tests/layers.sh cannot see: a bare `extern` declaration of a higher
# layer's function compiles without its header, and a static library's
# link order does not refuse it either.  Then an object that calls a daemon
# function from the store layer, and one that calls a ship function ship.h
# does not declare from the client, must each make the check fail.
#
#   tests/layers-link.sh               objects under $top_builddir/src (make check)
#   tests/layers-link.sh --build B     objects under B/src, no self-test
set -u

root=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${top_builddir:-.}
self_test=1
if [ "${1:-}" = --build ]; then
	build=$2
	self_test=0
fi

. "$(dirname "$0")/layers-table.sh"
layers_table_read
[ ${#layers[@]} -gt 0 ] || exit 1

mapfile -t objects < <(find "$build/src" -name '*.o' -type f 2>/dev/null | LC_ALL=C sort)
if [ ${#objects[@]} -lt ${#layers[@]} ]; then
	echo "layers-link: ${#objects[@]} objects under $build/src; build first (make), or give --build DIR"
	exit 1
fi

# The table for awk: "LAYER<TAB>USE" per folder it may use, and
# "LAYER<TAB>FOLDER/HEADER.h<TAB>NAME" per function such a header declares.
table() {
	local layer w h
	for layer in "${layers[@]}"; do
		for w in $layer ${allow[$layer]}; do
			if [[ $w != */* ]]; then
				printf '%s\t%s\n' "$layer" "$w"
				continue
			fi
			h=$root/src/$w
			[ -f "$h" ] || fail "src/LAYERS: $layer may use $w, which does not exist"
			sed 's|/\*.*\*/||g' "$h" 2>/dev/null |
				grep -oE '\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u |
				while read -r name; do printf '%s\t%s\t%s\n' "$layer" "$w" "$name"; done
		done
	done
}

# nm -A: "FILE: ADDR TYPE NAME" for a definition, "FILE:   U NAME" for a use.
symbols=$(nm -A -g "${objects[@]}") || {
	echo "layers-link: nm failed on the objects under $build/src"
	exit 1
}
out=$(awk -v build="$build/src/" -v tablefile=<(table) '
BEGIN {
	while ((getline l < tablefile) > 0) {
		n = split(l, f, "\t")
		if (n == 2) use[f[1] SUBSEP f[2]] = 1
		else { hdr[f[1] SUBSEP f[2]] = 1; decl[f[1] SUBSEP f[2] SUBSEP f[3]] = 1 }
	}
}
{
	file = $1; sub(/:$/, "", file)
	if (index(file, build) != 1) next
	rel = substr(file, length(build) + 1)
	layer = rel; sub(/\/.*/, "", layer)
	sym = $NF; type = $(NF - 1)
	if (type == "U") { uses[++nu] = layer SUBSEP rel SUBSEP sym; next }
	if (type ~ /^[A-Z]$/ && !((sym, layer) in seen)) {
		seen[sym, layer] = 1
		if (sym in defined) defined[sym] = defined[sym] " " layer
		else defined[sym] = layer
	}
}
END {
	for (i = 1; i <= nu; i++) {
		split(uses[i], u, SUBSEP); layer = u[1]; rel = u[2]; sym = u[3]
		if (!(sym in defined)) continue # libc, libevent, ...
		nd = split(defined[sym], from, " "); ok = 0
		for (j = 1; j <= nd && !ok; j++) {
			if (from[j] == layer || ((layer, from[j]) in use)) ok = 1
			for (h in hdr) {
				split(h, hh, SUBSEP)
				if (hh[1] == layer && substr(hh[2], 1, length(from[j]) + 1) == from[j] "/" &&
				    ((layer, hh[2], sym) in decl)) ok = 1
			}
		}
		if (ok) { print "ok"; continue }
		print "bad\t" rel "\t" sym "\t" defined[sym] "\t" layer
	}
}' <<<"$symbols")
while IFS=$'\t' read -r what rel sym from layer; do
	case $what in
	ok) pass ;;
	bad)
		may=${allow[$layer]:-nothing}
		fail "src/$rel: uses $sym, defined in src/${from// /, src/}/: $layer may use ${may// /, }"
		;;
	'') ;;
	*) fail "nm: $what $rel" ;;
	esac
done <<<"$out"

# The self-test: a copy of the objects plus one bad object each, which the
# check must name.
if [ $self_test = 1 ]; then
	scratch=$(mktemp -d) || exit 1
	trap 'rm -rf "$scratch"' EXIT
	# expect_fail WHAT LAYER C-SOURCE MESSAGE
	expect_fail() {
		local out
		mkdir -p "$scratch/$1" && cp -R "$build/src" "$scratch/$1/" || exit 1
		if ! echo "$3" | ${CC:-cc} -x c -c -o "$scratch/$1/src/$2/evil.o" -; then
			fail "self-test ($1): could not compile the bad object (CC=${CC:-cc})"
		elif out=$("$0" --build "$scratch/$1"); then
			fail "self-test ($1): the check passed; it should have said: $4"
		elif grep -qF -- "$4" <<<"$out"; then
			pass
		else
			fail "self-test ($1): the check failed without saying: $4"
			echo "$out" | sed 's/^/  | /'
		fi
	}
	# a function each of the daemon and of the ship layer outside ship.h
	daemon_fn=$(nm -g --defined-only "$build"/src/daemon/libdaemon_a-server.o | awk '$2 == "T" { print $3; exit }')
	ship_fn=$(nm -g --defined-only "$build"/src/ship/libship_a-shipq.o | awk '$2 == "T" { print $3; exit }')
	expect_fail upward store "extern void $daemon_fn(void); void layers_evil(void) { $daemon_fn(); }" \
		"src/store/evil.o: uses $daemon_fn, defined in src/daemon/"
	expect_fail header client "extern void $ship_fn(void); void layers_evil(void) { $ship_fn(); }" \
		"src/client/evil.o: uses $ship_fn, defined in src/ship/"
fi

echo "layers-link: $passed passed, $failed failed"
[ $failed = 0 ]
