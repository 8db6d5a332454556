#!/usr/bin/env bash
# Runs every benchmark row once (RUNS=3 for three runs each) and appends one JSON line per run to
# results/bench-<UTC time>.jsonl. Release builds; SQLite journal unless the row says PostgreSQL.
# Needs: the .NET SDK, wrk (apt-get install wrk) and PostgreSQL 15 binaries (apt-get install postgresql-15).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-1}"
mkdir -p results
out="results/bench-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
work="$(mktemp -d)" && chmod 755 "$work"
trap 'pkill -f "Actors.Node.dll --Actors:DataDirectory=$work" 2>/dev/null || true; [ -n "${pgbin:-}" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop > /dev/null 2>&1 || true; rm -rf "$work"' EXIT

dotnet build -c Release tests/Actors.LoadTest > /dev/null
dotnet build -c Release src/Actors.Node > /dev/null
load() { dotnet run -c Release --no-build --project tests/Actors.LoadTest -- "$@" | tail -n 1; }
record() { local row="$1"; shift; for _ in $(seq "$RUNS"); do echo "{\"row\":\"$row\",\"result\":$("$@")}" | tee -a "$out"; done; }

record e2e-200k load --messages 200000 --payload 512 --producers 4 --workers 8
# Instrumentation cost: the same run with every metric and span of the Actors meter and source recorded (dropping exporters).
# Each after 100,000 warm-up messages (as its baseline), so the difference is the cost per message, not the SDK's start-up.
record e2e-200k-warm load --messages 200000 --warmup 20000 --payload 512 --producers 4 --workers 8
record e2e-200k-telemetry load --messages 200000 --warmup 20000 --payload 512 --producers 4 --workers 8 --telemetry 1
record e2e-200k-metrics load --messages 200000 --warmup 20000 --payload 512 --producers 4 --workers 8 --telemetry 2
record e2e-200k-traces-10pct load --messages 200000 --warmup 20000 --payload 512 --producers 4 --workers 8 --telemetry 1 --sample-percent 10
# Ordering keys: 10,000 keys x 20 messages, each key's messages one at a time in enqueue order (checked: order_violations).
record e2e-200k-10k-keys load --messages 200000 --payload 512 --producers 4 --workers 8 --ordering-keys 10000
# Priorities 0-9 mixed (message n has priority n mod 10).
record e2e-200k-priorities load --messages 200000 --payload 512 --producers 4 --workers 8 --priorities 1
# A batch handler taking up to 50 messages per call (4 workers, so batches fill under the backlog).
record e2e-200k-batch-handler-50 load --messages 200000 --payload 512 --producers 4 --workers 4 --batch-handler 50
# Awaited enqueue in process: each request returns once its message succeeded (p50/p99 = enqueue to outcome).
record awaited-20k-16-outstanding load --messages 20000 --payload 512 --producers 4 --outstanding 4 --await 1
record enqueue-batch-100 load --messages 200000 --payload 512 --producers 4 --batch 100 --outstanding 4
record open-loop-2000 load --messages 20000 --rate 2000
# The same run with each enqueue's round trip timed stage by stage (the README's write path breakdown).
record open-loop-2000-breakdown load --messages 20000 --rate 2000 --breakdown 1
record rate-limit-10000 load --messages 50000 --payload 512 --producers 4 --rate-limit 10000
record pending-10k-recovery-and-heap load --pending 10000 --payload 512
record pending-100k-recovery-and-heap load --pending 100000 --payload 512
record pending-1M-recovery-and-heap load --pending 1000000 --payload 512
record pending-1M-keys-recovery-and-heap load --pending 1000000 --payload 512 --ordering-keys 1000000
record delayed-1M-recovery-and-heap load --pending 1000000 --payload 512 --delay-s 86400
record delay-lateness-200-per-s load --lateness-rate 200 --messages 6000 --max-delay-s 5
record due-at-once-100k load --due-at-once 100000 --due-in-s 30
record idempotency-keys-1M-heap load --keys 1000000 --payload 64
record retained-1500x1MiB-rss load --retained 1500
record retained-10k-x1MiB-rss load --retained 10000
record dead-letters-100k-rss load --dead-letters 100000

# Against RabbitMQ 3 quorum queues, the same work (tests/rabbitmq-compare.sh: one RabbitMQ run, one Actors run, the
# ratio): optional, only where Debian's rabbitmq-server is installed.
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  compare() { bash tests/rabbitmq-compare.sh 1 2> /dev/null | tail -n 1; }
  record rabbitmq-compare compare
else
  echo "rabbitmq-compare: skipped, rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2
fi
# Over AMQP with the official RabbitMQ .NET client against a node: publish with confirms, and end to end with 4
# consumers (tests/amqp-bench.sh prints both rows).
for _ in $(seq "$RUNS"); do bash tests/amqp-bench.sh 1 2> /dev/null | tee -a "$out"; done

# PostgreSQL journal: a throwaway server on a random port.
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort | tail -n 1)"
pgport=$((20000 + RANDOM % 20000))
mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust > /dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -o "-p $pgport -k $work/pg -c listen_addresses=127.0.0.1" start > /dev/null
pgload() { local db="b$RANDOM$RANDOM"; runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres "$db"; load "$@" --postgres "Host=127.0.0.1;Port=$pgport;Username=postgres;Database=$db"; }
record e2e-200k-postgres pgload --messages 200000 --payload 512 --producers 4 --workers 8

# HTTP: the node on a fresh data directory, wrk on the same machine.
port=$((40000 + RANDOM % 20000))
# The echo rows store ~1 MB results: the default queue's MaxResultBytes (64 KiB) is raised for them.
dotnet src/Actors.Node/bin/Release/net10.0/Actors.Node.dll --Actors:DataDirectory="$work" --Actors:Queues:default:MaxResultBytes=2000000 --Logging:LogLevel:Default=Warning --urls "http://127.0.0.1:$port" > "$work/node.log" 2>&1 &
nodepid=$!
until curl -sf "http://127.0.0.1:$port/health/ready" > /dev/null; do sleep 0.2; done
wrkrow() { wrk -t2 -c"$1" -d10s -s "tests/Actors.LoadTest/wrk/$2.lua" "http://127.0.0.1:$port/queues/default/messages$3" | tail -n 1; }
record http-single-512B-64conn wrkrow 64 post ""
record http-batch-100x512B-16conn wrkrow 16 batch "/batch"
# Awaited enqueue: each POST returns once its message succeeded (?wait=), so p50/p99 are enqueue-to-outcome latency.
record http-awaited-512B-16conn wrkrow 16 post "?wait=30s"
# The node's resident memory after N echo messages of ~1 MB (each result retained) posted by 8 parallel clients.
echorss() {
  local n="$1" before succeeded
  before=$(curl -sf "http://127.0.0.1:$port/queues/default" | grep -o '"succeeded":[0-9]*' | head -n 1 | cut -d: -f2)
  printf '{"type":"echo","payload":"%s"}' "$(head -c 1000000 /dev/zero | tr '\0' x)" > "$work/echo.json"
  seq "$n" | xargs -P 8 -I{} curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @"$work/echo.json" "http://127.0.0.1:$port/queues/default/messages"
  until succeeded=$(curl -sf "http://127.0.0.1:$port/queues/default" | grep -o '"succeeded":[0-9]*' | head -n 1 | cut -d: -f2) && [ "$succeeded" -ge $((before + n)) ]; do sleep 1; done
  sleep 5
  echo "{\"messages\":$n,\"payload\":1000000,\"node_rss_mb\":$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$nodepid/status)}"
}
record http-echo-1500x1MB-node-rss echorss 1500

echo "results: $out"
