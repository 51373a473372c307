#!/bin/sh
# Entrypoint of the offline Node.js image, as in the official node image: run
# the command with node when the first argument is an option, is not a command,
# or is a file that is not executable.
set -e

if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || :)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
	set -- node "$@"
fi

exec "$@"
