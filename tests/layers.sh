#!/bin/bash
# The layer rule of src/ (src/LAYERS, docs/design.md), on the sources:
#  - every `#include` of src/** names a header of its own folder or of a
#    folder its layer may include, as a bare "name.h" (no path, macro,
#    #import, or project header in <...>);
#  - a header named *_internal.h is included from its own folder only, and
#    by .c files or other private headers (a public one would pass it on);
#  - header names are unique (the check maps a name to its folder), no
#    source lies outside a layer, and none is a symlink;
#  - src/LAYERS is an order: a line names only layers above it, and no
#    layer twice;
#  - Makefile.am compiles each layer's library with the -I of those folders
#    only (LAYER_I, no `+=`), so that a bare name of a higher layer's
#    header is not found.
# This reads the sources as written, to name the line.  The authority is
# tests/layers-build.sh, which checks what the build did: the headers the
# compiler read, the objects make lists, the symbols nm shows.  tests/,
# bench/ and the fuzzers sit above every layer and are not checked.  Then
# the check runs on scratch copies with one break of the rule each, and must
# fail there naming the file and line, so that it cannot pass by checking
# nothing.
#
#   tests/layers.sh            the tree at $top_srcdir (make check)
#   tests/layers.sh --root D   the tree at D only, no self-test (used by the self-test)
set -u

root=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
self_test=1
if [ "${1:-}" = --root ]; then
	root=$2
	self_test=0
fi

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() {
	echo "$*"
	failed=$((failed + 1))
}

# The table: allow[LAYER] = "folder ... folder/header.h ...", what LAYER may
# use, and layers in the table's order.  A line naming a layer not defined
# above it, or a layer twice, is refused: the table is an order, lowest
# first, so it has no cycle.
declare -A allow=()
layers=()
layers_table_read() {
	local layer rest w n=0
	while read -r layer rest; do
		n=$((n + 1))
		case $layer in '' | '#'*) continue ;; esac
		[ -z "${allow[$layer]+set}" ] || fail "src/LAYERS:$n: $layer is defined twice (one line per layer)"
		for w in $rest; do
			if [ -z "${allow[${w%%/*}]+set}" ]; then
				fail "src/LAYERS:$n: $layer may use ${w%%/*}, which is not a layer above this line (the table is an order, lowest first)"
			else
				pass
			fi
		done
		allow[$layer]=$(echo $rest)
		layers+=("$layer")
	done <"$root/src/LAYERS"
	[ ${#layers[@]} -gt 0 ] || fail "src/LAYERS: no layers"
}
layers_table_read
[ ${#layers[@]} -gt 0 ] || exit 1

# A symlink under src/ would be skipped by the scan below, or name a file
# of another layer: none is allowed.
while IFS= read -r f; do
	fail "${f#"$root"/}: a symlink; put the file itself in its layer's folder"
done < <(find "$root/src" -type l | LC_ALL=C sort)

# Where each header lives; a name in two folders is an error.
declare -A folder_of=()
while IFS= read -r f; do
	rel=${f#"$root"/}
	dir=${rel#src/}
	dir=${dir%%/*}
	name=${f##*/}
	if [ -z "${allow[$dir]+set}" ]; then
		fail "$rel: not in a layer of src/LAYERS"
	elif [ "${f##*.}" = h ] && [ -n "${folder_of[$name]+set}" ]; then
		fail "$rel: header name also in src/${folder_of[$name]}/ (names must be unique)"
	elif [ "${f##*.}" = h ]; then
		folder_of[$name]=$dir
	fi
done < <(find "$root/src" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

# The include directives of a file, as the preprocessor sees their lines:
# continued lines joined, /* comments */ within them dropped; one
# "LINE<TAB>DIRECTIVE<TAB>ARGUMENT" each, LINE where it starts.
directives() {
	awk '
	{
		if (cont == "") start = NR
		line = cont $0
		if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); next }
		cont = ""
		while (match(line, /\/\*([^*]|\*+[^*\/])*\*+\//))
			line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
		if (match(line, /^[ \t]*#[ \t]*(include_next|include|import)/)) {
			d = substr(line, RSTART, RLENGTH)
			sub(/^[ \t]*#[ \t]*/, "", d)
			arg = substr(line, RSTART + RLENGTH)
			sub(/^[ \t]+/, "", arg)
			print start "\t" d "\t" arg
		}
	}' "$1"
}

# Every include of every source: only `#include "name.h"` of a bare name
# (its folder is found by the name), or <system.h>; no path, no macro, no
# #include_next or #import, no project header in <...>: each would get past
# the rule (the compiler finds "../daemon/x.h" from the including file).
while IFS= read -r f; do
	rel=${f#"$root"/}
	layer=${rel#src/}
	layer=${layer%%/*}
	[ -n "${allow[$layer]+set}" ] || continue
	while IFS=$'\t' read -r line directive arg; do
		if [ "$directive" != include ]; then
			fail "$rel:$line: #$directive: write #include \"name.h\""
			continue
		fi
		case $arg in
		'"'*) inc=${arg#\"} && inc=${inc%%\"*} ;;
		'<'*)
			inc=${arg#<} && inc=${inc%%>*}
			if [ -n "${folder_of[${inc##*/}]+set}" ]; then
				fail "$rel:$line: includes <$inc>: a header of src/ is included as \"${inc##*/}\""
			else
				pass
			fi
			continue
			;;
		*)
			fail "$rel:$line: #include $arg: a computed include (write the header's name)"
			continue
			;;
		esac
		name=${inc##*/}
		[ "$inc" = config.h ] && continue # generated by configure
		to=${folder_of[$name]:-}
		if [ "$inc" != "$name" ]; then
			fail "$rel:$line: includes \"$inc\": name the header alone (\"$name\"); the folders come from -I"
		elif [ -z "$to" ]; then
			fail "$rel:$line: includes $inc: no such header in src/"
		elif [[ $name == *_internal.h ]] && [ "$to" != "$layer" ]; then
			fail "$rel:$line: includes $to/$name: private to src/$to"
		elif [[ $name == *_internal.h && $rel == *.h && $rel != *_internal.h ]]; then
			fail "$rel:$line: includes $name: a public header may not include a private one (every includer would get it); include it from the .c files"
		elif [ "$to" = "$layer" ] || [[ " ${allow[$layer]} " == *" $to "* ]] ||
			[[ " ${allow[$layer]} " == *" $to/$name "* ]]; then
			pass
		else
			may=${allow[$layer]:-nothing}
			fail "$rel:$line: includes $to/$name: $layer may include ${may// /, }"
		fi
	done < <(directives "$f")
done < <(find "$root/src" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

# Makefile.am, its assignments with continued lines joined: mvar[NAME] is
# the value; a `+=` to a flags variable is refused (the check reads `=`).
declare -A mvar=()
if [ -f "$root/Makefile.am" ]; then
	while IFS=$'\t' read -r n name op value; do
		if [ "$op" = "+=" ] && [[ $name == *_I || $name == *FLAGS || $name == *_LDADD || $name == *_LIBS ]]; then
			fail "Makefile.am:$n: $name +=: give $name in one \`=\` (tests/layers.sh reads that)"
		elif [ "$op" = "=" ]; then
			mvar[$name]=$value
		fi
	done < <(awk '
	{
		if (cont == "") start = NR
		line = cont $0
		if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1) " "; next }
		cont = ""
		if (match(line, /^[A-Za-z_][A-Za-z0-9_]*[ \t]*\+?=/)) {
			name = substr(line, 1, RLENGTH); value = substr(line, RLENGTH + 1)
			op = name ~ /\+=$/ ? "+=" : "="
			sub(/[ \t]*\+?=$/, "", name); gsub(/[ \t]+/, " ", value); sub(/^ /, "", value); sub(/ $/, "", value)
			print start "\t" name "\t" op "\t" value
		}
	}' "$root/Makefile.am")
fi
# expand VAR: the words of $(VAR), variables expanded.
expand() {
	local w
	for w in ${mvar[$1]:-}; do
		case $w in
		'$('*')') w=${w#'$('} && expand "${w%)}" ;;
		*) echo "$w" ;;
		esac
	done
}
# The folders a layer's code may use: itself and its line of the table.
may_use() { for w in "$1" ${allow[$1]}; do echo "${w%%/*}"; done | sort -u | xargs; }

# Each layer: LAYER_I gives the -I of exactly the folders it may use, and
# its library is compiled with that and nothing else.
for layer in "${layers[@]}"; do
	var=${layer^^}_I
	if [ -z "${mvar[$var]+set}" ]; then
		[ -f "$root/Makefile.am" ] && fail "Makefile.am: no $var for the $layer layer"
		continue
	fi
	got=$(expand "$var" | sed -n 's|.*src/||p' | sort -u | xargs)
	if [ "$(may_use "$layer")" = "$got" ]; then
		pass
	else
		fail "Makefile.am: $var gives -I of { $got }, src/LAYERS says { $(may_use "$layer") }"
	fi
	flags=lib${layer}_a_CPPFLAGS
	if [ "${mvar[$flags]:-}" = "\$(SEGLOG_DEFS) \$($var)" ]; then
		pass
	else
		fail "Makefile.am: $flags is \"${mvar[$flags]:-}\"; it must be \"\$(SEGLOG_DEFS) \$($var)\""
	fi
done

# The self-test: a store file including a daemon header, a read file
# including the store's private header, a header name used twice, and each
# way past the check a hostile review found, must each make the check fail,
# naming the place.
if [ $self_test = 1 ]; then
	scratch=$(mktemp -d) || exit 1
	trap 'rm -rf "$scratch"' EXIT
	expect_fail() { # what, expected message
		local out
		if out=$("$0" --root "$scratch/$1"); then
			fail "self-test ($1): the check passed; it should have said: $2"
		elif grep -qF -- "$2" <<<"$out"; then
			pass
		else
			fail "self-test ($1): the check failed without saying: $2"
			echo "$out" | sed 's/^/  | /'
		fi
	}
	tricks=(relative angle comment continued computed import)
	build=(flags plus order twice symlink reexport)
	for t in bad-include private dup-name "${tricks[@]}" "${build[@]}"; do
		mkdir -p "$scratch/$t" && cp -R "$root/src" "$scratch/$t/" &&
			cp "$root/Makefile.am" "$scratch/$t/" || exit 1
	done
	f=$scratch/bad-include/src/store/engine.c
	echo '#include "server.h"' >>"$f"
	expect_fail bad-include "src/store/engine.c:$(wc -l <"$f"): includes daemon/server.h: store may include basic, format"
	f=$scratch/private/src/read/reader.c
	echo '#include "store_internal.h"' >>"$f"
	expect_fail private "src/read/reader.c:$(wc -l <"$f"): includes store/store_internal.h: private to src/store"
	cp "$root/src/format/record.h" "$scratch/dup-name/src/read/record.h"
	expect_fail dup-name "src/read/record.h: header name also in src/format/"
	# the ways past a plain grep (hostile review of #17): each one fails
	add() { echo "$2" >>"$scratch/$1/src/store/engine.c"; }
	at() { echo "src/store/engine.c:$(($(wc -l <"$scratch/$1/src/store/engine.c") - ${2:-0}))"; }
	add relative '#include "../daemon/server.h"'
	expect_fail relative "$(at relative): includes \"../daemon/server.h\": name the header alone"
	add angle '#include <../daemon/server.h>'
	expect_fail angle "$(at angle): includes <../daemon/server.h>: a header of src/"
	add comment '/**/ #include /* x */ "server.h"'
	expect_fail comment "$(at comment): includes daemon/server.h: store may include"
	printf '#include \\\n"server.h"\n' >>"$scratch/continued/src/store/engine.c"
	expect_fail continued "$(at continued 1): includes daemon/server.h: store may include"
	add computed '#define EVIL "server.h"'
	add computed '#include EVIL'
	expect_fail computed "$(at computed): #include EVIL: a computed include"
	add import '#import "server.h"'
	expect_fail import "$(at import): #import: write #include"
	# the build and the table (the same review): each way past the -I check
	mk() { echo "$scratch/$1/Makefile.am"; }
	edit() { local t=$1 && shift && sed -i "$@" "$(mk "$t")"; }
	edit flags 's|^libstore_a_CPPFLAGS = .*|& -I$(srcdir)/src/daemon|'
	expect_fail flags "Makefile.am: libstore_a_CPPFLAGS is"
	echo 'STORE_I += -I$(srcdir)/src/daemon' >>"$(mk plus)"
	expect_fail plus "Makefile.am:$(wc -l <"$(mk plus)"): STORE_I +=: give STORE_I in one"
	sed -i 's/^format .*/& store/' "$scratch/order/src/LAYERS"
	expect_fail order "format may use store, which is not a layer above this line"
	echo 'read basic format store ship' >>"$scratch/twice/src/LAYERS"
	expect_fail twice "read is defined twice"
	ln -s ../daemon/conn.h "$scratch/symlink/src/store/conn_link.h"
	expect_fail symlink "src/store/conn_link.h: a symlink"
	f=$scratch/reexport/src/store/cursor.h
	echo '#include "store_internal.h"' >>"$f"
	expect_fail reexport "src/store/cursor.h:$(wc -l <"$f"): includes store_internal.h: a public header may not include a private one"
fi

echo "layers: $passed passed, $failed failed"
[ $failed = 0 ]
