#!/bin/sh
# Fetch the kernel the QEMU memory test boots (issue 11): Debian's current
# linux-image-<version>-amd64, the one the metapackage linux-image-amd64
# depends on, downloaded with apt-get download and unpacked with dpkg-deb -x
# (never installed) into the cache, outside the repository and outside /tmp:
#
#   ${SCELLE_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scelle-qemu}/<package>/
#
# and points <cache>/current at it. A second run with the same version
# downloads nothing. Prints the unpacked folder. Called by the Makefile's
# deps (so by .ci/run through make test); the test (internal/qemutest)
# reads <cache>/current.
set -eu
cache=${SCELLE_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scelle-qemu}
command -v apt-cache >/dev/null || { echo "kernel.sh: apt-cache not found (Debian only)" >&2; exit 1; }
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	# The lists may never have been fetched on a fresh machine.
	if [ "$(id -u)" = 0 ]; then apt-get update -qq; fi
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
fi
[ -n "$pkg" ] || { echo "kernel.sh: no linux-image-<version>-amd64 behind linux-image-amd64 (apt-get update?)" >&2; exit 1; }
dir=$cache/$pkg
if [ ! -f "$dir/.complete" ]; then
	mkdir -p "$cache"
	work=$(mktemp -d "$cache/.download.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && apt-get download -qq "$pkg" >/dev/null 2>&1 || apt-get download "$pkg")
	dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root"
	rm -rf "$dir"
	mv "$work/root" "$dir"
	touch "$dir/.complete"
fi
ln -sfn "$pkg" "$cache/current"
echo "$dir"
