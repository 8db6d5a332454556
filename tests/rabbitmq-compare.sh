#!/usr/bin/env bash
# The yardstick: the same work on RabbitMQ 3 quorum queues and on Actors, on this machine, in one alternating series.
#
#   tests/rabbitmq-compare.sh [runs]     (default 3)
#
# Work: 100,000 messages of 512 B, 4 producers, 4 consumers. RabbitMQ (tests/Actors.RabbitBench, the official .NET
# client): a durable quorum queue, each producer on its own connection with tracked publisher confirms (at most
# OUTSTANDING, 64, unconfirmed each: 256 in all, as the load test's 4 producers × 64), each consumer on its own
# connection with manual acks and prefetch PREFETCH (100). Actors (tests/Actors.LoadTest): an in-process node on its
# SQLite journal, 4 producers × 64 outstanding enqueues, 4 workers. Both first run rounds of WARMUP (20,000) messages,
# untimed, through a queue of their own, until the JIT is idle (tests/Shared/JitWarmUp.cs: fewer than 50 methods compiled
# in 3 s, at most 120 s of warm-up): the broker is already running, and the .NET processes (the RabbitMQ client; the Actors node inside the load
# test) are then measured warm too. Each row's jit_methods_in_run and jit_ms_in_run say how much compilation was left in
# the measured run. Each run is one RabbitMQ row then one Actors row (JSON, e2e_per_s = first send to last
# ack/completion); the last row gives each pair's ratio (Actors ÷ RabbitMQ) and their min and median. Rows are also
# appended to results/rabbitmq-compare-<UTC time>.jsonl.
#
# The broker is a throwaway: Debian's rabbitmq-server (installed here with apt-get when missing, as root), run as this
# user with its node name, ports, Erlang cookie, data and logs in a temporary directory, stopped and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
MESSAGES="${MESSAGES:-100000}"
PAYLOAD="${PAYLOAD:-512}"
WARMUP="${WARMUP:-20000}"
OUTSTANDING="${OUTSTANDING:-64}"
PREFETCH="${PREFETCH:-100}"

RABBIT_BIN=/usr/lib/rabbitmq/bin
if [ ! -x "$RABBIT_BIN/rabbitmq-server" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "installing rabbitmq-server (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server > /dev/null \
      || { apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server > /dev/null; }
  fi
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || { echo "RabbitMQ is missing: apt-get install -y rabbitmq-server" >&2; exit 1; }
fi

dotnet build -c Release -v quiet -nologo tests/Actors.RabbitBench > /dev/null
dotnet build -c Release -v quiet -nologo tests/Actors.LoadTest > /dev/null

# The throwaway broker: everything it writes lives under $work (its Erlang cookie too: HOME for its commands only); its
# own epmd port, so it touches no other Erlang node.
work="$(mktemp -d)"
amqp_port=$((20000 + RANDOM % 20000))
node="bench$$@localhost"
epmd_port=$((amqp_port + 2))
rabbit() {
  local command="$1"; shift
  env HOME="$work" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp_port" \
    RABBITMQ_DIST_PORT=$((amqp_port + 1)) ERL_EPMD_PORT="$epmd_port" RABBITMQ_MNESIA_BASE="$work/mnesia" \
    RABBITMQ_LOG_BASE="$work/log" RABBITMQ_PID_FILE="$work/rabbit.pid" RABBITMQ_CONF_ENV_FILE="$work/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$work/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$work/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$work/enabled_plugins" "$RABBIT_BIN/$command" "$@"
}
touch "$work/rabbitmq-env.conf" "$work/rabbitmq.conf"
echo '[].' > "$work/enabled_plugins"
broker_pid=
stop_broker() {
  if [ -n "$broker_pid" ]; then
    rabbit rabbitmqctl -n "$node" stop > /dev/null 2>&1 || kill "$broker_pid" 2> /dev/null || true
    wait "$broker_pid" 2> /dev/null || true
  fi
  ERL_EPMD_PORT="$epmd_port" epmd -kill > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop_broker EXIT
rabbit rabbitmq-server > "$work/server.out" 2>&1 &
broker_pid=$!
# Up when its node answers and the rabbit application has started (about 5-15 s).
for attempt in $(seq 1 60); do
  rabbit rabbitmqctl -n "$node" -q -t 10 await_startup > /dev/null 2>&1 && break
  if ! kill -0 "$broker_pid" 2> /dev/null || [ "$attempt" = 60 ]; then
    echo "the broker did not start:" >&2
    tail -n 30 "$work/server.out" >&2
    exit 1
  fi
  sleep 1
done
echo "rabbitmq $(rabbit rabbitmqctl -n "$node" version 2> /dev/null) on 127.0.0.1:$amqp_port" >&2

mkdir -p results
out="results/rabbitmq-compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
rabbit_rates=()
actors_rates=()
failed=0
field() { python3 -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2" 2> /dev/null || echo 0; }
for run in $(seq 1 "$RUNS"); do
  # A run that loses or duplicates a message (or fails) still prints its row; the script then exits non-zero.
  row="$(dotnet tests/Actors.RabbitBench/bin/Release/net10.0/Actors.RabbitBench.dll --port "$amqp_port" --messages "$MESSAGES" \
    --payload "$PAYLOAD" --producers 4 --consumers 4 --outstanding "$OUTSTANDING" --prefetch "$PREFETCH" --warmup "$WARMUP" | tail -n 1)" || failed=1
  echo "{\"run\":$run,\"result\":${row:-null}}" | tee -a "$out"
  rabbit_rates+=("$(field "$row" e2e_per_s)")
  row="$(dotnet tests/Actors.LoadTest/bin/Release/net10.0/Actors.LoadTest.dll --messages "$MESSAGES" --payload "$PAYLOAD" \
    --producers 4 --outstanding "$OUTSTANDING" --workers 4 --warmup "$WARMUP" | tail -n 1)" || failed=1
  [ "${row:0:1}" = "{" ] && row="{\"system\":\"actors\",${row:1}"
  echo "{\"run\":$run,\"result\":${row:-null}}" | tee -a "$out"
  actors_rates+=("$(field "$row" e2e_per_s)")
done
python3 - "${rabbit_rates[*]}" "${actors_rates[*]}" <<'EOF' | tee -a "$out"
import json, statistics, sys
rabbit = [float(x) for x in sys.argv[1].split()]
actors = [float(x) for x in sys.argv[2].split()]
ratios = [round(a / r, 2) if r > 0 else None for a, r in zip(actors, rabbit)]
valid = [x for x in ratios if x is not None] or [0]
print(json.dumps({"row": "actors-vs-rabbitmq", "rabbitmq_e2e_per_s": rabbit, "actors_e2e_per_s": actors,
                  "ratios": ratios, "ratio_min": min(valid), "ratio_median": statistics.median(valid)}))
EOF
echo "results: $out" >&2
exit "$failed"
