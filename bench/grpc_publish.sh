#!/usr/bin/env bash
# gRPC against HTTP on one evmeshd, same run: publish events/s (gRPC unary, batch,
# streaming with one event per message (plain and corked writes) and with batches of
# 10; HTTP binary mode with wrk),
# with no subscriptions (decode + admit + route); then Subscribe-stream delivery
# events/s and end-to-end latency at fixed rates (one group subscription, a
# PublishStream publisher and a Subscribe consumer). By hand only, not a ctest test.
#
#   bench/grpc_publish.sh [-d SECONDS] [-r ROUNDS] [-c "CLIENTS"] [-R "RATES"]
#     -d  seconds per measurement (default 5)      -r  rounds (default 3)
#     -c  concurrent clients: gRPC threads/streams and wrk connections (default "2 16")
#     -R  latency rates, events/s (default "1000 5000")
# Needs build-bench/ (or BUILD=dir) with evmeshd, grpc_publish, grpc_subscribe; wrk.
# WAIT_QUIET=SECONDS: wait for other builds on the machine before each round.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
BUILD=${BUILD:-$BENCH_ROOT/build-bench}
EVMESHD=$BUILD/src/evmeshd

DURATION=5 ROUNDS=3 CLIENTS="2 16" RATES="1000 5000"
while getopts "d:r:c:R:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CLIENTS=$OPTARG ;; R) RATES=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done
for tool in "$EVMESHD" "$BUILD/bench/grpc_publish" "$BUILD/bench/grpc_subscribe"; do
  [[ -x $tool ]] || { echo "missing $tool (ninja -C $BUILD evmeshd grpc_publish grpc_subscribe)" >&2; exit 1; }
done
RESULTS=$BENCH_TMP/results.txt
: > "$RESULTS"
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name: *//p' | head -1)"
echo "${DURATION}s per measurement, $ROUNDS round(s), clients: $CLIENTS, latency rates: $RATES"

# record NAME CLIENTS LINE: keep the events/s (or latency) figures of one measurement.
record() { echo "$1 c=$2 $3" >> "$RESULTS"; printf '  %-14s c=%-3s %s\n' "$1" "$2" "$3"; }

for ((round = 1; round <= ROUNDS; round++)); do
  wait_quiet
  echo "round $round (load $(load_avg))"
  config=$BENCH_TMP/evmesh.yaml
  write_config "$config" 0 0 unused
  # publish_wait 60s: in the delivery run the publisher is paced by backpressure, not failed.
  start_evmeshd "$config" --set grpc.enabled=true --set grpc.port=0 --set grpc.publish_wait=60s
  for ((i = 0; i < 100; i++)); do grep -q "grpc listening" "$EVMESHD_LOG" && break; sleep 0.05; done
  http_port=$(grep -oP '\[http\] listening on 127\.0\.0\.1:\K\d+' "$EVMESHD_LOG")
  grpc=127.0.0.1:$(grep -oP 'grpc listening on 127\.0\.0\.1:\K\d+' "$EVMESHD_LOG")
  for c in $CLIENTS; do
    record grpc-unary "$c" "$("$BUILD/bench/grpc_publish" "$grpc" unary "$DURATION" "$c")"
    record grpc-batch100 "$c" "$("$BUILD/bench/grpc_publish" "$grpc" batch "$DURATION" "$c" 100)"
    record grpc-stream "$c" "$("$BUILD/bench/grpc_publish" "$grpc" stream "$DURATION" "$c" 1)"
    record grpc-stream-cork "$c" "$("$BUILD/bench/grpc_publish" "$grpc" stream-corked "$DURATION" "$c" 1)"
    record grpc-stream10 "$c" "$("$BUILD/bench/grpc_publish" "$grpc" stream "$DURATION" "$c" 10)"
    out=$(wrk -t"$(( c < 2 ? c : 2 ))" -c"$c" -d"${DURATION}s" -s "$HERE/wrk/binary_event.lua" \
            "http://127.0.0.1:$http_port/" | grep '^WRK_RESULT')
    record http-binary "$c" "$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                                  printf "events/s=%.0f non2xx=%d", v["requests"] / (v["duration_us"] / 1e6), v["non2xx"] }' <<< "$out")"
  done
  record grpc-deliver 1 "$("$BUILD/bench/grpc_subscribe" "$grpc" deliver "$DURATION")"
  for rate in $RATES; do
    record "grpc-latency" 1 "$("$BUILD/bench/grpc_subscribe" "$grpc" latency "$DURATION" "$rate")"
  done
  stop_evmeshd
  EVMESHD_PID=
done

echo
python3 - "$RESULTS" <<'PY'
# Median and range over rounds of each figure, one row per (scenario, clients[, rate]).
import re, statistics, sys
rows, order = {}, []
for line in open(sys.argv[1]):
    name, c, *fields = line.split()
    kv = dict(f.split("=", 1) for f in fields if "=" in f)
    key = (name, c, kv.get("rate", ""))
    if key not in rows: order.append(key)
    rows.setdefault(key, []).append(kv)
print("| scenario | clients | figure | median | range (min-max) |")
print("|---|---|---|---|---|")
for key in order:
    name, c, rate = key
    figs = ["events/s"] if "events/s" in rows[key][0] else \
           ["delivered/s"] if "delivered/s" in rows[key][0] else ["p50_us", "p99_us", "max_us"]
    for f in figs:
        xs = [float(r[f]) for r in rows[key] if f in r]
        label = f"{name} @{rate}/s" if rate else name
        print(f"| {label} | {c[2:]} | {f} | {statistics.median(xs):.0f} | {min(xs):.0f}-{max(xs):.0f} |")
PY
