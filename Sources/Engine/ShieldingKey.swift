import APITypes
import Foundation

/// A shielded VM's key, in the host's key store (`<state>/keys`, mode 0700; each key mode 0600):
/// 256 random bits as 64 hex digits. The same text is the LUKS passphrase of the VM's disks (a QEMU
/// `secret` object that reads the file, so the key is never on a command line), swtpm's AES-256 key
/// for the TPM's state, and openssl's passphrase for the saved memory. It moves to another host
/// only inside a move's request, over the peers' mutual TLS.
public enum ShieldingKey {
    /// The QOM id of the secret object the disks' LUKS layers name.
    public static let secretID = "shieldkey"

    /// Makes a new key for the VM. - Throws: `alreadyExists` when it has one.
    public static func create(_ paths: WorkerPaths) throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        try install(bytes.map { String(format: "%02x", $0) }.joined(), paths)
    }

    /// Stores a key that arrived with the VM. - Throws: `invalidArgument` unless it is 64 hex
    /// digits; `alreadyExists` when the VM has a key here.
    public static func install(_ key: String, _ paths: WorkerPaths) throws {
        guard key.utf8.count == 64, key.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
            throw ViridianError(.invalidArgument, "a shielding key is 64 lower-case hex digits")
        }
        try FileManager.default.createDirectory(atPath: paths.keyStoreDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // A store folder made by someone else (or before) is closed again: only root reads the keys.
        guard chmod(paths.keyStoreDirectory, 0o700) == 0 else {
            throw ViridianError(.internalError, "cannot make \(paths.keyStoreDirectory) readable by root only: \(String(cString: strerror(errno)))")
        }
        let descriptor = open(paths.shieldingKey, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw ViridianError(.alreadyExists, "VM \(paths.vmID) already has a key in this host's key store") }
            throw ViridianError(.internalError, "cannot write \(paths.shieldingKey): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = key.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, 64) }
        guard written == 64, fsync(descriptor) == 0 else {
            unlink(paths.shieldingKey)
            throw ViridianError(.internalError, "cannot write \(paths.shieldingKey): \(String(cString: strerror(errno)))")
        }
    }

    /// The VM's key, for a move. - Throws: `notFound` when this host has none for it.
    public static func read(_ paths: WorkerPaths) throws -> String {
        guard let data = FileManager.default.contents(atPath: paths.shieldingKey), data.count == 64 else {
            throw ViridianError(.notFound, "this host's key store has no key for shielded VM \(paths.vmID) (\(paths.shieldingKey))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The key file a worker of the shielded VM is given. - Throws: `notFound` when it is missing.
    public static func requireFile(_ paths: WorkerPaths) throws -> String {
        _ = try read(paths)
        return paths.shieldingKey
    }

    /// Deletes the VM's key (the VM was removed, or moved away).
    public static func remove(_ paths: WorkerPaths) {
        unlink(paths.shieldingKey)
    }
}
