#!/usr/bin/env bash
# The project's test command (README, and .ci/run calls it). It installs what
# the tests need, then runs the checks and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The Python SDK of portable plugins runs on Debian's python3 with grpc;
# its tests use /usr/bin/python3 (python3 on PATH may be another one).
/usr/bin/python3 -c 'import grpc, grpc_tools.protoc' >/dev/null 2>&1 || need+=(python3-grpcio python3-grpc-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the services it installs; the tests start their own on free ports.

echo "== go mod download"
go mod download

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

echo "== go mod tidy -diff"
go mod tidy -diff

echo "== go vet"
go vet ./...

echo "== generated files are up to date"
go run ./cmd/kgen gen -check ./examples/...

echo "== go test (race detector on the engine)"
go test -race -count=1 -timeout 20m ./engine/...
# At full size (the race detector's run sends fewer messages).
go test -count=1 -run '^TestEmbeddedBrokerLosesNothing$' ./engine/
go test -count=1 -timeout 30m $(go list ./... | grep -v '/engine')
