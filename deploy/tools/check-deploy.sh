#!/usr/bin/env bash
# Checks the deployment files with real tools, offline (CI runs it from .ci/run):
#   docker-compose.yml  against the Compose Specification (compose-check, compose-go)
#   the Helm chart      with helm lint, and helm template's output decoded strictly into the
#                       Kubernetes API types (k8s-check, client-go) for each values file in ci/
# Helm is built once into .tools/bin with Go when no helm of this version is found (a helm built
# by go install reports only major.minor, v3.22).
set -euo pipefail
cd "$(dirname "$0")/../.."
HELM_VERSION=v3.22.0
KUBE_VERSION=1.30.0
CHART=deploy/helm/herald

helm_bin=""
for candidate in .tools/bin/helm "$(command -v helm || true)" "$(go env GOPATH)/bin/helm"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" version --template '{{.Version}}' 2>/dev/null | grep -qx "${HELM_VERSION%.*}\(\.0\)\?"; then
    helm_bin=$candidate
    break
  fi
done
if [ -z "$helm_bin" ]; then
  echo "building helm $HELM_VERSION into .tools/bin (once)"
  GOBIN="$PWD/.tools/bin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  helm_bin=.tools/bin/helm
fi

echo "-- compose: docker-compose.yml against the Compose schema"
(cd deploy/tools/compose-check && go run . ../../../docker-compose.yml)

echo "-- helm lint ($("$helm_bin" version --short))"
"$helm_bin" lint --strict "$CHART"
for values in "$CHART"/ci/*-values.yaml; do
  "$helm_bin" lint --strict "$CHART" -f "$values"
done

echo "-- helm template | k8s-check (Kubernetes $KUBE_VERSION API types, strict)"
(cd deploy/tools/k8s-check && go build -o ../../../.tools/bin/k8s-check .)
for values in "$CHART"/ci/*-values.yaml; do
  echo "   $values"
  "$helm_bin" template herald "$CHART" --kube-version "$KUBE_VERSION" -f "$values" | .tools/bin/k8s-check
done
