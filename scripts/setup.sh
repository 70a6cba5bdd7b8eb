#!/usr/bin/env bash
# The whole install, idempotent: Debian packages, npm packages (which bring Node 24 from the
# npm registry and build the native addon), then a check that Node 24 and meshctl work.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(nftables iproute2 curl python3 procps tcpdump dnsutils g++ make)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2; exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when the lockfile is present (reproducible); npm install otherwise.
if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

node_bin=node_modules/.bin/node
ver=$("$node_bin" --version)
case "$ver" in v24.*) ;; *) echo "setup: expected Node 24 in $node_bin, got $ver" >&2; exit 1;; esac
[[ -f native/build/Release/netsock.node ]] || { echo "setup: the native addon did not build (native/build/Release/netsock.node missing)" >&2; exit 1; }
echo "setup: ok (node $ver, native addon built); try: npx meshctl --help"
