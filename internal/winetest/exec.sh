#!/bin/sh
# The program go test -exec runs: it starts a Windows test binary under
# wine, in the prefix setup.sh made, and returns its exit status.
#
#   GOOS=windows go test -exec "$PWD/internal/winetest/exec.sh" ./pkg
set -eu
export WINEPREFIX="${WINEPREFIX:-${HOME:?}/.cache/scelle-wine}"
export WINEDEBUG="${WINEDEBUG:--all}"
exec "${WINE:-/usr/lib/wine/wine64}" "$@"
