-- wrk script: POST /queues/default/messages with a 512-byte JSON payload (a 510-character string plus its quotes).
-- Usage: wrk -t2 -c64 -d10s -s post.lua http://localhost:5080/queues/default/messages
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"noop","payload":"' .. string.rep("x", 510) .. '"}'

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local codes = {}
  for status, count in pairs(statuses) do table.insert(codes, string.format('"%d":%d', status, count)) end
  io.write(string.format('{"route":"single","requests":%d,"requests_per_s":%.0f,"messages_per_s":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"errors":%d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
