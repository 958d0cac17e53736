#!/bin/sh
# Installs the test peers' npm dependencies from their lock files. Does nothing when they are already installed,
# so that test runs stay offline after the first one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for app in "$here"/express-app; do
  if [ -d "$app/node_modules" ]; then
    echo "install.sh: $app: node_modules present, skipping"
    continue
  fi
  if [ -f "$app/package-lock.json" ]; then
    (cd "$app" && npm ci --no-audit --no-fund)
  else
    (cd "$app" && npm install --no-audit --no-fund)
  fi
done
