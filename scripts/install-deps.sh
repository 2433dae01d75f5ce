#!/usr/bin/env bash
# Installs the Debian packages Viridian needs, only those missing (idempotent). Needs root.
set -euo pipefail

packages=(qemu-system-x86 qemu-utils ovmf busybox-static kmod cpio e2fsprogs genisoimage binutils
          iproute2 nftables iperf3 tcpdump ethtool radvd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

run_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The test guest's kernel comes from apt: the package lists must know it.
kernel_policy="$(apt-cache policy linux-image-cloud-amd64 2>/dev/null || true)"
if [ ${#missing[@]} -gt 0 ] || ! grep -q "Candidate: [0-9]" <<< "$kernel_policy"; then
    echo "==> apt-get update"
    run_as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v swift >/dev/null; then
    echo "error: the Swift toolchain (6.1 or later) is not on PATH; install it from swift.org" >&2
    exit 1
fi
