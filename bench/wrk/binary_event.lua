-- wrk script: POST one binary-mode CloudEvent (ce-* headers, ~200-byte JSON body).
--
-- The request is static (no request() callback), so wrk builds it once and spends no
-- Lua time per request; every request carries the same ce-id, which evmeshd does not
-- deduplicate. The same script is used against nginx and evmeshd.
--
-- CE_TYPE selects the event type (default com.example.bench.event, the type the
-- matching benchmark subscriptions filter on).
wrk.method = "POST"
wrk.path = "/"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-id"] = "b6a1f0e2-5c3d-4e8f-9a7b-1c2d3e4f5a6b"
wrk.headers["ce-source"] = "/bench/wrk"
wrk.headers["ce-type"] = os.getenv("CE_TYPE") or "com.example.bench.event"
wrk.headers["ce-subject"] = "orders/eu/A-1042"
wrk.headers["ce-time"] = "2024-05-01T12:00:00Z"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"order":{"id":"A-1042","customer":"c-77","items":[{"sku":"SKU-1","qty":1,"price":49.95},'
  .. '{"sku":"SKU-2","qty":2,"price":40.00}],"total":129.95,"currency":"EUR"},'
  .. '"shipping":{"country":"DE","method":"standard"}}'

-- One machine-readable line for bench/http_ingest.sh (wrk's own report is printed too).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d non2xx=%d connect_err=%d read_err=%d write_err=%d "
      .. "timeout_err=%d lat_p50_us=%d lat_p99_us=%d lat_max_us=%d body_bytes=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, #wrk.body))
end
