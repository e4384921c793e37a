#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root) and builds runbook into build/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake make ccache pkg-config
          tao-pegtl-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libgtest-dev
          libhiredis-dev redis-server libcurl4-openssl-dev libcpp-httplib-dev prometheus
          python3-celery python3-redis celery)

bash scripts/install.sh "${PACKAGES[@]}"
# kubectl for the live kube reads: Debian's kubernetes-client, unless a kubectl is already installed
# (another package providing /usr/bin/kubectl would conflict with it).
command -v kubectl >/dev/null || bash scripts/install.sh kubernetes-client

BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build build -j2
