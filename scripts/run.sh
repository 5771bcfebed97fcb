#!/usr/bin/env bash
# The README's run command: installs what is missing, builds evmeshd and starts it
# on config/evmesh.yaml (loopback, no external service). Extra arguments go to
# evmeshd, e.g. scripts/run.sh --set http.port=9000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/build.sh evmeshd
exec build/src/evmeshd --config config/evmesh.yaml "$@"
