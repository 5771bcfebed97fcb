#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything and runs
# every test (unit and integration). Extra arguments go to ctest, e.g. -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300 "$@"
