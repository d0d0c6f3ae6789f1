#!/bin/bash
# The bash completion (shell-completion/bash/seglog) under the real
# bash-completion: subcommands, each command's options, option values
# (output modes, levels, FACILITY.LEVEL, colours), and no option of the
# programs' own --help missing from it (so a new option cannot be
# forgotten there).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || skip "no $bc (apt-get install bash-completion)"
ship=${top_builddir:-.}/src/seglog-ship
# comp WORD...: what completing the last word offers, sorted, on one line
comp() {
	bash --norc -c '
		. "$1"; . "$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		COMPREPLY=(); _seglog; printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" "' \
		_ "$bc" "${top_srcdir:-.}/shell-completion/bash/seglog" seglog "$@"
}
check_eq "subcommands" "$(comp '')" "cat help reload rotate send ship status sync tail vacuum verify"
check_eq "after a global option and its value" "$(comp -s /tmp/x st)" "status"
check_eq "status -o" "$(comp status -o '')" "json openmetrics prometheus text"
check_eq "tail -o" "$(comp tail -o s)" "short short-iso short-precise"
check_eq "tail -p" "$(comp tail -p w)" "warning"
check_eq "send -p FACILITY." "$(comp send -p local0.e)" "local0.emerg local0.err"
check_eq "cat --color" "$(comp cat --color '')" "always auto never"
check_eq "vacuum options" "$(comp vacuum --)" "--files --force --help --size --time"
check_eq "rotate options" "$(comp rotate --)" "--help --timeout"
check_eq "tail -r" "$(comp tail --rev)" "--reverse"

# every long option a command's --help lists is offered for it
missing=
for c in send tail cat verify status rotate sync reload vacuum ship; do
	if [ $c = ship ]; then
		[ -x "$ship" ] || continue
		opts=$("$ship" ship --help 2>&1)
	else
		opts=$("$SEGLOG" $c --help 2>&1)
	fi
	offered=" $(comp $c --) "
	for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$opts" | sort -u); do
		case " $offered " in *" $o "*) ;; *) missing="$missing $c:$o" ;; esac
	done
done
check_eq "no option of any --help missing from the completion" "${missing# }" ""
summary
