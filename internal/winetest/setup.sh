#!/bin/sh
# Makes the wine prefix the Windows tests run in (issue 13), once:
# Debian 12's wine 8 cannot start a Go 1.26 program, whose runtime calls
# ProcessPrng in bcryptprimitives.dll, a DLL wine 8 lacks. The prefix gets
# one made here: a forwarder of ProcessPrng to advapi32.SystemFunction036
# (RtlGenRandom), which fills a buffer with random bytes as ProcessPrng
# does, built with MinGW's binutils alone (no compiler).
#
#   internal/winetest/setup.sh        prints the prefix's path, its
#                                     wineserver and services started
#
# WINEPREFIX says where the prefix goes (default $HOME/.cache/scelle-wine:
# outside the repository and outside /tmp, which a live triage collects).
# Quick when done already: the DLL is the stamp.
#
# It also writes $prefix/go-overlay.json, for go test -overlay: wine 8
# refuses FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE ("Invalid function"),
# so os.RemoveAll (t.TempDir's cleanup) cannot remove a read-only file, as
# scelle writes its sealed files. The overlay makes the test binaries take
# Go's own fallback (clear the attribute, then delete), the path Go takes
# on Windows before 10 1809 and on FAT32; scelle's code is unchanged.
set -eu
prefix=${WINEPREFIX:-${HOME:?}/.cache/scelle-wine}
loader=${WINE:-/usr/lib/wine/wine64}
dll=$prefix/drive_c/windows/system32/bcryptprimitives.dll

overlay() {
	src=$(${GO:-go} env GOROOT)/src/internal/syscall/windows/at_windows.go
	mkdir -p "$prefix/go-overlay"
	sed 's/^var TestDeleteatFallback bool$/var TestDeleteatFallback = true/' "$src" >"$prefix/go-overlay/at_windows.go"
	grep -q '^var TestDeleteatFallback = true$' "$prefix/go-overlay/at_windows.go" || {
		echo "winetest: $src no longer declares TestDeleteatFallback: update setup.sh" >&2
		exit 1
	}
	printf '{"Replace":{"%s":"%s"}}\n' "$src" "$prefix/go-overlay/at_windows.go" >"$prefix/go-overlay.json"
}

# start: a wineserver that outlives its clients by 5 minutes, and wine's
# services booted, all with /dev/null for standard streams. Else the
# first Windows program of a run starts them, they inherit its standard
# output, and go test waits a minute for that pipe to close ("Test I/O
# incomplete").
start() {
	WINEPREFIX=$prefix "${WINESERVER:-/usr/lib/wine/wineserver}" -p 300 </dev/null >/dev/null 2>&1 || true
	WINEPREFIX=$prefix WINEDEBUG=-all "$loader" wineboot </dev/null >/dev/null 2>&1 || true
}

if [ -f "$dll" ]; then
	overlay
	start
	echo "$prefix"
	exit 0
fi
for tool in "$loader" x86_64-w64-mingw32-dlltool x86_64-w64-mingw32-ld; do
	command -v "$tool" >/dev/null || {
		echo "winetest: $tool is missing: install Debian's wine64 and binutils-mingw-w64-x86-64" >&2
		exit 1
	}
done
mkdir -p "$prefix"
# wineboot makes the prefix; no Mono or Gecko (they would be downloaded).
WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' "$loader" wineboot --init >/dev/null 2>&1
WINEPREFIX=$prefix "${WINESERVER:-/usr/lib/wine/wineserver}" --wait 2>/dev/null || true
work=$(mktemp -d "$prefix/.dll.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/bcryptprimitives.def" <<'DEF'
LIBRARY bcryptprimitives.dll
EXPORTS
ProcessPrng = advapi32.SystemFunction036
DEF
x86_64-w64-mingw32-dlltool -d "$work/bcryptprimitives.def" -e "$work/exports.o"
x86_64-w64-mingw32-ld -shared --entry 0 -o "$work/bcryptprimitives.dll" "$work/exports.o"
mv "$work/bcryptprimitives.dll" "$dll.partial"
mv "$dll.partial" "$dll"
overlay
start
echo "$prefix"
