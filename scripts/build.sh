#!/usr/bin/env bash
# Configures and builds Gatehouse.
#
#   scripts/build.sh [Release|Debug|asan] [extra cmake -D options...]
#
#   Release (default) → build/        Debug → build-debug/        asan → build-asan/ (Debug + ASan/UBSan)
#
# Environment: TARGETS="gatehouse gatehouse_demo_app" builds only those targets (default: all); JOBS=N parallel
# jobs (default: the number of cores); BUILD_DIR overrides the directory; CI=true turns warnings into errors.
# ccache is used when it is installed (scripts/install-deps.sh installs it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

flavour=${1:-Release}
[[ $# -gt 0 ]] && shift

cmake_args=()
case $flavour in
  Release | release)
    dir=build
    cmake_args+=(-DCMAKE_BUILD_TYPE=Release -DGATEHOUSE_SANITIZE_ADDRESS=OFF)
    ;;
  Debug | debug)
    dir=build-debug
    cmake_args+=(-DCMAKE_BUILD_TYPE=Debug -DGATEHOUSE_SANITIZE_ADDRESS=OFF)
    ;;
  asan | ASan | ASAN)
    # Debug, not an optimised build: asserts stay on, and -O0 compiles fastest on a 2-core CI machine.
    dir=build-asan
    cmake_args+=(-DCMAKE_BUILD_TYPE=Debug -DGATEHOUSE_SANITIZE_ADDRESS=ON)
    ;;
  -h | --help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown build flavour '$flavour': Release, Debug or asan" ;;
esac
dir=${BUILD_DIR:-$GATEHOUSE_ROOT/$dir}

if [[ ${CI:-} == true ]]; then
  cmake_args+=(-DGATEHOUSE_WARNINGS_AS_ERRORS=ON)
fi
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # CI builds a fresh clone in a new folder each time: hash paths relative to the checkout (and not the build's
  # working directory), so that one clone's objects serve the next. Debug info then names the first clone's paths.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$GATEHOUSE_ROOT}
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
read -r -a targets <<<"${TARGETS:-}"

log "configuring $flavour in $dir"
mkdir -p "$dir"
cmake -S "$GATEHOUSE_ROOT" -B "$dir" "${cmake_args[@]}" "$@" >"$dir/configure.log" 2>&1 ||
  {
    cat "$dir/configure.log" >&2
    die "cmake configure failed (log: $dir/configure.log)"
  }

build_args=(--build "$dir" --parallel "$jobs")
if [[ ${#targets[@]} -gt 0 ]]; then
  build_args+=(--target "${targets[@]}")
fi
log "building ${TARGETS:-all targets} with $jobs job(s)"
start=$SECONDS
cmake "${build_args[@]}"
log "built $flavour in $((SECONDS - start))s: $dir"
