#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a booted, managed VM:
# installs what is missing, builds (with the guest agent), (re)starts viridiand, builds the test guest,
# creates the VM "demo", boots it, and shows it running with its console output.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Root and the members of this group may drive viridiand (its socket is 0660, group viridian).
if [ "$(id -u)" -eq 0 ] && ! getent group viridian >/dev/null; then
    groupadd --system viridian
    echo "==> created the group viridian; let a user drive Viridian with: usermod -aG viridian USER"
fi
echo "==> building"
swift build
echo "==> building the guest agent (a static binary for the test guest and the setup disk)"
scripts/build-guest-agent.sh >/dev/null

bin="$(swift build --show-bin-path)"
state="${VIRIDIAN_STATE_DIR:-$( [ "$(id -u)" -eq 0 ] && echo /var/lib/viridian || echo "${XDG_DATA_HOME:-$HOME/.local/share}/viridian")}"
socket="$state/viridiand.sock"
export VIRIDIAN_HOST="$socket"
mkdir -p "$state"

# Restart viridiand on the new build. Its VMs keep running and are re-attached.
if [ -f "$state/viridiand.pid" ] && kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; then
    echo "==> restarting viridiand"
    kill "$(cat "$state/viridiand.pid")"
    while kill -0 "$(cat "$state/viridiand.pid")" 2>/dev/null; do sleep 0.1; done
fi
echo "==> starting viridiand (state: $state, log: $state/viridiand.log)"
nohup "$bin/viridiand" --state-dir "$state" --socket "$socket" >> "$state/viridiand.log" 2>&1 &
echo $! > "$state/viridiand.pid"
for _ in $(seq 100); do "$bin/viridian" host show >/dev/null 2>&1 && break; sleep 0.1; done
"$bin/viridian" host show

echo "==> building the test guest (cached after the first time)"
"$bin/viridian" image test-guest

if ! "$bin/viridian" vm show demo >/dev/null 2>&1; then
    "$bin/viridian" vm create demo --image test-guest --memory 512M
fi
state_now="$("$bin/viridian" vm show demo --json | sed -n 's/.*"state" : "\([A-Za-z]*\)".*/\1/p')"
if [ "$state_now" = "Off" ] || [ "$state_now" = "Saved" ]; then
    "$bin/viridian" vm start demo
fi
echo "==> waiting for the guest"
for _ in $(seq 300); do
    "$bin/viridian" vm console demo --log --bytes 65536 | grep -q VIRIDIAN-GUEST-READY && break
    sleep 0.2
done
"$bin/viridian" vm list
echo "==> integration services of 'demo' (the guest agent starts a second or two after boot)"
for _ in $(seq 100); do
    "$bin/viridian" vm ic demo --json | grep -q '"primaryStatus" : "OK"' && break
    sleep 0.2
done
"$bin/viridian" vm ic demo
echo "==> console of 'demo' (last lines; attach with: $bin/viridian vm console demo, detach with Ctrl-])"
"$bin/viridian" vm console demo --log --bytes 65536 | tail -n 12
echo
echo "Viridian is running. Try: export VIRIDIAN_HOST=$socket; $bin/viridian --help"
