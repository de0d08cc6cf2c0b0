#!/usr/bin/env bash
# Installs the checkers the deploy/ tests run: helm (chart lint and render) and promtool (alert
# rules), built from the Go module proxy into $CSPM_TOOLS_BIN (default ~/.cache/cspm-stream/tools/bin,
# outside the repository). A tool already there is kept; Go's build cache makes a rebuild quick.
# Usage: deploy/tools/install.sh [helm] [promtool]   (default: both)
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"   # Go module version of Prometheus 3.x's promtool
BIN="${CSPM_TOOLS_BIN:-$HOME/.cache/cspm-stream/tools/bin}"
mkdir -p "$BIN"
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && PATH="$d:$PATH"; done
fi
command -v go >/dev/null 2>&1 || { echo "deploy/tools/install.sh: Go is not installed" >&2; exit 1; }
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(helm promtool)
for tool in "${want[@]}"; do
  if [ -x "$BIN/$tool" ]; then echo "$tool: $BIN/$tool (present)"; continue; fi
  case "$tool" in
    helm) mod="helm.sh/helm/v4/cmd/helm@$HELM_VERSION" ;;
    promtool) mod="github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
  echo "$tool: building $mod into $BIN"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "$mod"
done
