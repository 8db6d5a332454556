#!/usr/bin/env bash
# Measures the dashboard with many queues (default 1,000) on one standalone node: the overview page (time, bytes,
# first page and a filtered page), one tick of the overview's stream (bytes), the sampler's read of every queue's
# statistics (the page's "Sampled N queue(s) in X" line) and the node's CPU per second with the sampler reading every
# second (a stream open) against reading every 10 s (nobody watching). Prints one JSON line. Not a test: numbers only.
# Usage: tests/dashboard/measure-1000-queues.sh [queues]
set -euo pipefail
cd "$(dirname "$0")/../.."
QUEUES="${1:-1000}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release src/Actors.Node > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
args=()
for i in $(seq -w 1 "$QUEUES"); do args+=("--Actors:Queues:q$i:Workers=1"); done
dotnet src/Actors.Node/bin/Release/net10.0/Actors.Node.dll --urls "http://127.0.0.1:$port" --Actors:DataDirectory="$work" \
  --Logging:LogLevel:Default=Warning "${args[@]}" > "$work/node.log" 2>&1 &
node_pid=$!
base="http://127.0.0.1:$port"
started=$(date +%s.%N)
until curl -sf "$base/health/ready" > /dev/null; do
  kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log"; exit 1; }
  sleep 0.5 # polling the node's readiness from a shell script
done
ready_s=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")

cpu_ms() { awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "/proc/$node_pid/stat"; }
page() { curl -s -o "$work/page.html" -w '%{time_total} %{size_download}\n' "$base$1"; }

page /dashboard > /dev/null # warms up the routes and starts 1-s sampling
read -r first_s first_bytes < <(page /dashboard)
read -r again_s again_bytes < <(page /dashboard)
sampled=$(grep -o 'Sampled [0-9,]* queue(s) in [0-9.]* [a-z]*' "$work/page.html" || true)
read -r filtered_s filtered_bytes < <(page "/dashboard?q=q09&page=1")
read -r last_s last_bytes < <(page "/dashboard?page=$(( (QUEUES + 99) / 100 ))")
read -r queue_s queue_bytes < <(page /dashboard/queues/q0001)

# One stream tick: the stream sends one "queues" event per sample, each second.
curl -sN --max-time 5 "$base/dashboard/stream" > "$work/stream.txt" || true
ticks=$(grep -c '^event: queues' "$work/stream.txt" || true)
stream_bytes=$(wc -c < "$work/stream.txt")

# CPU with the sampler reading every second (one queue page's stream open) ...
curl -sN --max-time 32 "$base/dashboard/queues/q0001/stream" > /dev/null &
watcher=$!
sleep 1 # the stream's first sample
c0=$(cpu_ms); sleep 30; c1=$(cpu_ms) # a 30-s CPU measurement window
wait "$watcher" || true
# ... and after the watch window (2 min) has passed, reading once per 10 s.
sleep 125 # waiting out the sampler's 2-minute watch window
i0=$(cpu_ms); sleep 30; i1=$(cpu_ms) # a 30-s CPU measurement window
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$node_pid/status")
history_bytes=$(du -sb "$work/dashboard-history" | cut -f1)

python3 - <<PY
import json
ticks = max(int("$ticks"), 1)
print(json.dumps({
  "queues": $QUEUES, "ready_s": $ready_s,
  "overview_first_page": {"ms": round($first_s * 1000, 1), "bytes": $first_bytes},
  "overview_again": {"ms": round($again_s * 1000, 1), "bytes": $again_bytes},
  "overview_filtered": {"ms": round($filtered_s * 1000, 1), "bytes": $filtered_bytes},
  "overview_last_page": {"ms": round($last_s * 1000, 1), "bytes": $last_bytes},
  "queue_page": {"ms": round($queue_s * 1000, 1), "bytes": $queue_bytes},
  "stream_tick_bytes": round($stream_bytes / ticks), "stream_ticks_in_5s": int("$ticks"),
  "sampler": "$sampled",
  "cpu_ms_per_s_sampling_every_1s": round(($c1 - $c0) / 30, 1),
  "cpu_ms_per_s_sampling_every_10s": round(($i1 - $i0) / 30, 1),
  "rss_mb": round($rss_kb / 1024), "history_bytes_after_3_min": $history_bytes,
}))
PY
