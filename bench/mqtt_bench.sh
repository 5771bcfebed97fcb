#!/usr/bin/env bash
# MQTT throughput, latency and idle memory: evmeshd's native listener and mosquitto,
# measured in the same run by the same tool (bench/mqtt_load.cpp, raw sockets).
#
#   bench/mqtt_bench.sh                 # ROUNDS=3 SECONDS_PER=5 IDLE=10000 by default
#   EVMESHD=build-broker/src/evmeshd MQTT_LOAD=build-broker/bench/mqtt_load bench/mqtt_bench.sh
#
# Scenarios, 256-byte payloads, MQTT 3.1.1, one topic: QoS 0 and QoS 1 1->1 (as fast as
# the broker goes, at most 2,000 messages outstanding), QoS 0 1->10 (deliveries/s),
# QoS 1 at 5,000 msgs/s open loop (p50/p99 latency from the send time, on blocking
# threads; mqtt_load.cpp says why), and
# RSS growth per idle connection at IDLE connections. Prints every run, then medians.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MQTT_LOAD=${MQTT_LOAD:-$BENCH_ROOT/build-bench/bench/mqtt_load}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
ROUNDS=${ROUNDS:-3}
SECONDS_PER=${SECONDS_PER:-5}
IDLE=${IDLE:-10000}

start_mosquitto() {
  MOSQ_PORT=$(free_port)
  cat > "$BENCH_TMP/mosquitto.conf" <<CONF
listener $MOSQ_PORT 127.0.0.1
allow_anonymous true
max_queued_messages 10000
persistence false
CONF
  "$MOSQUITTO" -c "$BENCH_TMP/mosquitto.conf" > "$BENCH_TMP/mosquitto.log" 2>&1 &
  MOSQ_PID=$!
  BENCH_PIDS+=("$MOSQ_PID")
  wait_port "$MOSQ_PORT"
}

start_evmesh_mqtt() {
  EVMESH_MQTT_PORT=$(free_port)
  : > "$BENCH_TMP/empty.yaml"
  start_evmeshd "$BENCH_TMP/empty.yaml" --set grpc.enabled=false \
    --set mqtt.enabled=true --set "mqtt.port=$EVMESH_MQTT_PORT" \
    --set mqtt.max_queued_messages=10000  # as mosquitto's max_queued_messages above
  wait_port "$EVMESH_MQTT_PORT"
}

# run BROKER PORT ARGS...: one mqtt_load run; appends "BROKER SCENARIO line" to results.
run() {
  local broker=$1 port=$2 scenario=$3
  shift 3
  local line
  line=$("$MQTT_LOAD" --port "$port" "$@")
  echo "$broker $scenario $line (load $(load_avg))"
  echo "$broker $scenario $line" >> "$BENCH_TMP/results"
}

: > "$BENCH_TMP/results"
start_mosquitto
start_evmesh_mqtt
for ((round = 1; round <= ROUNDS; round++)); do
  for target in "evmeshd $EVMESH_MQTT_PORT" "mosquitto $MOSQ_PORT"; do
    # shellcheck disable=SC2086
    set -- $target
    run "$1" "$2" qos0_1to1 --qos 0 --subscribers 1 --seconds "$SECONDS_PER"
    run "$1" "$2" qos1_1to1 --qos 1 --subscribers 1 --seconds "$SECONDS_PER"
    run "$1" "$2" qos0_1to10 --qos 0 --subscribers 10 --seconds "$SECONDS_PER"
    run "$1" "$2" qos1_5k_latency --qos 1 --subscribers 1 --seconds "$SECONDS_PER" --rate 5000
  done
done
echo "idle memory ($IDLE connections each):"
"$MQTT_LOAD" --port "$EVMESH_MQTT_PORT" --idle "$IDLE" --pid "$EVMESHD_PID" | sed 's/^/evmeshd   /'
"$MQTT_LOAD" --port "$MOSQ_PORT" --idle "$IDLE" --pid "$MOSQ_PID" | sed 's/^/mosquitto /'

echo
echo "medians of $ROUNDS rounds:"
python3 - "$BENCH_TMP/results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    broker, scenario, rest = line.split(" ", 2)
    fields = dict(re.findall(r"(\w+)=([\d.]+)", rest))
    rows.setdefault((scenario, broker), []).append(fields)
print(f"{'scenario':<18}{'broker':<11}{'published/s':>13}{'deliveries/s':>14}{'p50 us':>10}{'p99 us':>10}")
for (scenario, broker), runs in sorted(rows.items()):
    med = lambda k: statistics.median(float(r[k]) for r in runs)
    print(f"{scenario:<18}{broker:<11}{med('published_per_s'):>13.0f}{med('deliveries_per_s'):>14.0f}"
          f"{med('p50_us'):>10.0f}{med('p99_us'):>10.0f}")
PY
