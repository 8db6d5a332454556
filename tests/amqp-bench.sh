#!/usr/bin/env bash
# Benchmark rows over AMQP: the official RabbitMQ .NET client (tests/Actors.RabbitBench) against a Release node's
# AMQP listener, SQLite journal, on this machine.
#
#   tests/amqp-bench.sh [runs]     (default 3)
#
# Each run: "amqp-publish-confirms" (4 publisher connections with tracked confirms, 64 unconfirmed each, no consumer)
# and "amqp-e2e-4-consumers" (the same publishers while 4 consumer connections take the messages with manual acks and
# prefetch 100; e2e_per_s from the first publish to the last ack). 100,000 messages of 512 B each, a queue of their
# own per run with no in-process workers (Workers 0). One JSON line per row, also appended to
# results/amqp-bench-<UTC time>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
MESSAGES="${MESSAGES:-100000}"
mkdir -p results
out="results/amqp-bench-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

dotnet build -c Release -v quiet -nologo src/Actors.Node > /dev/null
dotnet build -c Release -v quiet -nologo tests/Actors.RabbitBench > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
http_port="$(free_port)"
amqp_port="$(free_port)"
state="$(mktemp -d)"
queues=()
for run in $(seq "$RUNS"); do
  for row in publish e2e; do
    queues+=("--Actors:Queues:amqp-$row-$run:Workers=0" "--Actors:Queues:amqp-$row-$run:MaxLength=10000000")
  done
done
dotnet src/Actors.Node/bin/Release/net10.0/Actors.Node.dll --urls "http://127.0.0.1:$http_port" \
  --Actors:DataDirectory="$state" --Actors:Amqp:Enabled=true --Actors:Amqp:Port="$amqp_port" \
  --Logging:LogLevel:Default=Warning "${queues[@]}" > "$state/node.log" 2>&1 &
node=$!
trap 'kill "$node" 2> /dev/null; wait "$node" 2> /dev/null; rm -rf "$state"' EXIT
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$http_port/health/ready" > /dev/null && break
  kill -0 "$node" 2> /dev/null || { cat "$state/node.log"; exit 1; }
  sleep 0.1
done

bench() { dotnet tests/Actors.RabbitBench/bin/Release/net10.0/Actors.RabbitBench.dll --port "$amqp_port" --system actors-amqp \
  --messages "$MESSAGES" --payload 512 --producers 4 --outstanding 64 --prefetch 100 "$@" | tail -n 1; }
status=0
for run in $(seq "$RUNS"); do
  row="$(bench --queue "amqp-publish-$run" --consumers 0)" || status=1
  echo "{\"row\":\"amqp-publish-confirms\",\"result\":${row:-null}}" | tee -a "$out"
  row="$(bench --queue "amqp-e2e-$run" --consumers 4)" || status=1
  echo "{\"row\":\"amqp-e2e-4-consumers\",\"result\":${row:-null}}" | tee -a "$out"
done
exit "$status"
