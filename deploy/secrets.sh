#!/usr/bin/env bash
# Creates the secrets a cluster needs, one file per setting, named as the configuration key with __ for : (how the
# node reads a secrets directory). Existing files are kept, so running it again adds only what is missing.
#
#   deploy/secrets.sh                                  into deploy/secrets/ (what docker-compose.yml mounts)
#   DB_HOST=pg.internal deploy/secrets.sh deploy/k8s/secrets    into deploy/k8s/secrets/ (what k8s/kustomization.yaml reads)
#
#   postgres-password                          PostgreSQL's password (random)
#   Actors__ConnectionString                   the connection string with it (host $DB_HOST, default postgres)
#   Actors__Auth__Keys__ops__Hash              the SHA-256 hash of a new admin key; the key itself is printed once
#   Actors__Auth__Keys__ops__Permissions__0    admin
#   actors-node.pfx                            a self-signed certificate and key for TLS between the nodes (PKCS#12)
#   Actors__Cluster__Tls__CertificatePassword  its password (random)
#   Actors__Cluster__Tls__TrustedThumbprints   its SHA-1 thumbprint: the nodes trust exactly that certificate
#
# Needs openssl, and the .NET SDK for the key (or write the hash of a key you made into the file first).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/deploy/secrets}"
db_host="${DB_HOST:-postgres}"
mkdir -p "$dir"
# The directory is private; the files are readable by any user because Compose bind-mounts them as they are and
# the container runs as a non-root user of its own.
chmod 700 "$dir"
cd "$dir"

put() { [ -s "$1" ] || { printf '%s' "$2" > "$1"; echo "created $dir/$1"; }; }
random() { openssl rand -base64 32 | tr -d '/+=\n' | cut -c1-32; }

put postgres-password "$(random)"
put Actors__ConnectionString "Host=$db_host;Port=5432;Username=actors;Password=$(cat postgres-password);Database=actors"

if [ ! -s Actors__Auth__Keys__ops__Hash ]; then
  out="$(dotnet run --project "$root/src/Actors.Node" -- keygen ops admin)"
  put Actors__Auth__Keys__ops__Hash "$(printf '%s\n' "$out" | awk '$1 == "hash:" { print $2 }')"
  echo "the ops key (give it to clients; it is not stored): $(printf '%s\n' "$out" | awk '$1 == "key:" { print $2 }')"
fi
put Actors__Auth__Keys__ops__Permissions__0 admin

if [ ! -s actors-node.pfx ]; then
  put Actors__Cluster__Tls__CertificatePassword "$(random)"
  tmp="$(mktemp -d)"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=actors-cluster" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" -addext "extendedKeyUsage=serverAuth,clientAuth" \
    -keyout "$tmp/node.key" -out "$tmp/node.crt" 2> /dev/null
  openssl pkcs12 -export -in "$tmp/node.crt" -inkey "$tmp/node.key" -out actors-node.pfx \
    -passout file:Actors__Cluster__Tls__CertificatePassword
  rm -f Actors__Cluster__Tls__TrustedThumbprints
  put Actors__Cluster__Tls__TrustedThumbprints "$(openssl x509 -in "$tmp/node.crt" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)"
  rm -rf "$tmp"
  echo "created $dir/actors-node.pfx"
fi
chmod 644 ./*
