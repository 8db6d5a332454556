#!/usr/bin/env python3
"""Parses the manifests and the compose file (no kubectl needed) and checks what Cluster Bootstrap relies on: the
StatefulSet's service account exists and may get, watch and list pods, the pods carry the label the discovery
selects on, the container names its management port, and Kubernetes discovery is on with no seed nodes."""
import pathlib
import sys

import yaml

deploy = pathlib.Path(__file__).resolve().parent.parent
docs = {}
for path in sorted((deploy / "k8s").glob("*.yaml")) + [deploy / "docker-compose.yml"]:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and "kind" in doc and "metadata" in doc:
            docs[(doc["kind"], doc["metadata"]["name"])] = doc

kustomization = yaml.safe_load((deploy / "k8s" / "kustomization.yaml").read_text())
for resource in kustomization["resources"]:
    assert (deploy / "k8s" / resource).is_file(), f"kustomization lists a missing file: {resource}"

statefulset = docs[("StatefulSet", "actors")]
pod = statefulset["spec"]["template"]
account = pod["spec"]["serviceAccountName"]
assert ("ServiceAccount", account) in docs, f"no ServiceAccount {account}"
bindings = [d for (kind, _), d in docs.items() if kind == "RoleBinding"
            and any(s["kind"] == "ServiceAccount" and s["name"] == account for s in d["subjects"])]
assert bindings, f"no RoleBinding for the service account {account}"
role = docs[("Role", bindings[0]["roleRef"]["name"])]
assert any("pods" in r["resources"] and {"get", "watch", "list"} <= set(r["verbs"]) for r in role["rules"]), \
    "the Role must allow get, watch and list on pods"

container = pod["spec"]["containers"][0]
env = {e["name"]: e.get("value") for e in container["env"]}
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
assert env["Actors__Cluster__Discovery"] == "Kubernetes", "Kubernetes discovery must be on"
assert not env.get("Actors__Cluster__SeedNodes"), "no seed nodes with Kubernetes discovery"
assert ports["management"] == int(env["Actors__Cluster__Kubernetes__ManagementPort"]), "the management port must be named 'management'"
service = env.get("Actors__Cluster__Kubernetes__ServiceName", "actors")
assert pod["metadata"]["labels"].get("app") == service, "the pods must carry the label app=<ServiceName> the discovery selects on"
assert int(env["Actors__Cluster__Kubernetes__RequiredContactPoints"]) <= statefulset["spec"]["replicas"], \
    "RequiredContactPoints above the replica count would never form a cluster"
print(f"deploy manifests: {len(docs)} objects parsed, Cluster Bootstrap RBAC and ports consistent")
