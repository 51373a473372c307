#!/bin/sh
# Entrypoint of the offline Redis image: the official redis image's contract.
# `docker run IMAGE --appendonly yes` and `docker run IMAGE /path/redis.conf`
# run redis-server; the server runs as the redis user in /data.
set -e

# First argument `-f`, `--some-option` or `something.conf`: arguments of redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# Started as root: hand /data to redis and drop to that user.
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# The official image builds redis with protected mode off (published ports are
# the boundary); Debian's build has it on. Without a config file, turn it off
# first so that the caller's own arguments still win.
if [ "$1" = redis-server ]; then
	case "${2:-}" in
		*.conf | -) ;;
		*)
			shift
			set -- redis-server --protected-mode no "$@"
			;;
	esac
fi

# Files created by redis are private unless the caller chose a umask.
if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

exec "$@"
