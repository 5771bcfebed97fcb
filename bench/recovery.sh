#!/usr/bin/env bash
# Recovery of the embedded store with N unsettled events in the data directory: time
# from evmeshd's exec to ready (its HTTP listener accepts) and to the first redelivery
# (the sink's first request), and bytes on disk per event. Not a ctest test.
# From evmeshd's log it also takes when the store was open (`event store opened`) and
# when the backlog was read back (`redelivering N un-acked event(s)`).
#
#   bench/recovery.sh [-n EVENTS] [-b DATA_BYTES] [-r ROUNDS]
#
# One fill (bench/store_fill, batches of 1,000) makes a data directory whose durable
# subscription `bench` has settled nothing; each round starts evmeshd on a fresh copy of
# it (the page cache is warm: the copy was just written), with `bench` declared in YAML and
# its sink a small Python HTTP server that records when its first request came.
#
# Needs build-bench/src/evmeshd and build-bench/bench/store_fill (or EVMESHD=, STORE_FILL=).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
STORE_FILL=${STORE_FILL:-$BENCH_ROOT/build-bench/bench/store_fill}

EVENTS=1000000 DATA_BYTES=200 ROUNDS=3
while getopts "n:b:r:h" opt; do
  case $opt in
    n) EVENTS=$OPTARG ;; b) DATA_BYTES=$OPTARG ;; r) ROUNDS=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done

now_ms() { date +%s%3N; }
# log_ms LOG PATTERN: epoch ms of the first log line matching PATTERN (its timestamp).
log_ms() {
  local stamp
  stamp=$(grep -m1 "$2" "$1" | cut -d' ' -f1)
  [[ -n $stamp ]] && date -d "${stamp/T/ }" +%s%3N || echo 0
}

# The sink: writes the epoch milliseconds of its first request to $1, answers 200.
start_sink() {
  SINK_PORT=$(free_port)
  python3 - "$SINK_PORT" "$1" 2>/dev/null <<'PY' &
import http.server, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
first = []
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        if not first:
            first.append(1)
            with open(out, "w") as f: f.write(str(int(time.time() * 1000)))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  SINK_PID=$!
  BENCH_PIDS+=("$SINK_PID")
  wait_port "$SINK_PORT"
}

echo "load before: $(load_avg)"
FILLED=$BENCH_TMP/filled
"$STORE_FILL" "$FILLED" "$EVENTS" "$DATA_BYTES" | tee "$BENCH_TMP/fill.txt"
record_bytes=$(awk '{print $4}' "$BENCH_TMP/fill.txt")
disk_bytes=$(du -sb "$FILLED" | cut -f1)
echo "on disk after the fill: $disk_bytes bytes = $((disk_bytes / EVENTS)) bytes/event" \
     "(records: $((record_bytes / EVENTS)) bytes/event)"

printf '%-6s %14s %16s %10s %16s %10s\n' round store_open_ms backlog_read_ms ready_ms first_redeliv_ms rss_mib
for ((round = 1; round <= ROUNDS; round++)); do
  data=$BENCH_TMP/data.$round
  cp -a "$FILLED" "$data"
  start_sink "$BENCH_TMP/first.$round"
  cat > "$BENCH_TMP/recovery.yaml" <<YAML
store: {data_dir: $data}
runtime: {drain_timeout: 0}
subscriptions:
  - id: bench
    sink: http://127.0.0.1:$SINK_PORT/hook
    durable: true
YAML
  port=$(free_port)
  t0=$(now_ms)
  "$EVMESHD" --config "$BENCH_TMP/recovery.yaml" --set "http.port=$port" \
    > "$BENCH_TMP/evmeshd.$round.log" 2>&1 &
  pid=$!
  BENCH_PIDS+=("$pid")
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$BENCH_TMP/evmeshd.$round.log" >&2; exit 1; }
    sleep 0.01
  done
  t_ready=$(now_ms)
  until [[ -s $BENCH_TMP/first.$round ]]; do sleep 0.01; done
  t_first=$(cat "$BENCH_TMP/first.$round")
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  log=$BENCH_TMP/evmeshd.$round.log
  t_open=$(log_ms "$log" "event store opened")
  t_read=$(log_ms "$log" "un-acked event")
  printf '%-6s %14d %16d %10d %16d %10d\n' "$round" $((t_open - t0)) $((t_read - t0)) \
    $((t_ready - t0)) $((t_first - t0)) "$rss"
  stop_pid "$pid"; forget_pid "$pid"
  stop_pid "$SINK_PID"; forget_pid "$SINK_PID"
  [[ $round == 1 ]] && echo "on disk after a daemon ran on it: $(du -sb "$data" | cut -f1) bytes"
  rm -rf "$data"
done
echo "load after: $(load_avg)"
