#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/kubernetes: a schema and consistency check of every object (no
# cluster: Debian 12's kubectl cannot validate without one), must-fail
# mutations that the check catches, and, when a kubectl is installed,
# `kubectl kustomize` rendering the kustomization.  Needs python3-yaml.
. "$(dirname "$0")/lib.sh"

K=$PPML_ROOT/deploy/kubernetes
CHECK=$PPML_ROOT/tests/tools/k8s_check.py
"$PPML" serve --help >"$TMP/serve-help" 2>&1
if ! python3 -c 'import yaml' 2>/dev/null; then
	skip k8s_manifests_consistent "python3-yaml is not installed (scripts/install-deps installs it)"
	exit 0
fi

t=k8s_manifests_consistent
if python3 "$CHECK" "$K" "$TMP/serve-help" "$K/examples/enclave-job.yaml" >"$TMP/out" 2>&1; then
	pass "$t: $(tail -1 "$TMP/out")"
else
	fail $t "$(grep -v '^ok' "$TMP/out" | head -5 | tr '\n' ' ')"
fi

# mutate NAME SED_EXPR FILE WANT: a copy with one change must fail, naming WANT.
mutate() {
	rm -rf "$TMP/k" && cp -r "$K" "$TMP/k" && sed -i "$2" "$TMP/k/$3"
	if python3 "$CHECK" "$TMP/k" "$TMP/serve-help" >"$TMP/out" 2>&1; then
		bad="$bad $1(accepted)"
	elif ! grep -q "^not ok .*$4" "$TMP/out"; then
		bad="$bad $1($(grep '^not ok' "$TMP/out" | head -2 | tr '\n' ' '))"
	fi
}
t=k8s_check_catches_mistakes
bad=""
mutate target-port 's/targetPort: https/targetPort: http/' service.yaml 'service/ppml-serve:port/https'
mutate selector 's/^      app.kubernetes.io\/name: ppml-serve$/      app.kubernetes.io\/name: other/' deployment.yaml 'selector'
mutate password 's|postgresql://ppml@|postgresql://ppml:hunter2@|' configmap.yaml ':db'
mutate unknown-key 's/^    issuer = /    isuer = /' configmap.yaml 'config-keys'
mutate listen-port 's/0.0.0.0:8443/0.0.0.0:9443/' configmap.yaml 'listen-port'
mutate liveness-db 's/            tcpSocket:/            httpGet:\n              path: \/healthz/' deployment.yaml 'liveness'
mutate secret-mode 's/defaultMode: 0440/defaultMode: 0444/' deployment.yaml ':mode'
mutate one-replica 's/replicas: 2/replicas: 1/' deployment.yaml 'replicas'
mutate root 's/runAsNonRoot: true/runAsNonRoot: false/' deployment.yaml 'non-root'
mutate latest 's|ppml-serve:0.1.0|ppml-serve:latest|' deployment.yaml ':image'
mutate insecure 's/^    tls_key = .*$/    insecure_http = true/' configmap.yaml ':tls'
if [ -z "$bad" ]; then pass $t; else fail $t "$bad"; fi

t=k8s_kustomize_renders
if command -v kubectl >/dev/null 2>&1; then
	if kubectl kustomize "$K" >"$TMP/rendered.yaml" 2>"$TMP/err" &&
		[ "$(grep -c '^kind: ' "$TMP/rendered.yaml")" = 7 ] && grep -q 'namespace: ppml' "$TMP/rendered.yaml"; then
		pass $t
	else
		fail $t "$(head -3 "$TMP/err")"
	fi
else
	skip $t "kubectl is not installed (Debian 12's kubernetes-client cannot validate without a cluster)"
fi
