#!/usr/bin/env bash
# Instructions per published event, counted by callgrind: not wall-clock, so it
# holds on a busy shared machine. Guides CPU work on the ingest and delivery paths.
#
#   bench/callgrind_ingest.sh [-s SCENARIO] [-n N1,N2] [-- evmeshd args...]
#
# Runs evmeshd under `valgrind --tool=callgrind` twice, publishing N1 and then N2
# binary-mode events (the wrk benchmark's request, over one keep-alive connection,
# one request at a time), and prints (Ir(N2) - Ir(N1)) / (N2 - N1): start-up and
# shutdown cancel out. SCENARIO as in http_ingest.sh (ev-0, ev-1, ev-100x1); matching
# subscriptions deliver to a local nginx, and SIGTERM's drain waits for them, so the
# delivery cost is in the count. KEEP_TMP=1 keeps the callgrind.out files for
# callgrind_annotate.
#
# Needs: build-bench/src/evmeshd (or EVMESHD=path), valgrind, nginx, curl, python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

SCENARIO=ev-0 COUNTS=2000,6000
while getopts "s:n:h" opt; do
  case $opt in
    s) SCENARIO=$OPTARG ;; n) COUNTS=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")
N1=${COUNTS%,*} N2=${COUNTS#*,}
((N2 > N1)) || { echo "-n N1,N2 needs N2 > N1" >&2; exit 2; }
[[ -x $EVMESHD ]] || { echo "no evmeshd at $EVMESHD" >&2; exit 1; }
REAL_EVMESHD=$EVMESHD
case $SCENARIO in
  ev-0) count=0 matching=0 ;; ev-1) count=1 matching=1 ;; ev-100x1) count=100 matching=1 ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300s}  # under valgrind deliveries are slow: let the drain finish
start_nginx 1
write_config "$BENCH_TMP/config.yaml" "$count" "$matching" "http://127.0.0.1:$NGINX_PORT/sink"

# publish PORT N: N binary-mode events, one at a time on one keep-alive connection.
publish() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = (b'{"order":{"id":"A-1042","customer":"c-77","items":[{"sku":"SKU-1","qty":1,"price":49.95},'
        b'{"sku":"SKU-2","qty":2,"price":40.00}],"total":129.95,"currency":"EUR"},'
        b'"shipping":{"country":"DE","method":"standard"}}')
req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nce-specversion: 1.0\r\n"
       b"ce-id: b6a1f0e2-5c3d-4e8f-9a7b-1c2d3e4f5a6b\r\nce-source: /bench/wrk\r\n"
       b"ce-type: com.example.bench.event\r\nce-subject: orders/eu/A-1042\r\n"
       b"ce-time: 2024-05-01T12:00:00Z\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
s = socket.create_connection(("127.0.0.1", port))
buf = b""
for _ in range(n):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("evmeshd closed the connection")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 202"):
        sys.exit("unexpected answer: " + head.decode(errors="replace"))
s.close()
PY
}

# run N: Ir of one daemon life with N events.
run() {
  local n=$1 out=$BENCH_TMP/callgrind.out.$1 wrapper=$BENCH_TMP/evmeshd-callgrind
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s "$@"\n' "$out" "$REAL_EVMESHD" > "$wrapper"
  chmod +x "$wrapper"
  EVMESHD=$wrapper
  start_evmeshd "$BENCH_TMP/config.yaml" "${EXTRA_ARGS[@]}"
  local n0
  n0=$(nginx_requests)
  publish "$EVMESHD_PORT" "$n"
  stop_evmeshd 120
  local delivered=$(( $(nginx_requests) - n0 - 1 ))
  local ir
  ir=$(sed -nE 's/^summary: ([0-9]+).*/\1/p' "$out")
  echo "  $n events: $ir instructions, $delivered deliveries" >&2
  echo "$ir"
}

echo "scenario $SCENARIO, evmeshd $REAL_EVMESHD ${EXTRA_ARGS[*]}"
ir1=$(run "$N1")
ir2=$(run "$N2")
echo "instructions per event: $(( (ir2 - ir1) / (N2 - N1) ))"
