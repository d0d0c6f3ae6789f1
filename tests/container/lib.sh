# A minimal Debian 12 root, cached, booted with systemd as PID 1 under
# systemd-nspawn: for tests that need a real service manager (README.md here).
# Source it from bash; it needs root.  Progress goes to stderr.
#
#   container_prepare || exit 77          # root, mmdebstrap, systemd-nspawn?
#   base=$(container_root libevent-core-2.1-7 ...) || exit 77
#   container_clone "$base" "$work/root"  # a throwaway copy of the cache
#   container_run "$work/root" CMD...     # a command inside, not booted
#   container_boot "$work/root" script.sh "$work/out" [TIMEOUT]
#
# The cached roots live in $SEGLOG_CONTAINER_CACHE (/var/tmp/seglog-test-root),
# one per list of packages, named by a hash of it.  Remove the directory to
# rebuild them.

: "${SEGLOG_CONTAINER_CACHE:=/var/tmp/seglog-test-root}"
# Bump when the recipe below changes, so cached roots are rebuilt.
CONTAINER_RECIPE=1
CONTAINER_SUITE=bookworm
CONTAINER_BASE_PACKAGES='systemd systemd-sysv dbus'

container_log() { printf 'container: %s\n' "$*" >&2; }

# Can nspawn run a command in root $1 here at all?
container_works()
{
	container_run "$1" /bin/true >/dev/null 2>&1
}

# Is this a machine that can build and boot a root?  Installs mmdebstrap and
# systemd-container if they are missing.  1 if not (the caller skips).
container_prepare()
{
	if [ "$(id -u)" -ne 0 ]; then
		container_log "needs root (mmdebstrap, systemd-nspawn)"
		return 1
	fi
	if ! command -v mmdebstrap >/dev/null || ! command -v systemd-nspawn >/dev/null; then
		command -v apt-get >/dev/null || { container_log "no apt-get"; return 1; }
		container_log "installing mmdebstrap systemd-container"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			mmdebstrap systemd-container >/dev/null ||
			{ container_log "cannot install mmdebstrap systemd-container"; return 1; }
	fi
	return 0
}

# The apt sources of the root: the host's (same mirror and updates as the
# build), else the default mirror.
container_sources()
{
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		echo /etc/apt/sources.list.d/debian.sources
	elif [ -f /etc/apt/sources.list ]; then
		echo /etc/apt/sources.list
	fi
}

# Prints the path of a cached root with systemd and PACKAGES installed,
# building it first if needed (about 20 s).  The root is shared: never change
# it, container_clone it.
container_root()
{
	local pkgs key dir tmp sources include
	pkgs=$(printf '%s\n' $CONTAINER_BASE_PACKAGES "$@" | sort -u | tr '\n' ' ')
	key=$(printf 'recipe %s suite %s packages %s\n' "$CONTAINER_RECIPE" "$CONTAINER_SUITE" \
		"$pkgs" | sha256sum | cut -c1-16)
	dir=$SEGLOG_CONTAINER_CACHE/$key
	mkdir -p "$SEGLOG_CONTAINER_CACHE" || return 1
	(
		flock 9
		if [ -f "$dir/.seglog-root" ]; then
			container_log "cached root $dir"
			exit 0
		fi
		container_log "building root $dir: $pkgs"
		tmp=$dir.tmp.$$
		rm -rf "$tmp"
		sources=$(container_sources)
		include=$(printf '%s' "$pkgs" | tr ' ' ',')
		if ! mmdebstrap --quiet --variant=minbase --include="${include%,}" \
			"$CONTAINER_SUITE" "$tmp" ${sources:+"$sources"} >"$tmp.log" 2>&1; then
			container_log "mmdebstrap failed (log: $tmp.log)"
			tail -n 20 "$tmp.log" >&2
			rm -rf "$tmp"
			exit 1
		fi
		# mmdebstrap wrote the sources it used; the resolver is for apt in a chroot
		cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null
		# no getty on the console, a quiet journal: the boot is a test run
		ln -sf /dev/null "$tmp/etc/systemd/system/console-getty.service"
		ln -sf /dev/null "$tmp/etc/systemd/system/getty@.service"
		echo "$pkgs" >"$tmp/.seglog-root"
		rm -f "$tmp.log"
		rm -rf "$dir" && mv "$tmp" "$dir"
	) 9>"$SEGLOG_CONTAINER_CACHE/.lock" || return 1
	echo "$dir"
}

# A throwaway copy of root $1 at $2 (a few seconds; reflinks where possible).
container_clone()
{
	rm -rf "$2" && mkdir -p "$(dirname "$2")" && cp -a --reflink=auto "$1" "$2"
}

# Runs CMD... in root $1 under systemd-nspawn without booting: PID 1 is not
# systemd there, as in a chroot or a build container.  Its exit status.  /tmp
# is a fresh tmpfs in there: put files for it elsewhere (/seglog-test).
container_run()
{
	local root=$1
	shift
	systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$root" \
		--setenv=DEBIAN_FRONTEND=noninteractive "$@"
}

# Boots root $1 with systemd as PID 1 and runs script $2 in it once
# multi-user.target is reached (from a oneshot unit, as root, cwd /seglog-test,
# with /seglog-test/ holding whatever the caller copied there beforehand),
# then powers off.  The script's output goes to $3/log, the boot's console to
# $3/console.  Returns the script's exit status, 77 if the container never
# got to run it (nspawn cannot boot here), 124 on timeout ($4 s, 300).
container_boot()
{
	local root=$1 script=$2 out=$3 timeout=${4:-300}
	local t=$root/seglog-test rc
	mkdir -p "$t" "$out" || return 1
	rm -f "$t/started" "$t/rc" "$t/log"
	install -m 0755 "$script" "$t/run" || return 1
	cat >"$root/etc/systemd/system/seglog-test.service" <<-EOF
		[Unit]
		Description=test driver (tests/container/lib.sh)
		After=multi-user.target

		[Service]
		Type=oneshot
		WorkingDirectory=/seglog-test
		Environment=DEBIAN_FRONTEND=noninteractive
		TimeoutStartSec=$timeout
		ExecStart=/bin/sh -c 'touch started; ./run >log 2>&1; echo \$? >rc; sync'
		ExecStartPost=/bin/systemctl poweroff --no-block

		[Install]
		WantedBy=multi-user.target
	EOF
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sf ../seglog-test.service "$root/etc/systemd/system/multi-user.target.wants/"
	# The host's PID 1 is not systemd: without --register=no --keep-unit nspawn
	# looks for machined and a scope on the system bus, and fails.
	timeout -k 10 $((timeout + 30)) systemd-nspawn --quiet --register=no --keep-unit \
		--private-network -D "$root" -b </dev/null >"$out/console" 2>&1
	rc=$?
	cp "$t/log" "$out/log" 2>/dev/null
	if [ ! -e "$t/started" ]; then
		container_log "the container did not run the script (nspawn exit $rc): cannot boot here"
		tail -n 20 "$out/console" >&2
		return 77
	fi
	if [ ! -f "$t/rc" ]; then
		container_log "the script did not finish (nspawn exit $rc)"
		return 124
	fi
	return "$(cat "$t/rc")"
}
