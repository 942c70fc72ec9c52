#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the build in BUILD_DIR into a temporary prefix, then build the
# consumers in CONSUMER_DIR (a C++ program and a C program) against that
# prefix twice, through find_package(stek) and through pkg-config, and run
# them all.
#
# usage: check_install.sh BUILD_DIR LIBDIR CONSUMER_DIR
#   LIBDIR is CMAKE_INSTALL_LIBDIR. The environment may set CMAKE, CC and
#   CXX (the tools to use), STEK_CONSUMER_FLAGS (compile and link flags for
#   the consumers, e.g. the sanitizers the libraries were built with) and
#   STEK_SOURCE_DIR (checked not to leak into the installed package files).
# Exits 0 on success, 77 if LIBDIR is absolute (no prefix can move it), and
# 1 on any failure, leaving its work directory for a look.
set -eu

build=$1
libdir=$2
consumer=$3
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
cxx=${CXX:-c++}
flags=${STEK_CONSUMER_FLAGS:-}

case $libdir in
/*) echo "skipped: CMAKE_INSTALL_LIBDIR $libdir is absolute"; exit 77 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/stek-install.XXXXXX")
finish() {
  if [ "$1" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "work directory kept: $work" >&2
  fi
}
trap 'finish $?' EXIT
prefix=$work/prefix
missing=$work/missing/tickets.json

fail() {
  echo "check_install: $*" >&2
  exit 1
}

expected_cxx='key id: 32 hex digits
keystore: 2 keys, the first from 2026-01-01T00:00:00Z'
expected_c='C API: a missing keystore is not_found'

run_consumer() { # WHAT EXPECTED PROGRAM [ARG...]
  what=$1
  expected=$2
  shift 2
  LD_LIBRARY_PATH=$libpath "$@" >"$work/out" || fail "$what failed"
  [ "$(cat "$work/out")" = "$expected" ] ||
    fail "$what printed:
$(cat "$work/out")
expected:
$expected"
  echo "$what: ok"
}

echo "== cmake --install $build --prefix $prefix"
unset DESTDIR
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log"; fail "cmake --install failed"; }

for f in include/stek/key.hpp include/stek/stek.h \
         include/stek/formats/native_keystore.hpp \
         include/stek/formats/file_provider.hpp \
         "$libdir/pkgconfig/stek.pc" \
         "$libdir/cmake/stek/stekConfig.cmake" \
         "$libdir/cmake/stek/stekConfigVersion.cmake" \
         "$libdir/cmake/stek/stekTargets.cmake"; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
ls "$prefix/$libdir"/libstek.* "$prefix/$libdir"/libstek_formats.* \
  >/dev/null 2>&1 || fail "libstek or libstek_formats not installed"
if grep -q -e stek_settings -e stek_warnings "$prefix/$libdir"/cmake/stek/*.cmake; then
  fail "build-only targets leak into the installed CMake package"
fi
if [ -n "${STEK_SOURCE_DIR:-}" ] &&
   grep -l -F "$STEK_SOURCE_DIR" "$prefix/$libdir"/cmake/stek/*.cmake \
     "$prefix/$libdir/pkgconfig/stek.pc"; then
  fail "the installed package files above name the source tree"
fi
# With shared libraries, the installed stekctl and the consumers find them
# through LD_LIBRARY_PATH (CMake's build rpath would do for its own).
libpath=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -x "$prefix/bin/stekctl" ]; then
  LD_LIBRARY_PATH=$libpath "$prefix/bin/stekctl" --version >/dev/null ||
    fail "the installed stekctl does not run"
  # The completion scripts sit where each shell looks, and are what the
  # installed stekctl writes.
  for pair in bash:share/bash-completion/completions/stekctl \
              zsh:share/zsh/vendor-completions/_stekctl \
              fish:share/fish/vendor_completions.d/stekctl.fish; do
    shell=${pair%%:*}
    file=$prefix/${pair#*:}
    [ -f "$file" ] || fail "not installed: ${pair#*:}"
    LD_LIBRARY_PATH=$libpath "$prefix/bin/stekctl" completion "$shell" >"$work/completion" ||
      fail "stekctl completion $shell failed"
    cmp -s "$file" "$work/completion" ||
      fail "${pair#*:} differs from what stekctl completion $shell writes"
  done
fi

echo "== find_package(stek) with CMAKE_PREFIX_PATH=$prefix"
"$cmake" -S "$consumer" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/configure.log" ||
  { cat "$work/configure.log"; fail "configuring the consumers with find_package(stek) failed"; }
found=$(sed -n 's/^stek_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
[ "$found" = "$prefix/$libdir/cmake/stek" ] ||
  fail "find_package(stek) found $found, not the one just installed"
"$cmake" --build "$work/cmake-build" >"$work/build.log" ||
  { cat "$work/build.log"; fail "building the consumers with find_package(stek) failed"; }
run_consumer "find_package: C++ consumer" "$expected_cxx" \
  "$work/cmake-build/stek_consumer"
run_consumer "find_package: C consumer" "$expected_c" \
  "$work/cmake-build/stek_consumer_c" "$missing"

echo "== pkg-config stek with PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig"
PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
pc=$(pkg-config --cflags --libs stek) || fail "pkg-config --cflags --libs stek failed"
echo "pkg-config --cflags --libs stek: $pc"
[ -f "$(pkg-config --variable=includedir stek)/stek/key.hpp" ] ||
  fail "pkg-config's includedir does not hold the installed headers"
# Word splitting of $flags and $pc is wanted: they are lists of options.
# The C program is compiled and linked by the C compiler alone: stek.pc
# names the C++ runtime a static libstek needs.
# shellcheck disable=SC2086
"$cxx" -std=c++20 $flags -o "$work/pc-consumer" "$consumer/consumer.cpp" $pc ||
  fail "building the C++ consumer with pkg-config failed"
# shellcheck disable=SC2086
"$cc" -std=c11 $flags -o "$work/pc-consumer-c" "$consumer/consumer.c" $pc ||
  fail "building the C consumer with pkg-config failed"
run_consumer "pkg-config: C++ consumer" "$expected_cxx" "$work/pc-consumer"
run_consumer "pkg-config: C consumer" "$expected_c" "$work/pc-consumer-c" "$missing"

echo "== all consumers built and ran against $prefix"
