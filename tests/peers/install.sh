#!/bin/sh
# Installs the test peers' npm dependencies from their lock files. Does nothing when they are already installed,
# so that test runs stay offline after the first one.
#
# Safe to run from several tests at once (ctest -j): the install holds a lock, and an app counts as installed
# only once its marker file exists — written after npm finished — so that nobody starts an app from a
# node_modules that npm is still filling.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
marker=.gatehouse-installed
exec 9>"$here/.install.lock"
flock 9
for app in "$here"/express-app; do
  if [ -f "$app/node_modules/$marker" ]; then
    echo "install.sh: $app: installed, skipping"
    continue
  fi
  if [ -f "$app/package-lock.json" ]; then
    (cd "$app" && npm ci --no-audit --no-fund)
  else
    (cd "$app" && npm install --no-audit --no-fund)
  fi
  touch "$app/node_modules/$marker"
done
