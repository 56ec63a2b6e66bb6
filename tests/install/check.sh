#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the build tree into a temporary prefix, then build and run a consumer
# program against it the ways users link: pkg-config (shared, static, redis,
# multiarch libdir) and find_package; then build lfpat from source inside a
# parent project with add_subdirectory and with FetchContent.
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

echo "== pkg-config (static: lfpat-static)"
"$cc" -std=c11 -Wall -Werror "$src/consumer.c" -o "$tmp/pc_static" \
      $(pkg-config --cflags --libs lfpat-static)
"$tmp/pc_static"
# Linked without the shared library: it must not be needed at run time.
if readelf -d "$tmp/pc_static" | grep -q 'liblfpat\.so'; then
  echo "lfpat-static.pc linked the shared library" >&2; exit 1
fi

redis=OFF
if [ -f "$libdir/pkgconfig/lfpat-redis.pc" ]; then
  redis=ON
  echo "== pkg-config (lfpat-redis)"
  "$cc" -std=c11 -Wall -Werror "$src/redis_consumer.c" -o "$tmp/pc_redis" \
        $(pkg-config --cflags --libs lfpat-redis)
  "$tmp/pc_redis"
fi

echo "== find_package(lfpat [COMPONENTS redis]) (shared, static, redis=$redis)"
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc" \
      -DWITH_REDIS=$redis >/dev/null
cmake --build "$tmp/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared"
"$tmp/cm/consumer_static"
[ $redis = OFF ] || "$tmp/cm/consumer_redis"

echo "== pkg-config with a Debian multiarch libdir (lib/x86_64-linux-gnu)"
cmake -S "$src/../.." -B "$tmp/mab" -DBUILD_TESTING=OFF -DLFP_BUILD_EXAMPLES=OFF \
      -DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/mab" >/dev/null
cmake --install "$tmp/mab" --prefix "$tmp/ma" >/dev/null
PKG_CONFIG_PATH="$tmp/ma/lib/x86_64-linux-gnu/pkgconfig" \
  "$cc" -std=c11 -Wall -Werror "$src/consumer.c" -o "$tmp/ma_static" \
        $(PKG_CONFIG_PATH="$tmp/ma/lib/x86_64-linux-gnu/pkgconfig" pkg-config --cflags --libs lfpat-static)
"$tmp/ma_static"
# subproject DIR CMAKE_ARGS...: build the parent project tests/subproject,
# which pulls lfpat in from source, and check that lfpat added only libraries.
subproject() {
  local dir=$1; shift
  cmake -S "$src/../subproject" -B "$dir" -DCMAKE_C_COMPILER="$cc" "$@" >/dev/null
  cmake --build "$dir" >/dev/null
  "$dir/test_queue"
  # The parent's tests are its own: lfpat added none.
  local tests
  tests=$(cd "$dir" && ctest -N | sed -n 's/^Total Tests: //p')
  [ "$tests" = 1 ] || { echo "lfpat added tests to its parent: $tests" >&2; exit 1; }
  if grep -q 'cmocka' "$dir/CMakeCache.txt"; then echo "subproject looked up cmocka" >&2; exit 1; fi
}
echo "== add_subdirectory(lfpat) from a parent project"
subproject "$tmp/sub" -DLFPAT_SOURCE_DIR="$src/../.."
echo "== FetchContent(lfpat) of a source archive (URL file://, offline)"
tar -C "$src/../.." --exclude=./build --exclude=./.git -czf "$tmp/lfpat-src.tar.gz" .
subproject "$tmp/fetch" -DLFPAT_URL="file://$tmp/lfpat-src.tar.gz"

echo "install_consumer: pkg-config, find_package, add_subdirectory and FetchContent consumers built and ran"
