#!/bin/sh
# The image's entrypoint: makes the uid the container runs as (`docker run --user UID:GID`, the
# image's `node` user, uid 1000, by default) fit to run Librariarr, then execs the command, so
# that Node is PID 1 and receives the container's SIGTERM itself.
#
# The embedded PostgreSQL (the embedded-postgres package and initdb) looks the current uid up in
# the passwd database and stops when it has no entry, which is the case for most uids picked with
# --user. Such a uid gets an entry that only this process tree sees: copies of /etc/passwd and
# /etc/group plus a line for it, read through nss_wrapper (LD_PRELOAD). /etc/passwd stays
# read-only, so nothing in the container can use it to become someone else.
set -eu

uid=$(id -u)
gid=$(id -g)
config=${CONFIG_DIR:-/config}

fail() {
	echo "librariarr: $*" >&2
	exit 1
}

# PUID/PGID are how other images pick the user; here it is --user. Better to say so than to run
# as another uid than the one asked for.
if [ "${PUID:-$uid}" != "$uid" ] || [ "${PGID:-$gid}" != "$gid" ]; then
	fail "PUID/PGID are not used by this image: run it as that user with" \
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
