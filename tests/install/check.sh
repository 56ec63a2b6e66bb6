#!/usr/bin/env bash
# Install the build tree into a temporary prefix, then build and run a consumer
# program against it the two ways users link: pkg-config and find_package.
set -euo pipefail
build=$1 src=$2 cc=${3:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1)
libdir=${libdir%/pkgconfig}

echo "== pkg-config (shared)"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
"$cc" -std=c11 -Wall -Werror "$src/consumer.c" -o "$tmp/pc_shared" \
      $(pkg-config --cflags --libs lfpat)
LD_LIBRARY_PATH="$libdir" "$tmp/pc_shared"

echo "== pkg-config (static)"
"$cc" -std=c11 -Wall -Werror "$src/consumer.c" -o "$tmp/pc_static" \
      $(pkg-config --cflags lfpat) "$libdir/liblfpat.a" $(pkg-config --libs --static lfpat | sed 's/-llfpat//')
"$tmp/pc_static"

echo "== find_package(lfpat) (shared and static)"
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared"
"$tmp/cm/consumer_static"
echo "== add_subdirectory(lfpat) from a parent project"
cmake -S "$src/../subproject" -B "$tmp/sub" -DLFPAT_SOURCE_DIR="$src/../.." \
      -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/sub" >/dev/null
"$tmp/sub/test_queue"
# The parent's tests are its own: lfpat added none.
tests=$(cd "$tmp/sub" && ctest -N | sed -n 's/^Total Tests: //p')
[ "$tests" = 1 ] || { echo "lfpat added tests to its parent: $tests" >&2; exit 1; }
grep -q 'cmocka' "$tmp/sub/CMakeCache.txt" && { echo "subproject looked up cmocka" >&2; exit 1; }

echo "install_consumer: pkg-config, find_package and add_subdirectory consumers built and ran"
