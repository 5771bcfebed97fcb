#!/usr/bin/env bash
# publish→webhook latency of evmeshd at a fixed rate, measured by bench/latency_probe
# (one process publishes and is the webhook sink, so both stamps share one clock).
# Not a ctest test: run it by hand on a quiet machine.
#
#   bench/latency.sh [-r RATE] [-d SECONDS] [-w WARMUP_S] [-n RUNS] [-c CONNECTIONS]
#                    [-k DELIVERY_CONCURRENCY] [-- --set key=value ...]  (extra evmeshd arguments)
#
# Each run starts a fresh evmeshd with one subscription whose sink is the probe's sink
# port, runs the probe, and stops the daemon; the summary is the median of the runs.
# Needs build-bench/src/evmeshd and build-bench/bench/latency_probe
# (ninja -C build-bench evmeshd latency_probe), or EVMESHD= / PROBE= paths.
# WAIT_QUIET=SECONDS: before each run, wait up to that long for other builds to end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
PROBE=${PROBE:-$BENCH_ROOT/build-bench/bench/latency_probe}

RATE=5000 DURATION=10 WARMUP=1 RUNS=3 CONNECTIONS=4 CONCURRENCY=1
while getopts "r:d:w:n:c:k:h" opt; do
  case $opt in
    r) RATE=$OPTARG ;; d) DURATION=$OPTARG ;; w) WARMUP=$OPTARG ;; n) RUNS=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;; k) CONCURRENCY=$OPTARG ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")
[[ -x $EVMESHD ]] || { echo "no evmeshd at $EVMESHD" >&2; exit 1; }
[[ -x $PROBE ]] || { echo "no latency_probe at $PROBE" >&2; exit 1; }

echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name: *//p' | head -1)"
echo "rate $RATE/s for ${DURATION}s (first ${WARMUP}s not counted), $CONNECTIONS publish connections," \
     "delivery.concurrency=$CONCURRENCY ${EXTRA_ARGS[*]}"
RESULTS=$BENCH_TMP/latency.txt
: > "$RESULTS"
for ((run = 1; run <= RUNS; run++)); do
  sink_port=$(free_port)
  config=$BENCH_TMP/latency.yaml
  write_config "$config" 1 1 "http://127.0.0.1:$sink_port/" "$CONCURRENCY"
  wait_quiet
  start_evmeshd "$config" "${EXTRA_ARGS[@]}"
  load=$(load_avg)
  c0=$(cpu_ticks "$EVMESHD_PID")
  echo "run $run (load $load)"
  out=$BENCH_TMP/probe.$run.txt
  "$PROBE" --target "127.0.0.1:$EVMESHD_PORT" --sink-port "$sink_port" --rate "$RATE" \
           --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNECTIONS" > "$out" 2>&1 || true
  c1=$(cpu_ticks "$EVMESHD_PID")
  sed -n '/^latency_probe:/,$p' "$out" | grep -v '^RESULT' | sed 's/^/  /'
  res=$(grep '^RESULT' "$out" || true)
  [[ -n $res ]] || { echo "probe failed:" >&2; cat "$out" >&2; exit 1; }
  echo "${res#RESULT } evmeshd_cpu_ticks=$((c1 - c0)) load=\"$load\"" >> "$RESULTS"
  stop_evmeshd 30
  [[ $STOP_RC == 0 ]] || echo "  evmeshd exited with status $STOP_RC" >&2
  if grep -qE ' (error|critical|warn|warning) ' "$EVMESHD_LOG"; then
    echo "  evmeshd log has warnings/errors:" >&2
    grep -E ' (error|critical|warn|warning) ' "$EVMESHD_LOG" | head -5 >&2
  fi
done

echo
CLK_TCK=$CLK_TCK DURATION=$DURATION python3 - "$RESULTS" <<'PY'
import os, shlex, statistics, sys
runs = [dict(p.split("=", 1) for p in shlex.split(l)) for l in open(sys.argv[1])]
med = lambda k: statistics.median(float(r[k]) for r in runs)
cpu = statistics.median(100.0 * int(r["evmeshd_cpu_ticks"]) / int(os.environ["CLK_TCK"]) /
                        float(os.environ["DURATION"]) for r in runs)
# The probe's own send lag shows whether the machine let it keep its schedule: a p99
# over a millisecond means something else had the cores, and the run's tail is suspect.
print("per run: webhook p50 / p99, probe send-lag p99 (µs), load")
for i, r in enumerate(runs, 1):
    flag = "  <- probe was delayed: tail not trustworthy" if float(r["lag_p99_us"]) > 1000 else ""
    print("  run %d: %s / %s, lag p99 %s, load %s%s" % (i, r["e2e_p50_us"], r["e2e_p99_us"],
          r["lag_p99_us"], r["load"].split()[0], flag))
print("medians of %d run(s), microseconds; loads: %s" % (len(runs), ", ".join(r["load"].split()[0] for r in runs)))
print("| rate/s | delivered/accepted | ack p50 | ack p99 | webhook p50 | p90 | p99 | p99.9 | max | CO-free p50 | p99 | evmeshd CPU |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
print("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f%% |" % (
    runs[0]["rate"], " ".join("%s/%s" % (r["delivered"], r["accepted"]) for r in runs),
    med("ack_p50_us"), med("ack_p99_us"), med("e2e_p50_us"), med("e2e_p90_us"), med("e2e_p99_us"),
    med("e2e_p999_us"), med("e2e_max_us"), med("sched_p50_us"), med("sched_p99_us"), cpu))
PY
