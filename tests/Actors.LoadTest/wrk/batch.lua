-- wrk script: POST /queues/default/messages/batch with 100 messages of 512-byte JSON payloads per request.
-- Usage: wrk -t2 -c16 -d10s -s batch.lua http://localhost:5080/queues/default/messages/batch
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local message = '{"type":"noop","payload":"' .. string.rep("x", 510) .. '"}'
local items = {}
for i = 1, 100 do items[i] = message end
wrk.body = "[" .. table.concat(items, ",") .. "]"

done = function(summary, latency, requests)
  io.write(string.format('{"route":"batch","batch":100,"requests":%d,"requests_per_s":%.0f,"messages_per_s":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"errors":%d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), 100 * summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
