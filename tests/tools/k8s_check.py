#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Schema and consistency check of deploy/kubernetes (no cluster needed).

usage: k8s_check.py DIR SERVE_HELP_FILE [FILE...]

Checks every YAML document of the kustomization (and the extra files given):
the fields the Kubernetes API requires for each kind used, known apiVersions,
and what ties the objects together: selectors and labels, named ports used
by probes and the Service, volumes naming ConfigMaps that exist or secrets
the deployment guide documents, the config file's keys being options of
`ppml serve`, the listen port being the container port, and the hardening
the threat model relies on.  Prints "ok name" or "not ok name: why" per
check and a count; exits 1 when any failed.
"""
import re
import sys

import yaml

KNOWN = {
    "Namespace": "v1", "ServiceAccount": "v1", "ConfigMap": "v1", "Service": "v1",
    "Secret": "v1", "Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "Job": "batch/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Secrets are created out of band (docs/deployment.md), never committed.
SECRETS = {"ppml-serve-keys", "ppml-serve-tls", "ppml-serve-db"}

results = []


def check(name, ok, why=""):
    results.append((name, bool(ok), why))


def need(obj, path):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def quantity(q):
    return isinstance(q, (str, int)) and re.match(r"^[0-9.]+(m|Mi|Gi|Ki)?$", str(q))


def main():
    d, help_file = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    with open(f"{d}/kustomization.yaml") as f:
        kust = yaml.safe_load(f)
    check("kustomization", kust.get("kind") == "Kustomization" and kust.get("resources"),
          "no resources")
    docs = []
    for r in kust.get("resources", []) + extra:
        path = r if r.startswith("/") else f"{d}/{r}"
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    docs.append((r, doc))
    ns = kust.get("namespace")
    by = {}
    for src, o in docs:
        kind, name = o.get("kind"), need(o, "metadata.name")
        check(f"{src}:{kind}/{name}:apiVersion", KNOWN.get(kind) == o.get("apiVersion"),
              f"{kind} with apiVersion {o.get('apiVersion')}, expected {KNOWN.get(kind)}")
        check(f"{src}:{kind}/{name}:name", isinstance(name, str) and NAME.match(name) and len(name) <= 63,
              "metadata.name must be a DNS label")
        if kind != "Namespace" and src not in extra:
            check(f"{src}:{kind}/{name}:namespace", need(o, "metadata.namespace") == ns,
                  f"namespace {need(o, 'metadata.namespace')}, the kustomization says {ns}")
        by.setdefault(kind, {})[name] = o

    serve_opts = set(re.findall(r"--([a-z][a-z-]+)", open(help_file).read()))
    for name, dep in by.get("Deployment", {}).items():
        spec, tpl = dep["spec"], need(dep, "spec.template")
        pod = tpl["spec"]
        labels = need(tpl, "metadata.labels") or {}
        sel = need(spec, "selector.matchLabels") or {}
        check(f"deployment/{name}:selector", sel and all(labels.get(k) == v for k, v in sel.items()),
              "selector.matchLabels not a subset of the template labels")
        check(f"deployment/{name}:replicas", isinstance(spec.get("replicas"), int) and spec["replicas"] >= 2,
              "at least 2 replicas (the service is on the critical path)")
        check(f"deployment/{name}:no-api-token", pod.get("automountServiceAccountToken") is False,
              "automountServiceAccountToken must be false")
        psc = pod.get("securityContext", {})
        check(f"deployment/{name}:non-root", psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
              "pod must run as non-root")
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        for v in vols.values():
            if "configMap" in v:
                check(f"deployment/{name}:volume/{v['name']}", v["configMap"]["name"] in by.get("ConfigMap", {}),
                      f"ConfigMap {v['configMap']['name']} is not defined")
            if "secret" in v:
                check(f"deployment/{name}:volume/{v['name']}", v["secret"]["secretName"] in SECRETS,
                      f"secret {v['secret']['secretName']} is not one docs/deployment.md creates")
                mode = v["secret"].get("defaultMode", 0o644)
                check(f"deployment/{name}:volume/{v['name']}:mode", mode & 0o007 == 0,
                      f"secret mode {oct(mode)} is readable by others")
        for c in pod["containers"]:
            cn = f"deployment/{name}/{c['name']}"
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            check(f"{cn}:image", isinstance(c.get("image"), str) and ":" in c["image"] and
                  not c["image"].endswith(":latest"), "image with a pinned tag")
            res = c.get("resources", {})
            check(f"{cn}:resources", all(quantity(need(res, f"{a}.{b}")) for a in ("requests", "limits")
                                         for b in ("cpu", "memory")), "cpu and memory requests and limits")
            rp, lp = c.get("readinessProbe", {}), c.get("livenessProbe", {})
            check(f"{cn}:readiness", need(rp, "httpGet.path") == "/healthz" and
                  need(rp, "httpGet.port") in ports, "readinessProbe: GET /healthz on a named container port")
            check(f"{cn}:liveness", lp and need(lp, "httpGet.path") != "/healthz",
                  "livenessProbe must not depend on the database (/healthz): an outage would restart every replica")
            sc = c.get("securityContext", {})
            check(f"{cn}:hardening", sc.get("allowPrivilegeEscalation") is False and
                  sc.get("readOnlyRootFilesystem") is True and "ALL" in (need(sc, "capabilities.drop") or []),
                  "no privilege escalation, read-only root, all capabilities dropped")
            mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
            check(f"{cn}:mounts", set(mounts) <= set(vols), f"mounts {set(mounts) - set(vols)} without volumes")
            for e in c.get("env", []):
                ref = need(e, "valueFrom.secretKeyRef.name")
                if ref:
                    check(f"{cn}:env/{e['name']}", ref in SECRETS, f"secret {ref} is not documented")
            # The config file: its keys are ppml serve options, its files are mounted.
            args = c.get("args", [])
            if "--config" in args:
                cfg = args[args.index("--config") + 1]
                mnt = [m for m in mounts.values() if cfg.startswith(m["mountPath"] + "/")]
                check(f"{cn}:config-mounted", mnt, f"{cfg} is on no mount")
                if mnt:
                    vol = vols[mnt[0]["name"]]
                    cm = by["ConfigMap"][vol["configMap"]["name"]]
                    text = cm["data"][cfg[len(mnt[0]["mountPath"]) + 1:]]
                    keys = re.findall(r"^([a-z_]+)\s*=", text, re.M)
                    bad = [k for k in keys if k.replace("_", "-") not in serve_opts]
                    check(f"{cn}:config-keys", keys and not bad, f"not ppml serve options: {bad}")
                    listen = re.search(r'^listen\s*=\s*"[^"]*:(\d+)"', text, re.M)
                    check(f"{cn}:listen-port", listen and int(listen.group(1)) == ports.get("https"),
                          "listen port differs from the https container port")
                    metrics = re.search(r'^metrics_listen\s*=\s*"[^"]*:(\d+)"', text, re.M)
                    check(f"{cn}:metrics-port", not metrics or int(metrics.group(1)) == ports.get("metrics"),
                          "metrics_listen port differs from the metrics container port")
                    check(f"{cn}:tls", "tls_cert" in keys and "tls_key" in keys and "insecure_http" not in keys,
                          "HTTPS only in a deployment")
                    db = re.search(r'^db\s*=\s*"([^"]*)"', text, re.M)
                    check(f"{cn}:db", db and db.group(1).startswith("postgresql://") and
                          not re.search(r"://[^/@]*:[^/@]*@", db.group(1)),
                          "a postgresql:// URL without a password (PGPASSWORD comes from a secret)")
                    for k in ("tls_cert", "tls_key", "pccs_cacert", "state_dir"):
                        m = re.search(rf'^{k}\s*=\s*"([^"]*)"', text, re.M)
                        if m:
                            check(f"{cn}:path/{k}", any(m.group(1) == x["mountPath"] or
                                                        m.group(1).startswith(x["mountPath"] + "/")
                                                        for x in mounts.values()),
                                  f"{m.group(1)} is on no mount")
            for svc_name, svc in by.get("Service", {}).items():
                if svc["spec"].get("selector") and all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
                    for p in svc["spec"]["ports"]:
                        check(f"service/{svc_name}:port/{p['name']}", p["targetPort"] in ports or
                              p["targetPort"] in ports.values(), f"targetPort {p['targetPort']} is no container port")
    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        for name, o in by.get(kind, {}).items():
            sel = need(o, "spec.selector") if kind == "Service" else need(o, "spec.podSelector.matchLabels") \
                if kind == "NetworkPolicy" else need(o, "spec.selector.matchLabels")
            matched = [d for d in by.get("Deployment", {}).values()
                       if sel and all((need(d, "spec.template.metadata.labels") or {}).get(k) == v
                                      for k, v in sel.items())]
            check(f"{kind.lower()}/{name}:selects", matched, "selects no deployment's pods")
    for name, job in by.get("Job", {}).items():
        for c in need(job, "spec.template.spec.containers") or []:
            lim = need(c, "resources.limits") or {}
            check(f"job/{name}/{c['name']}:sgx", "sgx.intel.com/epc" in lim and "sgx.intel.com/enclave" in lim,
                  "an enclave workload requests sgx.intel.com/epc and /enclave from the device plugin")

    failed = 0
    for name, ok, why in results:
        print(f"ok {name}" if ok else f"not ok {name}: {why}")
        failed += not ok
    print(f"{len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
