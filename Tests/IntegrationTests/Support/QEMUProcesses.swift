import Foundation

/// QEMU processes on this machine, found by the VM id each carries as `-uuid`.
enum QEMUProcesses {
    static func count(uuid: String) -> Int {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { Int32($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let index = arguments.firstIndex(of: "-uuid"), arguments.indices.contains(index + 1) else { return false }
            return arguments[index + 1] == uuid
        }.count
    }
}
