-- wrk script: POST / with {"audio_data": "<base64 of a clip>"}, the API's request (Docs/API.md).
-- The body is read from the file named by the environment variable BODY_FILE, built by
-- Scripts/load-test.sh from a real clip. done() prints one JSON line with wrk's own counts.
-- With COUNTS_FILE set, each thread appends "<thread> <minute> <2xx> <other>" to it whenever a
-- minute of the run is over, for per-minute throughput in long runs.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local counts_file = os.getenv("COUNTS_FILE")
local threads, next_id = {}, 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local started, minute, ok, other = nil, 0, 0, 0
local function flush_minute()
  local out = io.open(counts_file, "a")
  out:write(string.format("%d %d %d %d\n", id, minute, ok, other))
  out:close()
end

if counts_file then
  function response(status, headers, body)
    local now = os.time()
    started = started or now
    local m = math.floor((now - started) / 60)
    while m > minute do
      flush_minute()
      minute, ok, other = minute + 1, 0, 0
    end
    if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"non_2xx":%d,"p50_ms":%.1f,"p90_ms":%.1f,"p99_ms":%.1f,"max_ms":%.1f,"mean_ms":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
