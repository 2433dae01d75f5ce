#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a booted, managed VM, as root: installs what is
# missing, installs Viridian as a service (scripts/install.sh: a release build under /usr/local,
# the viridian group, the systemd units, the web console on https://127.0.0.1:8443/), builds the
# test guest, creates the VM "demo", boots it, and shows it running with its console output.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root (it installs packages, /usr/local/bin/viridian and the systemd unit)" >&2
    exit 1
fi
scripts/install-deps.sh
scripts/install.sh "$@"
export VIRIDIAN_HOST=/var/lib/viridian/viridiand.sock
viridian host show

echo "==> building the test guest (cached after the first time)"
viridian image test-guest
if ! viridian vm show demo >/dev/null 2>&1; then
    viridian vm create demo --image test-guest --memory 512M
fi
state_now="$(viridian vm show demo --json | sed -n 's/.*"state" : "\([A-Za-z]*\)".*/\1/p')"
if [ "$state_now" = "Off" ] || [ "$state_now" = "Saved" ]; then
    viridian vm start demo
fi
echo "==> waiting for the guest"
for _ in $(seq 300); do
    viridian vm console demo --log --bytes 65536 | grep -q VIRIDIAN-GUEST-READY && break
    sleep 0.2
done
viridian vm list
echo "==> integration services of 'demo' (the guest agent starts a second or two after boot)"
for _ in $(seq 100); do
    viridian vm ic demo --json | grep -q '"primaryStatus" : "OK"' && break
    sleep 0.2
done
viridian vm ic demo
echo "==> console of 'demo' (last lines; attach with: viridian vm console demo, detach with Ctrl-])"
viridian vm console demo --log --bytes 65536 | tail -n 12
echo
web="$(sed -n 's/.*--web-listen[= ]\([^ "]*\).*/\1/p' /etc/default/viridiand)"
echo "Viridian is running. Try: viridian --help${web:+; the web console is at https://$web/ (sign in as root or a member of group viridian)}"
