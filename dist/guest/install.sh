#!/bin/sh
# Viridian integration services setup disk: installs or upgrades the guest agent.
#   sh /mnt/cdrom/install.sh [--force]
# Shows the installed and offered releases, upgrades only when the offered one is newer
# (--force reinstalls a damaged install), and restarts the agent without a reboot.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root" >&2; exit 1; fi
if [ -d /run/systemd/system ]; then
    install -m 0644 "$here/viridian-guest.service" /etc/systemd/system/viridian-guest.service
    systemctl daemon-reload
    systemctl enable viridian-guest.service >/dev/null 2>&1 || true
else
    mkdir -p /etc/init.d
    cp "$here/viridian-guest.init" /etc/init.d/viridian-guest
    chmod 0755 /etc/init.d/viridian-guest
fi
if [ ! -e /usr/sbin/viridian-guest ]; then
    mkdir -p /usr/sbin
    cp "$here/viridian-guest" /usr/sbin/viridian-guest
    chmod 0755 /usr/sbin/viridian-guest
    echo "installed: none"
    echo "offered: $(/usr/sbin/viridian-guest version)"
    if [ -d /run/systemd/system ]; then systemctl restart viridian-guest.service; else /etc/init.d/viridian-guest restart; fi
    echo "installed $(/usr/sbin/viridian-guest version); the agent is running"
    exit 0
fi
exec "$here/viridian-guest" install --source "$here/viridian-guest" --target /usr/sbin/viridian-guest "$@"
