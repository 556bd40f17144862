#!/usr/bin/env bash
# Installs the Debian packages oraclebus needs and the npm packages of the local chain (tests/chain,
# pinned by its lock file). Idempotent.
#
#   tools/deps.sh          everything: build, test, fuzz, bench, format, deployment checks, demo
#                          (make deps; make test, asan, fuzz, bench run it once)
#   tools/deps.sh --demo   only what `make demo` needs: the compiler and the libraries the programs link,
#                          curl, python3, node/npm and the local chain's npm packages; not the test
#                          toolchain (clang, cmocka, Prometheus, Alertmanager, kubectl, ...)
#
# Nothing installed here starts a system service on its own: Debian's prometheus and
# prometheus-alertmanager start (and enable) theirs on install, but tests run those binaries
# themselves. During the install /usr/sbin/policy-rc.d (when there is none) refuses every service
# start (exit 101: invoke-rc.d and deb-systemd-invoke ask it), and the services of packages installed
# now are disabled afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=all
case "${1:-}" in
  "") ;;
  --demo) MODE=demo ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: tools/deps.sh [--demo]" >&2; exit 2 ;;
esac
DEB_PKGS=(
  build-essential pkg-config   # the compiler
  libnng-dev            # the bus: pub/sub sockets and the HTTP server for /health and /metrics
  libmsgpack-dev        # msgpack-c: frame and message encoding
  liblmdb-dev           # LMDB: durable nonces, outboxes, the journal
  libsecp256k1-dev      # ECDSA (transactions) and BIP-340 Schnorr (bus signatures)
  libjansson-dev        # JSON: config files, RPC, bus-tap views
  libcurl4-openssl-dev  # HTTP(S) client: price sources, JSON-RPC, alert sinks
  libmicrohttpd-dev     # HTTP server for /health, /metrics and intake: connection caps and timeouts
  libxml2-dev           # ISO 20022 XML (tokenizer)
  libssl-dev            # OpenSSL libcrypto: SHA-256 of the tokenizer's payment keys and content
  curl                  # the demo's and the tests' HTTP checks
)
if [ "$MODE" = all ]; then
  DEB_PKGS+=(
    clang libclang-rt-14-dev   # libFuzzer and the sanitizers
    clang-format-14            # make format / format-check (CI): the one style, pinned to 14
    lmdb-utils                 # mdb_stat for operators and tests
    libcmocka-dev              # unit test framework
    prometheus                 # promtool check metrics, in tests (its service: see above)
    prometheus-alertmanager    # the real Alertmanager, in alerter tests (its service: see above)
    procps psmisc iproute2 jq  # test scripts: process control, JSON assertions
  )
fi
missing=()
# python3 (standard library only: the demo's event view, JSON checks and free ports in tests); the machine may already
# have one (pyenv), else Debian's.
command -v python3 >/dev/null || DEB_PKGS+=(python3)
# node and npm (anvil, cast, solc-js, ethers: the local chain of the demo and the tests) come with the machine;
# fall back to Debian's packages where they do not.
command -v npm >/dev/null || DEB_PKGS+=(nodejs npm)
# Deployment checks (tests/integration/deploy_*.sh): PyYAML for Debian's python3 (the manifest,
# dashboard and PrometheusRule checks), kubectl for `kubectl kustomize` (Debian's kubernetes-client
# unless a kubectl is already installed: the two would conflict), systemd-analyze for the units.
if [ "$MODE" = all ]; then
  DEB_PKGS+=(python3-yaml)
  command -v kubectl >/dev/null || DEB_PKGS+=(kubernetes-client)
  command -v systemd-analyze >/dev/null || DEB_PKGS+=(systemd)
fi
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  POLICY=/usr/sbin/policy-rc.d
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# tools/deps.sh: no service starts during this install\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Installed now and enabled by their packages: disabled (they would start at the next boot).
  for svc in prometheus prometheus-alertmanager; do
    case " ${missing[*]} " in *" $svc "*)
      command -v systemctl >/dev/null && $SUDO systemctl disable --quiet "$svc.service" >/dev/null 2>&1 || true ;;
    esac
  done
fi
# A node_modules that is a symbolic link (a git worktree sharing another checkout's packages) is left
# alone: `npm ls` reports every package in it as extraneous, and `npm ci` would empty the link's target.
if [ -f tests/chain/package.json ] && [ ! -L tests/chain/node_modules ]; then
  (cd tests/chain && { [ -d node_modules ] && npm ls >/dev/null 2>&1 || npm ci --no-audit --no-fund; })
fi
echo "deps: ok ($MODE)"
