#!/usr/bin/env bash
# Installs what Gatehouse needs to build, test and run its demo, from Debian's packages, and only what is missing:
# `apt-get update` runs only when something must be installed, so a second run is a quick, silent no-op.
#
#   scripts/install-deps.sh [--build-only] [--bench]
#
#   --build-only   the compiler and libraries only (the docker build stage): no redis, node or test tools
#   --bench        also wrk and nginx-light (bench/)
#
# Works as root (CI, docker) and through sudo otherwise. Installing never starts a service: Debian's redis-server
# package would start one, so a policy-rc.d refuses service starts for the length of the install.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_only=false
bench=false
for arg in "$@"; do
  case $arg in
    --build-only) build_only=true ;;
    --bench) bench=true ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

# The express-session test peer needs node >= 18 and npm. Node from another source (nodesource, nvm) may already be
# on PATH and newer than Debian's; installing Debian's nodejs/npm next to it would conflict or shadow it.
readonly kMinNodeMajor=18

packages=(build-essential cmake pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libhiredis-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libssl-dev
  ca-certificates)
if ! $build_only; then
  packages+=(libgtest-dev libgmock-dev googletest redis-server redis-tools openssl curl)
fi
if $bench; then
  packages+=(wrk nginx-light)
fi

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == "ii"* ]]
}

node_major() {
  local version
  version=$(node --version 2>/dev/null) || return 1
  version=${version#v}
  echo "${version%%.*}"
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done

if ! $build_only; then
  major=$(node_major || echo 0)
  if [[ $major -ge $kMinNodeMajor ]]; then
    command -v npm >/dev/null 2>&1 ||
      log "warning: node $(node --version) is on PATH without npm; the express test peer cannot be installed"
  elif [[ $major -gt 0 ]] && ! installed nodejs; then
    die "node $(node --version) on PATH is older than $kMinNodeMajor and not Debian's: upgrade it, or remove it so" \
      "that Debian's nodejs can be installed"
  else
    installed nodejs || missing+=(nodejs)
    installed npm || command -v npm >/dev/null 2>&1 || missing+=(npm)
  fi
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

log "installing: ${missing[*]}"

# Refuse service starts during the install (Debian's invoke-rc.d honours /usr/sbin/policy-rc.d; exit 101 = "action
# forbidden"). An existing policy file is someone else's: leave it alone and use it as it is.
policy=/usr/sbin/policy-rc.d
created_policy=false
remove_policy() {
  if $created_policy; then as_root rm -f "$policy"; fi
}
trap remove_policy EXIT
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# written by gatehouse scripts/install-deps.sh for the length of an install\nexit 101\n' |
    as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  created_policy=true
fi

export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "installed ${#missing[@]} package(s)"
