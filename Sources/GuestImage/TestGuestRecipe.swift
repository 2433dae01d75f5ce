/// What goes into the test guest: kernel modules, init scripts, kernel command line.
/// Changing anything here must bump `version`, which keys the cache.
enum TestGuestRecipe {
    static let version = "8"

    /// The Debian metapackage whose dependency names the current cloud kernel.
    static let kernelMetapackage = "linux-image-cloud-amd64"

    /// Modules loaded at boot, in order (their dependencies are added from modules.dep).
    static let modules = [
        "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
        "virtio_blk", "virtio_scsi", "sd_mod", "sr_mod", "ata_piix", "isofs",
        "failover", "net_failover", "virtio_net", "virtio_console", "button", "evdev", "8021q",
    ]

    /// Host programs copied in with their libraries, so switch tests can measure and provoke real
    /// traffic: throughput, captures, offload and queue settings, router advertisements.
    static let networkTools: [(path: String, package: String)] = [
        ("/usr/bin/iperf3", "iperf3"), ("/usr/bin/tcpdump", "tcpdump"), ("/usr/sbin/ethtool", "ethtool"), ("/usr/sbin/radvd", "radvd"),
    ]

    /// The kernel command line VMs of this image boot with.
    static let append = "console=ttyS0 panic=-1 scsi_mod.scan=sync"

    /// The line the guest prints on its serial console once it is ready.
    static let readyMarker = "VIRIDIAN-GUEST-READY"

    static let inittab = """
        ::sysinit:/etc/init.d/rcS
        ttyS0::respawn:-/bin/sh
        ::shutdown:/bin/umount -a -r
        ::ctrlaltdel:/sbin/reboot

        """

    /// Boot script: mounts, modules, root disk, network, ACPI power button, then the ready marker.
    static let rcS = """
        #!/bin/sh
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        mkdir -p /dev/pts /mnt/root /tmp /run /var/log /var/run /var/lib
        mount -t devpts devpts /dev/pts
        while read module; do insmod "/lib/modules/$module" 2>/dev/null; done < /etc/modules.order
        hostname viridian-guest
        ip link set lo up
        address=""
        for arg in $(cat /proc/cmdline); do
            case "$arg" in viridian.ip=*) address="${arg#viridian.ip=}" ;; esac
        done
        if [ -e /sys/class/net/eth0 ]; then
            ip link set eth0 up
            if [ -n "$address" ]; then ip addr add "$address" dev eth0
            else udhcpc -b -q -i eth0 -s /etc/udhcpc.script >/dev/null 2>&1; fi
        fi
        tries=0
        while [ $tries -lt 30 ]; do
            root=$(findfs LABEL=viridian-root 2>/dev/null) && break
            [ -z "$(ls /sys/block | grep -v -e ram -e loop)" ] && break
            tries=$((tries + 1)); sleep 0.1
        done
        if [ -n "$root" ] && mount -t ext4 "$root" /mnt/root; then echo "VIRIDIAN-ROOT-MOUNTED $root"; fi
        acpid -c /etc/acpi
        for service in viridian-guest qemu-guest-agent; do
            [ -x "/etc/init.d/$service" ] && "/etc/init.d/$service" start
        done
        echo "\(readyMarker)"

        """

    /// Run by acpid when the ACPI power button is pressed: an orderly poweroff through init.
    static let powerButton = """
        #!/bin/sh
        echo "VIRIDIAN-GUEST-POWERING-OFF" > /dev/console
        sync
        poweroff

        """

    /// udhcpc's hook: applies the lease on the NAT Default Switch.
    static let udhcpcScript = """
        #!/bin/sh
        case "$1" in
        bound|renew)
            ip addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
            [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
            for server in $dns; do echo "nameserver $server"; done > /etc/resolv.conf ;;
        esac

        """

    /// Starts Debian's qemu-ga on its port (no udev here, so the port is found by name in sysfs).
    static let qemuGuestAgentInit = """
        #!/bin/sh
        case "$1" in
        start)
            for port in /sys/class/virtio-ports/*; do
                [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
                qemu-ga -m virtio-serial -p "/dev/${port##*/}" -d -f /run/qemu-ga.pid -l /var/log/qemu-ga.log
            done ;;
        stop) kill "$(cat /run/qemu-ga.pid)" 2>/dev/null ;;
        esac

        """

    /// `shutdown` for qemu-ga on busybox.
    static let shutdownShim = """
        #!/bin/sh
        case "$1" in -r) exec reboot ;; *) exec poweroff ;; esac

        """
}
