#!/bin/sh
# The image's entrypoint: makes the user the app runs as fit to run Librariarr, then execs the
# command, so that Node is PID 1 and receives the container's SIGTERM itself. Two ways to pick it:
#
# - Started as root (the image's default), the *arr way: PUID/PGID (default 1000:1000, the base
#   image's `node` user) name the uid and gid. /config is given to them where it is not theirs
#   already, then this script runs itself again as them through setpriv, so nothing after that
#   point (the app, its PostgreSQL) ever runs as root. PUID or PGID 0 is refused.
# - Started with `docker run --user UID:GID`: that uid and gid, as before; PUID/PGID, if set, must
#   agree (a non-root process cannot become another user).
#
# UMASK (octal, e.g. 022 or 002) sets the mask for files the app creates. TZ is Node's own: it
# needs nothing here, and is passed on untouched.
#
# The embedded PostgreSQL (the embedded-postgres package and initdb) looks the current uid up in
# the passwd database and stops when it has no entry, which is the case for most uids picked with
# --user or PUID. Such a uid gets an entry that only this process tree sees: copies of /etc/passwd
# and /etc/group plus a line for it, read through nss_wrapper (LD_PRELOAD). /etc/passwd stays
# read-only, so nothing in the container can use it to become someone else.
set -eu

uid=$(id -u)
gid=$(id -g)
config=${CONFIG_DIR:-/config}

fail() {
	echo "librariarr: $*" >&2
	exit 1
}

number() {
	case $2 in
	'' | *[!0-9]*) fail "$1=\"$2\" is not a number. Example: $1=1000" ;;
	esac
}

if [ -n "${UMASK:-}" ]; then
	case $UMASK in
	[0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) umask "$UMASK" ;;
	*) fail "UMASK=\"$UMASK\" is not an octal mask. Example: UMASK=022" ;;
	esac
fi

if [ "$uid" = 0 ]; then
	puid=${PUID:-1000}
	pgid=${PGID:-1000}
	number PUID "$puid"
	number PGID "$pgid"
	if [ "$puid" = 0 ] || [ "$pgid" = 0 ]; then
		fail "PUID=$puid PGID=$pgid would run the app as root, which PostgreSQL refuses." \
			"Pick an unprivileged user, for example PUID=1000 PGID=1000."
	fi
	mkdir -p "$config"
	# Only where needed: a large /config that is already theirs is not walked on every start.
	if [ -n "$(find "$config" \( ! -user "$puid" -o ! -group "$pgid" \) -print -quit)" ]; then
		echo "librariarr: giving $config to $puid:$pgid (PUID:PGID)" >&2
		chown -R "$puid:$pgid" "$config" ||
			fail "could not give $config to $puid:$pgid (is it mounted read-only?)."
	fi
	home=$(getent passwd "$puid" | cut -d: -f6)
	HOME=${home:-$config}
	PUID=$puid PGID=$pgid
	export HOME PUID PGID
	exec setpriv --reuid="$puid" --regid="$pgid" --clear-groups -- "$0" "$@"
fi

# A non-root process cannot become another user: say how to get the one asked for.
if [ "${PUID:-$uid}" != "$uid" ] || [ "${PGID:-$gid}" != "$gid" ]; then
	fail "PUID=${PUID:-} PGID=${PGID:-} need the container to start as root (the image's default)," \
		"but it runs as $uid:$gid (--user). Drop --user, or run it as that user with" \
		"docker run --user ${PUID:-$uid}:${PGID:-$gid} (compose: user: \"${PUID:-$uid}:${PGID:-$gid}\")."
fi

if [ -d "$config" ] && { [ ! -w "$config" ] || [ ! -x "$config" ]; }; then
	owner=$(stat -c %u:%g "$config")
	hint=
	[ "${owner%%:*}" = 0 ] || hint=" or run the container as its owner (--user $owner)"
	fail "uid $uid cannot write to $config (CONFIG_DIR), which belongs to $owner." \
		"Give the directory to uid $uid (on the host: chown -R $uid:$gid DIR)$hint."
fi

if ! getent passwd "$uid" >/dev/null; then
	wrapper=
	for lib in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
		if [ -e "$lib" ]; then
			wrapper=$lib
			break
		fi
	done
	[ -n "$wrapper" ] || fail "uid $uid has no passwd entry and nss_wrapper (libnss-wrapper) is missing."
	NSS_WRAPPER_PASSWD=$(mktemp)
	NSS_WRAPPER_GROUP=$(mktemp)
	cat /etc/passwd >"$NSS_WRAPPER_PASSWD"
	echo "librariarr:x:$uid:$gid:Librariarr:$config:/usr/sbin/nologin" >>"$NSS_WRAPPER_PASSWD"
	cat /etc/group >"$NSS_WRAPPER_GROUP"
	getent group "$gid" >/dev/null || echo "librariarr:x:$gid:" >>"$NSS_WRAPPER_GROUP"
	LD_PRELOAD=$wrapper${LD_PRELOAD:+ $LD_PRELOAD}
	export LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
fi

exec "$@"
