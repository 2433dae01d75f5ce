#!/usr/bin/env bash
# Removes what scripts/install.sh installed: stops viridiand (running VMs keep running unless
# --stop-vms), disables its units and deletes the files in PREFIX/share/viridian/installed-files.
# VMs, disks and the inventory in /var/lib/viridian stay, and so does the viridian group, unless
# --purge (which turns every VM off first and deletes the state directory and the cache).
#
#   scripts/uninstall.sh [--prefix DIR] [--stop-vms] [--purge]
set -euo pipefail

prefix=/usr/local
stop_vms=0
purge=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --stop-vms) stop_vms=1; shift ;;
        --purge) purge=1; stop_vms=1; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root" >&2
    exit 1
fi
state=/var/lib/viridian
socket="$state/viridiand.sock"
manifest="$prefix/share/viridian/installed-files"
[ -f "$manifest" ] || { echo "error: $manifest is missing: nothing installed by scripts/install.sh under $prefix" >&2; exit 1; }

if [ $stop_vms -eq 1 ] && [ -x "$prefix/bin/viridian" ]; then
    for vm in $("$prefix/bin/viridian" vm list --host "$socket" --json 2>/dev/null | sed -n 's/.*"name" : "\([^"]*\)".*/\1/p'); do
        "$prefix/bin/viridian" vm stop "$vm" --turn-off --host "$socket" >/dev/null 2>&1 || true
    done
fi
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    systemctl disable --now viridian-guests viridiand 2>/dev/null || true
elif [ -f "$state/viridiand.pid" ] && kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; then
    kill "$(cat "$state/viridiand.pid")"
    while kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; do sleep 0.1; done
    rm -f "$state/viridiand.pid"
fi
while read -r path; do
    [ -n "$path" ] && rm -rf "$path"
done < "$manifest"
rmdir "$prefix/share/viridian/web" "$prefix/share/viridian" "$prefix/lib/viridian" 2>/dev/null || true
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && systemctl daemon-reload
echo "==> removed Viridian from $prefix"
if [ $purge -eq 1 ]; then
    rm -rf "$state" /var/cache/viridian
    getent group viridian >/dev/null && groupdel viridian
    echo "==> purged $state, /var/cache/viridian and the group viridian"
else
    echo "==> kept $state (VMs, disks, inventory) and the group viridian; --purge deletes them"
fi
