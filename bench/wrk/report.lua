-- Prints one machine-readable line at the end of a wrk run; bench/lib/measure.sh parses it.
-- Latencies are wrk's histogram percentiles in microseconds. `non2xx` is wrk's status error count: responses with a
-- status above 399 (wrk does not count 3xx; no benchmark target here answers 3xx).
-- WRK_PACE_MS (bench/lib/scenarios.sh light_load) makes each connection wait that long between a response and
-- its next request.
local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "")
if pace_ms then
  delay = function()
    return pace_ms
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
