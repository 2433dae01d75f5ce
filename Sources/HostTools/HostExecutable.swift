import APITypes
import Foundation

/// Finds the host programs Viridian drives and, when one is missing, says which Debian package has it.
public enum HostExecutable {
    private static let extraDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin"]

    /// The absolute path of `name`, searched on `PATH` and the system directories.
    /// - Throws: `missingDependency` naming `package` and the command that installs it.
    public static func locate(_ name: String, package: String) throws -> String {
        if name.hasPrefix("/") {
            if FileManager.default.isExecutableFile(atPath: name) { return name }
            throw missing(name, package: package)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + extraDirectories
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw missing(name, package: package)
    }

    /// The error for a missing program.
    public static func missing(_ name: String, package: String) -> ViridianError {
        ViridianError(.missingDependency,
                      "\(name) is not installed; install it with: apt-get install \(package)")
    }
}
