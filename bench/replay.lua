-- Replays random lines of $REQUESTS ("METHOD PATH [JSON BODY]") with $TOKEN as the bearer token
-- (a line may start with a token of its own: "TOKEN METHOD PATH [JSON BODY]"), and prints one
-- RESULT line: requests/s, p50, p99 and the count of non-2xx answers.
-- usage: TOKEN=… REQUESTS=file wrk -t1 -c32 -d10s --latency -s replay.lua http://127.0.0.1:PORT
local token = os.getenv("TOKEN") or ""
local file = os.getenv("REQUESTS")
local prepared = {}

function init(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) % 1000)
  for line in io.lines(file) do
    local bearer = token
    local own, tail = line:match("^(ms[a-z]_%S+)%s+(.*)$")
    if own then
      bearer, line = own, tail
    end
    local headers = { ["Authorization"] = "Bearer " .. bearer, ["Content-Type"] = "application/json" }
    local method, path, body = line:match("^(%S+)%s+(%S+)%s*(.*)$")
    if method then
      prepared[#prepared + 1] = wrk.format(method, path, headers, body ~= "" and body or nil)
    end
  end
end

function request()
  return prepared[math.random(#prepared)]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, socket_errors))
end
