# shellcheck shell=bash disable=SC2034  # STOP_RC, CLK_TCK and the like are read by the sourcing scripts
# Shared helpers for bench/http_ingest.sh and bench/latency.sh (sourced, not run).
#
# Every process started here is recorded in BENCH_PIDS and stopped by PID on exit;
# every file goes to one temp dir (BENCH_TMP), removed on exit unless KEEP_TMP=1.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EVMESHD=${EVMESHD:-$BENCH_ROOT/build-bench/src/evmeshd}
NGINX=${NGINX:-/usr/sbin/nginx}
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/evmesh-bench.XXXXXX")
BENCH_PIDS=()

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $BENCH_TMP" >&2; else rm -rf "$BENCH_TMP"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (default 15), then SIGKILL.
# STOP_RC is its exit status (128+N: killed by signal N, e.g. 137 after SIGKILL here).
stop_pid() {
  local pid=$1 limit=$(( ${2:-15} * 10 )) i
  STOP_RC=0
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || STOP_RC=$?
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < limit; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || STOP_RC=$?
      return 0
    fi
    sleep 0.1
  done
  echo "pid $pid did not stop ${2:-15} s after SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || STOP_RC=$?
  return 0
}

forget_pid() {
  local keep=() p
  for p in "${BENCH_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (5 s).
wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on 127.0.0.1:$1" >&2
  return 1
}

# cpu_ticks PID: user+system clock ticks the process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# start_nginx WORKERS: nginx answering `return 202` on a free port.
# Sets NGINX_PORT and NGINX_PID.
start_nginx() {
  local workers=$1 dir=$BENCH_TMP/nginx
  mkdir -p "$dir"
  NGINX_PORT=$(free_port)
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /nginx_status { stub_status; }
    location / { return 202; }
  }
}
CONF
  "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  BENCH_PIDS+=("$NGINX_PID")
  wait_port "$NGINX_PORT" || { cat "$dir/error.log" >&2; return 1; }
}

# nginx_requests: total requests nginx has handled (stub_status; this query counts as one).
nginx_requests() {
  curl -s "http://127.0.0.1:$NGINX_PORT/nginx_status" | awk 'NR == 3 {print $3}'
}

# start_evmeshd CONFIG [--set k=v ...]: start the daemon on a free port; wait for
# its `listening on HOST:PORT` line. Sets EVMESHD_PORT, EVMESHD_PID, EVMESHD_LOG.
start_evmeshd() {
  local config=$1 i
  shift
  EVMESHD_LOG=$BENCH_TMP/evmeshd.$RANDOM.log
  : > "$EVMESHD_LOG"
  "$EVMESHD" --config "$config" --set http.port=0 "$@" > "$EVMESHD_LOG" 2>&1 &
  EVMESHD_PID=$!
  BENCH_PIDS+=("$EVMESHD_PID")
  for ((i = 0; i < 200; i++)); do
    EVMESHD_PORT=$(sed -nE 's/.*listening on [^ ]*:([0-9]+).*/\1/p' "$EVMESHD_LOG" | head -1)
    [[ -n $EVMESHD_PORT ]] && return 0
    kill -0 "$EVMESHD_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "evmeshd did not start; its log:" >&2
  cat "$EVMESHD_LOG" >&2
  return 1
}

stop_evmeshd() {
  stop_pid "$EVMESHD_PID" "${1:-15}"
  forget_pid "$EVMESHD_PID"
}

# write_config FILE COUNT MATCHING SINK [CONCURRENCY [QUEUE_CAPACITY]]: COUNT subscriptions
# delivering to SINK; the first MATCHING of them match type com.example.bench.event,
# the others an exact type no event has.
write_config() {
  local file=$1 count=$2 matching=$3 sink=$4 concurrency=${5:-1} capacity=${6:-10000} i type
  {
    echo "log: {level: info}"    # the `listening on` line is info
    echo "runtime: {drain_timeout: ${DRAIN_TIMEOUT:-2s}}"
    echo "delivery: {concurrency: $concurrency, queuecapacity: $capacity}"
    if ((count == 0)); then echo "subscriptions: []"; else echo "subscriptions:"; fi
    for ((i = 0; i < count; i++)); do
      if ((i < matching)); then type=com.example.bench.event; else type=com.example.bench.other$i; fi
      echo "  - id: bench-$i"
      echo "    sink: $sink"
      [[ -n ${DURABLE:-} ]] && echo "    durable: true"
      echo "    protocol: HTTP"
      echo "    filters:"
      echo "      - exact: {type: $type}"
    done
  } > "$file"
}

# builds_running: how many compiler/linker processes run on the machine right now.
# shellcheck disable=SC2009  # pgrep -x rejects patterns over 15 characters
builds_running() { ps -eo comm= | grep -cxE 'cc1plus|cc1|lto1|ld|ld.gold|ld.bfd|collect2' || true; }

# wait_quiet: with WAIT_QUIET=SECONDS, wait up to that long until no compiler or linker
# runs on the machine (it is shared; a build steals a core and halves any figure).
# Prints what it found either way, so the load goes into the record.
wait_quiet() {
  local limit=${WAIT_QUIET:-0} waited=0 busy
  busy=$(builds_running)
  while ((waited < limit && busy > 0)); do
    sleep 5
    waited=$((waited + 5))
    busy=$(builds_running)
  done
  if ((busy > 0)); then
    echo "  (machine busy: $busy compiler/linker processes, load $(load_avg))"
  elif ((waited > 0)); then
    echo "  (waited ${waited}s for a quiet machine)"
  fi
}
