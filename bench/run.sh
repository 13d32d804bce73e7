#!/usr/bin/env bash
# Runs every benchmark phase against a release build and writes bench/results.json (bench/README.md).
# Usage: bench/run.sh build/release [bench.py options, e.g. --phases latency --profile]
# Each phase stops by itself; the whole run takes about 12 minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-build/release}"
shift || true
if [[ ! -x "$build/bench/sqlite_ceiling/sqlite_ceiling" ]]; then
  echo "bench/run.sh: $build has no benchmark programs; build the release preset first (make bench)" >&2
  exit 1
fi
exec python3 "$here/bench.py" "$build" "$@"
