#!/usr/bin/env bash
# Installs Viridian as a service, as root: a release build of viridian and viridiand under PREFIX
# (default /usr/local), their data (OpenAPI document, web console files, guest agent), the
# `viridian` group, PAM's `viridian` service, bash completion, and the systemd units; then starts
# viridiand (enabled and started where systemd is PID 1, started directly otherwise) with the web
# console on 127.0.0.1:8443, and prints where it is and how to sign in.
#
#   scripts/install.sh [--prefix DIR] [--web-listen ADDR:PORT]
#
# Every file it writes is listed in PREFIX/share/viridian/installed-files; scripts/uninstall.sh
# removes them (and keeps VMs and disks unless asked). Idempotent: run it again to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
web_listen=127.0.0.1:8443
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --web-listen) web_listen="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root (it installs under $prefix, /etc and systemd)" >&2
    exit 1
fi
state=/var/lib/viridian
socket="$state/viridiand.sock"
share="$prefix/share/viridian"
manifest="$share/installed-files"

echo "==> release build of viridiand and viridian (the first takes 10 to 20 minutes on 2 cores)"
swift build -c release --product viridiand
swift build -c release --product viridian
bin="$(swift build -c release --show-bin-path)"
scripts/build-guest-agent.sh >/dev/null

getent group viridian >/dev/null || { groupadd --system viridian; echo "==> created the group viridian"; }

mkdir -p "$prefix/bin" "$share/web" "$prefix/lib/viridian" /usr/share/bash-completion/completions /etc/pam.d
installed=()
put() {  # mode source destination
    install -m "$1" "$2" "$3"
    installed+=("$3")
}
put 755 "$bin/viridiand" "$prefix/bin/viridiand"
put 755 "$bin/viridian" "$prefix/bin/viridian"
put 644 Sources/Daemon/Resources/openapi.yaml "$share/openapi.yaml"
for file in Sources/WebConsole/Resources/*; do put 644 "$file" "$share/web/$(basename "$file")"; done
rm -rf "$prefix/lib/viridian/guest"
cp -r .build/guest "$prefix/lib/viridian/guest"
installed+=("$prefix/lib/viridian/guest")
"$prefix/bin/viridian" --generate-completion-script bash > /usr/share/bash-completion/completions/viridian
installed+=(/usr/share/bash-completion/completions/viridian)
# The web console's sign-in: Debian's usual password checks, as login's.
printf '# Viridian web console sign-in (scripts/install.sh)\n@include common-auth\n@include common-account\n' > /etc/pam.d/viridian
installed+=(/etc/pam.d/viridian)
for unit in viridiand.service viridian-guests.service; do
    sed "s|/usr/local/bin/|$prefix/bin/|g" "dist/$unit" > "/etc/systemd/system/$unit"
    installed+=("/etc/systemd/system/$unit")
done
# The operator's own options file is kept; one this script wrote stays on its list.
if [ ! -f /etc/default/viridiand ]; then
    printf '# Options of viridiand (scripts/install.sh); see viridiand --help.\nVIRIDIAND_OPTIONS="--web-listen %s"\n' "$web_listen" > /etc/default/viridiand
fi
grep -q '(scripts/install.sh)' /etc/default/viridiand && installed+=(/etc/default/viridiand)
printf '%s\n' "${installed[@]}" "$manifest" > "$manifest"

# shellcheck disable=SC1091
. /etc/default/viridiand
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    systemctl daemon-reload
    systemctl enable viridiand viridian-guests >/dev/null
    systemctl restart viridiand
    systemctl start viridian-guests
    echo "==> viridiand runs under systemd (journalctl -u viridiand)"
else
    # No systemd here (a container): run it directly, as the unit would.
    mkdir -p "$state"
    if [ -f "$state/viridiand.pid" ] && kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; then
        kill "$(cat "$state/viridiand.pid")"
        while kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; do sleep 0.1; done
    fi
    # shellcheck disable=SC2086
    nohup "$prefix/bin/viridiand" --state-dir "$state" --socket "$socket" $VIRIDIAND_OPTIONS >> "$state/viridiand.log" 2>&1 &
    echo $! > "$state/viridiand.pid"
    echo "==> systemd is not PID 1 here: viridiand started directly (log: $state/viridiand.log, pid: $state/viridiand.pid)"
fi
for _ in $(seq 300); do "$prefix/bin/viridian" host show --host "$socket" >/dev/null 2>&1 && break; sleep 0.1; done
"$prefix/bin/viridian" host show --host "$socket" >/dev/null

web="$(sed -n 's/.*--web-listen[= ]\([^ "]*\).*/\1/p' /etc/default/viridiand)"
echo "==> installed under $prefix: viridian, viridiand (files: $manifest)"
if [ -n "$web" ]; then
    echo "==> web console: https://$web/ (the certificate is this host's own; viridian host certificate prints its CA)"
    echo "    sign in as root or a member of group viridian (usermod -aG viridian USER; the account's Linux password),"
    echo "    or with an API token: viridian host token create NAME"
fi
