#!/usr/bin/env bash
# Installs the Debian packages Viridian needs, only those missing or too old (idempotent), and says
# what it changed. Needs root.
#
# The engine: QEMU 10 (Debian 13's version). On Debian 12 it comes from Debian's own
# bookworm-backports suite, enabled by a deb822 source file and pinned so that only the engine
# packages come from there (everything else stays Debian 12's). On Debian 13 the native packages
# are QEMU 10. QEMU 7.2 stays supported: VIRIDIAN_QEMU_CHANNEL=stable keeps Debian 12's engine.
set -euo pipefail

run_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# shellcheck disable=SC1091
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
engine_channel="${VIRIDIAN_QEMU_CHANNEL:-backports}"
case "$engine_channel" in
    backports|stable) ;;
    *) echo "error: VIRIDIAN_QEMU_CHANNEL must be 'backports' (QEMU 10, the default) or 'stable' (the release's own QEMU)" >&2
       exit 2 ;;
esac

# The engine and the firmware packages QEMU 10 needs at matching versions.
engine_packages=(qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui qemu-utils
                 qemu-block-extra seabios)
packages=(qemu-system-x86 qemu-utils ovmf busybox-static kmod cpio e2fsprogs genisoimage binutils
          iproute2 nftables iperf3 tcpdump ethtool radvd libnbd-bin ipxe-qemu dnsmasq-base swtpm swtpm-tools openssl
          libpam0g-dev libxxhash-dev novnc node-xterm
          chromium chromium-driver python3-selenium python3-prometheus-client fonts-liberation curl)

sources_file=/etc/apt/sources.list.d/viridian-bookworm-backports.sources
pin_file=/etc/apt/preferences.d/viridian-engine
lists_changed=0

write_if_different() {  # path content
    if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        printf '%s\n' "$2" | run_as_root tee "$1" >/dev/null
        echo "==> wrote $1"
        lists_changed=1
    fi
}

if [ "$codename" = "bookworm" ] && [ "$engine_channel" = "backports" ]; then
    write_if_different "$sources_file" "# Written by Viridian's scripts/install-deps.sh: Debian's own backports, for QEMU 10.
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    write_if_different "$pin_file" "# Written by Viridian's scripts/install-deps.sh: only the engine comes from bookworm-backports.
Package: ${engine_packages[*]}
Pin: release n=bookworm-backports
Pin-Priority: 990"
elif [ "$codename" = "bookworm" ] && [ "$engine_channel" = "stable" ]; then
    for file in "$pin_file" "$sources_file"; do
        if [ -f "$file" ]; then
            run_as_root rm -f "$file"
            echo "==> removed $file (VIRIDIAN_QEMU_CHANNEL=stable)"
            lists_changed=1
        fi
    done
fi

installed_version() {
    dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^install ok installed //p' || true
}

missing=()
for package in "${packages[@]}"; do
    [ -n "$(installed_version "$package")" ] || missing+=("$package")
done

# The test guest's kernel comes from apt: the package lists must know it.
kernel_policy="$(apt-cache policy linux-image-cloud-amd64 2>/dev/null || true)"
if [ $lists_changed -eq 1 ] || [ ${#missing[@]} -gt 0 ] || ! grep -q "Candidate: [0-9]" <<< "$kernel_policy"; then
    echo "==> apt-get update"
    run_as_root apt-get update -qq
fi

# Engine packages installed but older than what the pin selects (a host that had QEMU 7.2).
upgrades=()
while read -r package candidate; do
    current="$(installed_version "$package")"
    if [ -n "$current" ] && [ "$candidate" != "(none)" ] && [ "$candidate" != "$current" ]; then
        upgrades+=("$package")
    fi
done < <(apt-cache policy "${engine_packages[@]}" | awk '/^[^ ]/ { sub(":$", "", $1); name = $1 } /^  Candidate:/ { print name, $2 }')

if [ ${#missing[@]} -gt 0 ] || [ ${#upgrades[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]} ${upgrades[*]}"
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" "${upgrades[@]}"
fi
echo "==> engine: $(qemu-system-x86_64 --version | head -n 1) ($engine_channel)"

if ! command -v swift >/dev/null; then
    echo "error: the Swift toolchain (6.1 or later) is not on PATH; install it from swift.org" >&2
    exit 1
fi
