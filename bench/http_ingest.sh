#!/usr/bin/env bash
# HTTP ingest throughput of evmeshd against an nginx `return 202` ceiling, same client,
# same run. Not a ctest test: run it by hand on a quiet machine.
#
#   bench/http_ingest.sh [-d SECONDS] [-t WRK_THREADS] [-c CONNECTIONS] [-r ROUNDS]
#                        [-w NGINX_WORKERS] [-k DELIVERY_CONCURRENCY] [-q QUEUE_CAPACITY]
#                        [-s "SCENARIOS"]
#                        [-- --set key=value ...]   (extra evmeshd arguments)
#
# Scenarios (each round runs them in this order, each evmeshd scenario on a fresh daemon):
#   nginx      wrk → nginx directly: the ceiling
#   ev-0       wrk → evmeshd, no subscription (decode + route, nothing matches)
#   ev-1       wrk → evmeshd, 1 subscription, matching, delivering to the nginx
#   ev-100x1   100 subscriptions, 1 matching (exact type filters; 99 never match)
#   ev-100x100 100 subscriptions, all matching (each event → 100 webhook requests)
#   dur-group, dur-interval, dur-none   as ev-1 with the subscription durable, store.commit
#              group / interval / none, a fresh data directory each (docs/storage.md)
# Deliveries are real HTTP requests to the same nginx (location / → 202), counted with
# nginx's stub_status. evmeshd answers 503 when a subscription queue is full; wrk counts
# those as non-2xx, and the "202/s" column leaves them out.
#
# Needs: build-bench/src/evmeshd (or EVMESHD=path), nginx, wrk, curl, python3.
# WAIT_QUIET=SECONDS: before each scenario, wait up to that long for other builds to end.
# PROFILE='perf stat -p {} -- sleep 5': a command run 2 s into each evmeshd scenario's wrk,
#   {} replaced by the evmeshd pid; its output goes to profile.NAME.ROUND.txt in the temp dir.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

DURATION=10 WRK_THREADS=2 CONNECTIONS=32 ROUNDS=3 NGINX_WORKERS=1 CONCURRENCY=1 CAPACITY=10000
SCENARIOS="nginx ev-0 ev-1 ev-100x1 ev-100x100"
while getopts "d:t:c:r:w:k:q:s:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;; t) WRK_THREADS=$OPTARG ;; c) CONNECTIONS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;; w) NGINX_WORKERS=$OPTARG ;; k) CONCURRENCY=$OPTARG ;; q) CAPACITY=$OPTARG ;;
    s) SCENARIOS=$OPTARG ;;
    *) sed -n '2,25p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")
LUA=$HERE/wrk/binary_event.lua
RESULTS=$BENCH_TMP/results.txt
: > "$RESULTS"

[[ -x $EVMESHD ]] || { echo "no evmeshd at $EVMESHD (ninja -C build-bench evmeshd)" >&2; exit 1; }
start_nginx "$NGINX_WORKERS"
SINK=http://127.0.0.1:$NGINX_PORT/sink

echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name: *//p' | head -1)"
echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s -s bench/wrk/binary_event.lua; nginx worker_processes $NGINX_WORKERS;" \
     "evmeshd delivery.concurrency=$CONCURRENCY delivery.queuecapacity=$CAPACITY ${EXTRA_ARGS[*]}"
echo "nginx on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID); temp dir $BENCH_TMP"

# run_wrk NAME PORT ROUND EXTRA...: run wrk, append one result line.
run_wrk() {
  local name=$1 port=$2 round=$3 out=$BENCH_TMP/wrk.$1.$3.txt
  local load n0 n1 c0=0 c1=0
  load=$(load_avg)
  n0=$(nginx_requests)
  [[ -n ${EVMESHD_PID:-} ]] && c0=$(cpu_ticks "$EVMESHD_PID")
  local profiler=
  if [[ -n ${PROFILE:-} && -n ${EVMESHD_PID:-} ]]; then
    (sleep 2; eval "${PROFILE//\{\}/$EVMESHD_PID}") > "$BENCH_TMP/profile.$name.$round.txt" 2>&1 &
    profiler=$!
  fi
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$LUA" "http://127.0.0.1:$port/" > "$out" 2>&1 || true
  [[ -n $profiler ]] && { wait "$profiler" || true; }
  [[ -n ${EVMESHD_PID:-} ]] && c1=$(cpu_ticks "$EVMESHD_PID")
  n1=$(nginx_requests)
  local res
  res=$(grep '^WRK_RESULT' "$out" || true)
  if [[ -z $res ]]; then
    echo "wrk produced no result for $name:" >&2
    cat "$out" >&2
    return 1
  fi
  # Deliveries seen by nginx during the wrk window (minus the stub_status query itself).
  local during=$(( n1 - n0 - 1 ))
  [[ $name == nginx ]] && during=0
  echo "$name round=$round ${res#WRK_RESULT } deliveries_during=$during evmeshd_cpu_ticks=$(( c1 - c0 )) load=\"$load\"" >> "$RESULTS"
  printf '  %-11s round %d: %s\n' "$name" "$round" "$(grep -E '^Requests/sec|Non-2xx' "$out" | tr -s ' ' | paste -sd ';')"
}

run_evmeshd() {
  local name=$1 round=$2 count matching durable=
  case $name in
    ev-0) count=0 matching=0 ;;
    ev-1) count=1 matching=1 ;;
    ev-100x1) count=100 matching=1 ;;
    ev-100x100) count=100 matching=100 ;;
    dur-group | dur-interval | dur-none) count=1 matching=1 durable=${name#dur-} ;;
    *) echo "unknown scenario $name" >&2; return 1 ;;
  esac
  local config=$BENCH_TMP/$name.yaml
  DURABLE=$durable write_config "$config" "$count" "$matching" "$SINK" "$CONCURRENCY" "$CAPACITY"
  local store_args=()
  [[ -n $durable ]] && store_args=(--set "store.commit=$durable" --set "store.data_dir=$BENCH_TMP/data.$name.$round")
  start_evmeshd "$config" "${store_args[@]}" "${EXTRA_ARGS[@]}"
  # One event by hand first: the daemon must answer 202 before we measure it.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$EVMESHD_PORT/" \
         -H 'ce-specversion: 1.0' -H 'ce-id: probe' -H 'ce-source: /bench' \
         -H 'ce-type: com.example.bench.other' -H 'Content-Type: application/json' -d '{}')
  [[ $code == 202 ]] || { echo "evmeshd answered $code to a valid event" >&2; return 1; }
  local n0
  n0=$(nginx_requests)
  run_wrk "$name" "$EVMESHD_PORT" "$round"
  stop_evmeshd 30
  [[ $STOP_RC == 0 ]] || echo "  evmeshd ($name, round $round) exited with status $STOP_RC" >&2
  local n2
  n2=$(nginx_requests)
  # Deliveries in all: during the run plus the drain (runtime.drain_timeout).
  sed -i "\$s/\$/ deliveries_total=$(( n2 - n0 - 3 ))/" "$RESULTS"
  # Events still queued when the drain timeout ends are dropped, with one warning per
  # subscription: expected when deliveries lag (the fan-out scenario). Anything else is news.
  local undelivered
  undelivered=$(grep -cE 'stopped with [0-9]+ events undelivered' "$EVMESHD_LOG" || true)
  ((undelivered == 0)) || echo "  ($undelivered subscription(s) still had queued events at the drain timeout)"
  if grep -E ' (error|critical|warn|warning) ' "$EVMESHD_LOG" |
       grep -qvE 'events undelivered|drain timeout reached'; then
    echo "  evmeshd log ($name, round $round) has warnings/errors:" >&2
    grep -E ' (error|critical|warn|warning) ' "$EVMESHD_LOG" |
      grep -vE 'events undelivered|drain timeout reached' | head -5 >&2
  fi
  cp "$EVMESHD_LOG" "$BENCH_TMP/evmeshd.$name.$round.log"
  EVMESHD_PID=
}

for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round (load $(load_avg))"
  for s in $SCENARIOS; do
    wait_quiet
    if [[ $s == nginx ]]; then run_wrk nginx "$NGINX_PORT" "$round"; else run_evmeshd "$s" "$round"; fi
  done
done

echo
cp "$RESULTS" "${RESULTS_OUT:-/dev/null}" 2>/dev/null || true
CLK_TCK=$CLK_TCK python3 - "$RESULTS" <<'PY'
# Medians over rounds, one row per scenario; ratios against nginx of the same round.
import os, re, shlex, statistics, sys
tck = int(os.environ["CLK_TCK"])
fanout = {"nginx": 0, "ev-0": 0, "ev-1": 1, "ev-100x1": 1, "ev-100x100": 100,
          "dur-group": 1, "dur-interval": 1, "dur-none": 1}
rows, order = {}, []
for line in open(sys.argv[1]):
    parts = shlex.split(line)
    name, kv = parts[0], dict(p.split("=", 1) for p in parts[1:])
    secs = int(kv["duration_us"]) / 1e6
    req = int(kv["requests"])
    ok = req - int(kv["non2xx"])
    r = dict(round=int(kv["round"]), rps=req / secs, acc=ok / secs,
             non2xx=100.0 * int(kv["non2xx"]) / max(req, 1),
             errs=sum(int(kv[k]) for k in ("connect_err", "read_err", "write_err", "timeout_err")),
             p50=int(kv["lat_p50_us"]) / 1000, p99=int(kv["lat_p99_us"]) / 1000,
             dps=int(kv["deliveries_during"]) / secs,
             cpu=100.0 * int(kv["evmeshd_cpu_ticks"]) / tck / secs, load=kv["load"].split()[0])
    want = ok * fanout.get(name, 0)
    if "deliveries_total" in kv and want:
        r["delivered"] = 100.0 * int(kv["deliveries_total"]) / want
    rows.setdefault(name, []).append(r)
    if name not in order: order.append(name)
ceiling = {r["round"]: r["rps"] for r in rows.get("nginx", [])}
med = lambda xs: statistics.median(xs) if xs else float("nan")
hdr = ("scenario", "req/s", "202/s", "non-2xx", "err", "p50 ms", "p99 ms", "deliv/s", "deliv %",
       "evmeshd CPU", "202/s ÷ nginx", "load")
print("medians of %d round(s)" % max(len(v) for v in rows.values()))
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for name in order:
    rs = rows[name]
    ratio = [r["acc"] / ceiling[r["round"]] for r in rs if r["round"] in ceiling]
    deliv = [r["delivered"] for r in rs if "delivered" in r]
    print("| %s | %.0f | %.0f | %.1f%% | %d | %.2f | %.2f | %s | %s | %s | %s | %s |" % (
        name, med([r["rps"] for r in rs]), med([r["acc"] for r in rs]),
        med([r["non2xx"] for r in rs]), max(r["errs"] for r in rs),
        med([r["p50"] for r in rs]), med([r["p99"] for r in rs]),
        "%.0f" % med([r["dps"] for r in rs]) if name != "nginx" else "-",
        "%.1f%%" % med(deliv) if deliv else "-",
        "%.0f%%" % med([r["cpu"] for r in rs]) if name != "nginx" else "-",
        "%.2f" % med(ratio) if name != "nginx" and ratio else "-",
        "/".join(r["load"] for r in rs)))
PY
