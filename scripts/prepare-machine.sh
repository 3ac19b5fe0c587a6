#!/bin/sh
# Brings what `npm run dev` and `npm test` need onto a fresh machine, and says
# what it does: the project's dependencies (with its own Node.js 24, the `node`
# devDependency) and Debian's redis-server. Safe to run again: it does nothing
# when everything is there.
set -eu
cd "$(dirname "$0")/.."

say() { printf 'mxpost: %s\n' "$*" >&2; }

# npm writes node_modules/.package-lock.json on every install; when it is older
# than the lockfile, the install is stale.
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing dependencies with 'npm ci' (this brings Node.js 24 into node_modules)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v redis-server >/dev/null 2>&1; then
  say "redis-server not found: installing Debian's redis-server package"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  say "installed $(redis-server --version | cut -d' ' -f1-3)"
fi

# The console's tests (test/console/) run in a real browser: Debian's Chromium,
# driven by playwright-core, which brings no browser of its own. `npm run dev`
# does not need it, so only the other callers (npm test, CI) install it.
if [ "${npm_lifecycle_event:-}" != dev ] && [ ! -x /usr/bin/chromium ]; then
  say "chromium not found: installing Debian's chromium package for the console's browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  say "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
fi
