#!/usr/bin/env bash
# Installs every Debian package oraclebus needs (build, test, fuzz, bench, demo) and the npm
# packages of the local-chain tests (tests/chain, pinned by its lock file). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev   # compilers; clang for libFuzzer
  clang-format-14                                      # make format / format-check (CI): the one style, pinned to 14
  libnng-dev            # the bus: pub/sub sockets and the HTTP server for /health and /metrics
  libmsgpack-dev        # msgpack-c: frame and message encoding
  liblmdb-dev lmdb-utils # LMDB: durable nonces, outboxes, the journal; mdb_stat for operators
  libsecp256k1-dev      # ECDSA (transactions) and BIP-340 Schnorr (bus signatures)
  libjansson-dev        # JSON: config files, RPC, bus-tap views
  libcurl4-openssl-dev  # HTTP(S) client: price sources, JSON-RPC, alert sinks
  libmicrohttpd-dev     # HTTP server for /health, /metrics and intake: connection caps and timeouts
  libcmocka-dev         # unit test framework
  libxml2-dev           # ISO 20022 XML (tokenizer)
  libssl-dev            # OpenSSL libcrypto: SHA-256 of the tokenizer's payment keys and content
  prometheus            # promtool check metrics, in tests
  prometheus-alertmanager # the real Alertmanager, in alerter tests
  curl procps psmisc iproute2 jq  # test scripts: HTTP checks, process control
)
missing=()
# python3 (standard library only) checks JSON and picks free ports in tests; the machine may already
# have one (pyenv), else Debian's.
command -v python3 >/dev/null || DEB_PKGS+=(python3)
# node and npm (anvil, cast, solc-js, ethers for the local chain in tests) come with the machine;
# fall back to Debian's packages where they do not.
command -v npm >/dev/null || DEB_PKGS+=(nodejs npm)
# Deployment checks (tests/integration/deploy_*.sh): PyYAML for Debian's python3 (the manifest,
# dashboard and PrometheusRule checks), kubectl for `kubectl kustomize` (Debian's kubernetes-client
# unless a kubectl is already installed: the two would conflict), systemd-analyze for the units.
DEB_PKGS+=(python3-yaml)
command -v kubectl >/dev/null || DEB_PKGS+=(kubernetes-client)
command -v systemd-analyze >/dev/null || DEB_PKGS+=(systemd)
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# A node_modules that is a symbolic link (a git worktree sharing another checkout's packages) is left
# alone: `npm ls` reports every package in it as extraneous, and `npm ci` would empty the link's target.
if [ -f tests/chain/package.json ] && [ ! -L tests/chain/node_modules ]; then
  (cd tests/chain && { [ -d node_modules ] && npm ls >/dev/null 2>&1 || npm ci --no-audit --no-fund; })
fi
echo "deps: ok"
