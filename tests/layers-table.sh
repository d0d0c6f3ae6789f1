# Sourced by tests/layers.sh and tests/layers-link.sh: reads src/LAYERS
# under $root into
#   layers   the layers, in the table's order
#   allow    allow[LAYER] = "folder ... folder/header.h ...", what it may use
# and fails on a line that names a layer not
# defined above it: the table is an order, lowest first, so it has no cycle.
# Needs $root.  Also the counters both checks report: pass, fail MESSAGE.

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() {
	echo "$*"
	failed=$((failed + 1))
}

declare -A allow=()
layers=()
layers_table_read() {
	local layer rest w n=0
	while read -r layer rest; do
		n=$((n + 1))
		case $layer in '' | '#'*) continue ;; esac
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
