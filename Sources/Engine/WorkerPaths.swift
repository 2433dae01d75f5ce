import AgentProtocol

/// Where one VM's files live. Persistent files sit in the VM's folder under the state directory;
/// the worker's sockets and pid file sit in a runtime folder that exists only while QEMU runs.
public struct WorkerPaths: Sendable {
    /// The VM's persistent folder: `<state>/vms/<id>`.
    public let vmDirectory: String
    /// The worker's runtime folder: `<state>/run/<id>`.
    public let runtimeDirectory: String
    /// The VM's id, which its worker carries as `-uuid`.
    public let vmID: String
    /// The host's key store: one key per shielded VM (`ShieldingKey`), readable only by root.
    public let keyStoreDirectory: String

    public init(stateDirectory: String, vmID: String) {
        self.vmID = vmID
        keyStoreDirectory = "\(stateDirectory)/keys"
        vmDirectory = "\(stateDirectory)/vms/\(vmID)"
        runtimeDirectory = "\(stateDirectory)/run/\(vmID)"
    }

    /// QMP socket of the worker.
    public var qmpSocket: String { "\(runtimeDirectory)/qmp.sock" }
    /// Serial console socket of the worker (one client at a time; viridiand proxies it).
    public var consoleSocket: String { "\(runtimeDirectory)/console.sock" }
    /// QEMU's VNC server for the video adapter's screen (the web console proxies it; no TCP port).
    public var vncSocket: String { "\(runtimeDirectory)/vnc.sock" }
    /// The host end of an integration service's virtio-serial port.
    public func integrationSocket(_ service: IntegrationService) -> String { "\(runtimeDirectory)/ic-\(service.rawValue).sock" }
    /// The host end of the `org.qemu.guest_agent.0` port, for guests that run Debian's qemu-guest-agent.
    public var guestAgentSocket: String { "\(runtimeDirectory)/qga.sock" }
    /// TLS credentials for a migration stream (CA list, host certificate and key), while one runs.
    public var migrationTLSDirectory: String { "\(runtimeDirectory)/tls" }
    /// Marks a worker that waits for an incoming migration not yet committed; lists what to delete if it never is.
    public var incomingMarker: String { "\(runtimeDirectory)/incoming.json" }
    /// The worker's pid file, written by QEMU.
    public var pidFile: String { "\(runtimeDirectory)/qemu.pid" }
    /// Everything the guest printed on its serial console, across boots.
    public var consoleLog: String { "\(vmDirectory)/console.log" }
    /// The memory and device state of a Saved VM.
    public var savedState: String { "\(vmDirectory)/saved-state.bin" }
    /// The VM's checkpoint files: the overlays its disks are on, and standard checkpoints' memory.
    public var checkpointDirectory: String { "\(vmDirectory)/checkpoints" }
    /// Change tracking of the disks for incremental backups: a bitmap file per disk and `tracking.json`.
    public var changeTrackingDirectory: String { "\(vmDirectory)/change-tracking" }
    /// The UEFI variable store of a Generation 2 VM.
    public var nvram: String { "\(vmDirectory)/nvram.fd" }
    /// The virtual TPM's state folder (swtpm's directory backend), while the VM has a TPM.
    public var tpmStateDirectory: String { "\(vmDirectory)/tpm" }
    /// The virtual TPM's permanent state in it: its seeds, keys, NV indexes and PCR bank choice —
    /// the one file that is the VM's TPM, copied by checkpoints, backups and moves.
    public var tpmState: String { "\(tpmStateDirectory)/tpm2-00.permall" }
    /// The TPM's state encrypted for a shield in progress; it replaces `tpmStateDirectory` once the
    /// VM is stored shielded (`SoftwareTPM.adoptEncryptedState`).
    public var tpmEncryptedStateDirectory: String { "\(vmDirectory)/tpm.shielded" }
    /// What the VM's swtpm logged in its last run.
    public var tpmLog: String { "\(vmDirectory)/tpm.log" }
    /// The control socket of the VM's swtpm, which QEMU connects to.
    public var tpmSocket: String { "\(runtimeDirectory)/tpm.sock" }
    /// A shielded VM's key in the host's key store.
    public var shieldingKey: String { "\(keyStoreDirectory)/\(vmID).key" }
    /// The pid file of the VM's swtpm, written by swtpm.
    public var tpmPidFile: String { "\(runtimeDirectory)/swtpm.pid" }
}
