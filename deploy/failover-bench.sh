#!/usr/bin/env bash
# Failover as an operator sees it, on the three-node loopback cluster of deploy/local-cluster.sh: ~500 msg/s over
# HTTP at the queue `default`, then one event, and one JSON row per run (tests/Actors.LoadTest http-failover).
#
#   deploy/failover-bench.sh kill [runs]      SIGKILL the node hosting `default`: time to the first 202 for `default`
#   deploy/failover-bench.sh leave [runs]     SIGTERM it (graceful leave): time until `default` accepts elsewhere
#   deploy/failover-bench.sh join [runs]      a fourth node joins: time from it Up until the rebalance is done (the last
#                                             placement change, every node hosting a queue: balanced_after_up_ms)
#   deploy/failover-bench.sh soak [minutes]   full load with no event (default 10 min): counts unreachable and downed members
#   deploy/failover-bench.sh all              kill, leave and join, three runs each
#
# Each run starts a fresh cluster (PostgreSQL and nodes) and stops it. Load goes only to the nodes that stay up, as a
# load balancer with health checks would send it. Every 202-acknowledged id is looked up afterwards (`lost`).
# RATE (500) sets the offered rate; LOGS where each run's node logs are kept. Needs the PostgreSQL server binaries (see local-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

export ACTORS_LOCAL_CLUSTER="${ACTORS_LOCAL_CLUSTER:-${TMPDIR:-/tmp}/actors-failover-bench}"
RATE="${RATE:-500}"
CLUSTER=deploy/local-cluster.sh
DRIVER=tests/Actors.LoadTest/bin/Release/net10.0/Actors.LoadTest.dll

# Every succeeded message stays visible, so each acknowledged id can be looked up; eleven more queues give a joining
# node a share to take.
export Actors__Queues__default__SucceededRetention=1000000
for i in $(seq 1 11); do export "Actors__Queues__q${i}__Workers=2"; done

build() {
  dotnet build -c Release -v quiet -nologo src/Actors.Node > /dev/null
  dotnet build -c Release -v quiet -nologo tests/Actors.LoadTest > /dev/null
}

start_cluster() { ACTORS_LOCAL_NO_BUILD=1 "$CLUSTER" start > /dev/null; }
# Each run's node logs are kept in $LOGS/<run>-<n> for the timeline (unreachable, downed, removed, recovered).
LOGS="${LOGS:-${TMPDIR:-/tmp}/actors-failover-bench-logs}"
RUN=0
stop_cluster() {
  if [ -d "$ACTORS_LOCAL_CLUSTER" ]; then
    RUN=$((RUN + 1))
    mkdir -p "$LOGS/run-$RUN" && cp "$ACTORS_LOCAL_CLUSTER"/node-*.log "$LOGS/run-$RUN/" 2> /dev/null || true
  fi
  "$CLUSTER" stop > /dev/null 2>&1 || true
}
trap stop_cluster EXIT

# The number n of the node hosting `default` (node n has Akka.Remote port 4052 + n).
host_of_default() {
  curl -fs http://127.0.0.1:5081/cluster | python3 -c '
import json, sys
placement = {q["queue"]: q["node"] for q in json.load(sys.stdin)["queues"]}
print(int(placement["default"].rsplit(":", 1)[1]) - 4052)'
}

# The host of `default` once placement has settled: the same answer twice, a rebalance round (5 s) apart.
settled_host_of_default() {
  local before after
  after="$(host_of_default)"
  while :; do
    sleep 6
    before="$after"; after="$(host_of_default)"
    [ "$before" = "$after" ] && { echo "$after"; return; }
  done
}

urls_except() {
  local skip="$1" urls=()
  for n in 1 2 3; do [ "$n" = "$skip" ] || urls+=("http://127.0.0.1:$((5080 + n))"); done
  (IFS=,; echo "${urls[*]}")
}

drive() { dotnet "$DRIVER" http-failover --rate "$RATE" "$@"; }

# kill|leave: signal the node hosting `default`.
signal_run() {
  local signal="$1" label="$2"
  start_cluster
  local n; n="$(settled_host_of_default)"
  local pid; pid="$(cat "$ACTORS_LOCAL_CLUSTER/node-$n.pid")"
  drive --targets "$(urls_except "$n")" --warmup-s 10 --after-s 20 --event "kill -$signal $pid" --label "$label" || true
  stop_cluster
}

join_run() {
  start_cluster
  drive --targets "$(urls_except 0)" --warmup-s 10 --after-s 30 --event "ACTORS_LOCAL_NO_BUILD=1 $CLUSTER add 4 > /dev/null" --label join || true
  stop_cluster
}

soak_run() {
  local minutes="$1"
  start_cluster
  drive --targets "$(urls_except 0)" --warmup-s 5 --after-s "$((minutes * 60))" --label "soak-${minutes}min" || true
  local unreachable downed members
  unreachable="$(cat "$ACTORS_LOCAL_CLUSTER"/node-*.log | grep -ci 'as \[Unreachable\]\|as UNREACHABLE' || true)"
  downed="$(cat "$ACTORS_LOCAL_CLUSTER"/node-*.log | grep -ci 'SBR took decision' || true)"
  members="$(curl -fs http://127.0.0.1:5081/cluster | python3 -c 'import json,sys; print(sum(m["status"] == "Up" for m in json.load(sys.stdin)["members"]))')"
  echo "{\"run\":\"soak-${minutes}min\",\"unreachable_marks\":$unreachable,\"sbr_decisions\":$downed,\"members_up_after\":$members}"
  stop_cluster
}

build
case "${1:-all}" in
  kill) for _ in $(seq 1 "${2:-3}"); do signal_run KILL kill; done ;;
  leave) for _ in $(seq 1 "${2:-3}"); do signal_run TERM leave; done ;;
  join) for _ in $(seq 1 "${2:-3}"); do join_run; done ;;
  soak) soak_run "${2:-10}" ;;
  all)
    for _ in 1 2 3; do signal_run KILL kill; done
    for _ in 1 2 3; do signal_run TERM leave; done
    for _ in 1 2 3; do join_run; done ;;
  *) echo "usage: $0 kill|leave|join [runs] | soak [minutes] | all" >&2; exit 2 ;;
esac
