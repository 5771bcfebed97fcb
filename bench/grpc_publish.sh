#!/usr/bin/env bash
# Publish throughput over gRPC (unary, batch) vs HTTP (wrk, binary mode) against one
# evmeshd with no subscriptions (decode + admit + route), same run. By hand only.
#   bench/grpc_publish.sh [SECONDS]   needs build-grpc/ (or BUILD=dir), wrk
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$HERE/../build-grpc}
SECONDS_EACH=${1:-5}
log=$(mktemp)
"$BUILD/src/evmeshd" --config "$HERE/../config/evmesh.yaml" --set http.port=0 --set grpc.enabled=true \
  --set grpc.port=0 --set log.level=info >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "grpc listening" "$log" && break; sleep 0.05; done
http_port=$(grep -oP '\[http\] listening on 127\.0\.0\.1:\K\d+' "$log")
grpc_port=$(grep -oP 'grpc listening on 127\.0\.0\.1:\K\d+' "$log")
for c in 2 16; do
  "$BUILD/bench/grpc_publish" "127.0.0.1:$grpc_port" unary "$SECONDS_EACH" "$c"
  "$BUILD/bench/grpc_publish" "127.0.0.1:$grpc_port" batch "$SECONDS_EACH" "$c" 100
  echo -n "http-wrk connections=$c "
  wrk -t2 -c"$c" -d"${SECONDS_EACH}s" -s "$HERE/wrk/binary_event.lua" "http://127.0.0.1:$http_port/" \
    | awk '/Requests\/sec/ {print "events/s=" $2}'
done
