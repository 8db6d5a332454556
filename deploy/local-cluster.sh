#!/usr/bin/env bash
# A three-node Actors cluster on this machine: a throwaway PostgreSQL 15 server and three node processes on
# loopback, each with every role (queue, worker, api).
#
#   deploy/local-cluster.sh start     build the node (Release), start PostgreSQL and nodes 1-3, wait until ready
#   deploy/local-cluster.sh add 4     start node 4 (or 5, ...) and wait until it is ready: a node joining the running cluster
#   deploy/local-cluster.sh status    GET /cluster from node 1
#   deploy/local-cluster.sh stop      SIGTERM the nodes (they hand their queues over and exit), stop PostgreSQL, delete its data
#
# Node n: HTTP on http://127.0.0.1:508n, Akka.Remote on 127.0.0.1:405(2+n); logs in $STATE/node-n.log.
# ACTORS_LOCAL_NO_BUILD=1: use the Release build already there.
# ACTORS_LOCAL_TLS=1: Akka.Remote over mutual TLS, with a self-signed certificate made in $STATE/tls (needs openssl).
# Needs the PostgreSQL 15 server binaries (apt-get install postgresql-15).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${ACTORS_LOCAL_CLUSTER:-${TMPDIR:-/tmp}/actors-local-cluster}"
PG_PORT="${PG_PORT:-55432}"
NODES=3

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

SEEDS="akka.tcp://actors@127.0.0.1:4053,akka.tcp://actors@127.0.0.1:4054"

# Node n: HTTP on 508n, Akka.Remote on 405(2+n), data and log under $STATE. Extra Actors__* settings come from the environment.
start_node() {
  local n="$1"
  ACTORS_PROFILE=cluster \
  Actors__ConnectionString="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=actors" \
  Actors__DataDirectory="$STATE/node-$n" \
  Actors__Cluster__Port=$((4052 + n)) \
  Actors__Cluster__SeedNodes="$SEEDS" \
  Actors__Cluster__MinMembers=$NODES \
  Actors__Amqp__Enabled=true \
  Actors__Amqp__Port=$((5671 + n)) \
    nohup dotnet "src/Actors.Node/bin/Release/net10.0/Actors.Node.dll" --urls "http://127.0.0.1:$((5080 + n))" \
    > "$STATE/node-$n.log" 2>&1 &
  echo $! > "$STATE/node-$n.pid"
  echo "node $n: pid $(cat "$STATE/node-$n.pid"), HTTP http://127.0.0.1:$((5080 + n)), AMQP 127.0.0.1:$((5671 + n)), log $STATE/node-$n.log"
}

wait_ready() {
  local n="$1"
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$((5080 + n))/health/ready" > /dev/null && return 0
    sleep 1
  done
  echo "node $n did not become ready; see $STATE/node-$n.log" >&2
  exit 1
}

# Another node joins the running cluster (node 4, 5, ...): ./local-cluster.sh add 4
add() {
  local n="${1:?usage: $0 add N (N > $NODES)}"
  [ -d "$STATE" ] || { echo "not running: $0 start first" >&2; exit 1; }
  start_node "$n"
  wait_ready "$n"
}

start() {
  if [ -d "$STATE" ]; then echo "already running (state in $STATE); run: $0 stop" >&2; exit 1; fi
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql-15" >&2; exit 1; }
  mkdir -p "$STATE/pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/pg"

  if [ "${ACTORS_LOCAL_NO_BUILD:-0}" != 1 ]; then
    echo "building the node (Release)"
    dotnet build -c Release -v quiet -nologo src/Actors.Node > "$STATE/build.log"
  fi

  echo "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_postgres "$bin/initdb" -D "$STATE/pg/data" -U postgres --auth=trust -E UTF8 > "$STATE/pg-init.log"
  as_postgres "$bin/pg_ctl" -D "$STATE/pg/data" -l "$STATE/pg/log" -w \
    -o "-p $PG_PORT -k $STATE/pg -c listen_addresses=127.0.0.1" start > /dev/null
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres actors

  if [ "${ACTORS_LOCAL_TLS:-0}" = 1 ]; then
    echo "Akka.Remote over TLS (certificate in $STATE/tls)"
    mkdir -p "$STATE/tls"
    openssl rand -hex 16 > "$STATE/tls/password"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=actors-local" \
      -addext "extendedKeyUsage=serverAuth,clientAuth" -keyout "$STATE/tls/node.key" -out "$STATE/tls/node.crt" 2> /dev/null
    openssl pkcs12 -export -in "$STATE/tls/node.crt" -inkey "$STATE/tls/node.key" -out "$STATE/tls/node.pfx" -passout file:"$STATE/tls/password"
    export Actors__Cluster__Tls__Enabled=true Actors__Cluster__Tls__CertificatePath="$STATE/tls/node.pfx"
    Actors__Cluster__Tls__CertificatePassword="$(cat "$STATE/tls/password")"
    Actors__Cluster__Tls__TrustedThumbprints="$(openssl x509 -in "$STATE/tls/node.crt" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)"
    export Actors__Cluster__Tls__CertificatePassword Actors__Cluster__Tls__TrustedThumbprints
  fi
  for n in $(seq 1 $NODES); do
    start_node "$n"
    # The first seed listens before the others start.
    [ "$n" = 1 ] && sleep 3
  done

  for n in $(seq 1 $NODES); do wait_ready "$n"; done
  echo "cluster ready: curl http://127.0.0.1:5081/cluster"
}

stop() {
  [ -d "$STATE" ] || { echo "not running"; return 0; }
  for pidfile in "$STATE"/node-*.pid; do
    [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  for pidfile in "$STATE"/node-*.pid; do
    [ -f "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  local bin; bin="$(pg_bin)"
  [ -d "$STATE/pg/data" ] && as_postgres "$bin/pg_ctl" -D "$STATE/pg/data" -m fast -w stop > /dev/null || true
  rm -rf "$STATE"
  echo "stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  add) add "${2:-}" ;;
  status) curl -fs http://127.0.0.1:5081/cluster; echo ;;
  *) echo "usage: $0 start|add N|status|stop" >&2; exit 2 ;;
esac
