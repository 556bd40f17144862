#!/usr/bin/env bash
# make format-check (CI) and make format: one style for every C file (.clang-format, clang-format 14,
# Debian's) and one include-guard rule: a header's guard is OB_ + its path, '/', '-' and '.' as '_'
# (actors/ccip-tail/track.h -> OB_ACTORS_CCIP_TAIL_TRACK_H), so a guard can never collide.
# usage: tools/check-format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0
[ "${1-}" = --fix ] && fix=1
CF=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$CF" ] || { echo "check-format: clang-format not found (make deps installs clang-format-14)" >&2; exit 1; }
ver=$("$CF" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
mapfile -t files < <(git ls-files '*.c' '*.h')
rc=0
if [ "$ver" != 14 ]; then
	# other versions format some constructs differently: checking with them would fail on clean code
	echo "check-format: $CF is version $ver, the style is pinned to 14: style not checked (guards are)" >&2
elif [ $fix = 1 ]; then
	"$CF" -i "${files[@]}"
else
	if ! out=$("$CF" --dry-run --Werror "${files[@]}" 2>&1); then
		echo "$out" | grep 'error:' | sed 's/:[0-9]*:[0-9]*: error:.*//' | sort -u | head -50
		echo "check-format: the files above are not formatted: run make format" >&2
		rc=1
	fi
fi
for f in "${files[@]}"; do
	case $f in *.h) ;; *) continue ;; esac
	want=OB_$(printf '%s' "${f%.h}" | tr 'a-z/.-' 'A-Z___')_H
	got=$(sed -n 's/^#ifndef[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/\1/p' "$f" | head -1)
	def=$(sed -n 's/^#define[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/\1/p' "$f" | head -1)
	[ "$got" = "$want" ] && [ "$def" = "$want" ] && continue
	if [ $fix = 1 ] && [ -n "$got" ]; then
		sed -i "s/\b$got\b/$want/g" "$f"
	else
		echo "$f: include guard '$got' should be $want" >&2
		rc=1
	fi
done
exit $rc
