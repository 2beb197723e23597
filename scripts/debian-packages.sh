# The Debian packages tiny-docker needs, installed only when missing. Sourced by setup.sh and .ci/run.
# mmdebstrap and e2fsprogs build the cgroup v2 test guest (scripts/vm-test.mjs, docs/testing.md);
# chromium runs the web page's tests (test/e2e/ui*.test.ts, docs/ui.md).
# docker-registry and apache2-utils (htpasswd) are the registries of the pull/push tests (docs/registries.md).
# The attack suite builds a static probe (gcc, libc6-dev) and a loop-mounted data root (e2fsprogs, util-linux);
# --userns-remap default makes its user with passwd's useradd (docs/security.md).
# docker-compose (1.29) brings a two-service project up against the daemon (test/e2e/network-compose.test.ts, docs/networking.md).
DEBIAN_PACKAGES=(busybox-static gcc make libc6-dev attr skopeo procps iproute2 util-linux openssl libseccomp-dev nftables curl iperf3 mmdebstrap e2fsprogs chromium docker-registry apache2-utils passwd docker-compose strace)
install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
