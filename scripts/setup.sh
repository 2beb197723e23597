#!/usr/bin/env bash
# One-command set-up on Debian 12 as root: the packages the engine needs, npm ci (which builds the
# TypeScript, the C shim and the CLI manifest), npm link (mini-docker and mini-dockerd on PATH),
# then a first container.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "setup: run as root (namespaces, mounts and cgroups need it)" >&2; exit 1; fi
. scripts/debian-packages.sh
install_debian_packages
npm ci
npm link --ignore-scripts >/dev/null  # npm ci built everything already
mini-docker run --rm busybox echo hello
