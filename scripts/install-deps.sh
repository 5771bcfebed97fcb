#!/usr/bin/env bash
# Installs the Debian 12 packages evmesh needs. Idempotent: does nothing when all
# are present. Usage: scripts/install-deps.sh [build|test]
set -euo pipefail

build_packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-system1.81-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libssl-dev librocksdb-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpaho-mqttpp-dev libpaho-mqtt-dev libvalijson-dev
  libjemalloc2
)
test_packages=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl python3-grpcio python3-protobuf
  openssl python3-jwt python3-cryptography
  mosquitto mosquitto-clients python3-paho-mqtt
  json-schema-test-suite
)

packages=("${build_packages[@]}")
if [[ "${1:-build}" == "test" ]]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
