import AgentProtocol
import CGuestSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The intrinsic KVP items: what Hyper-V's Data Exchange reports about a guest.
enum IntrinsicItems {
    static func collect() -> [String: String] {
        let system = unameFields()
        let osRelease = readOSRelease()
        var items: [String: String] = [
            KVPIntrinsicKey.fullyQualifiedDomainName.rawValue: fullyQualifiedDomainName(),
            KVPIntrinsicKey.osName.rawValue: osRelease["PRETTY_NAME"] ?? osRelease["NAME"] ?? system.sysname,
            KVPIntrinsicKey.osVersion.rawValue: osRelease["VERSION_ID"] ?? system.release,
            KVPIntrinsicKey.osKernelVersion.rawValue: system.release,
            KVPIntrinsicKey.processorArchitecture.rawValue: system.machine,
            KVPIntrinsicKey.integrationServicesVersion.rawValue: AgentRelease.current,
        ]
        let addresses = interfaceAddresses()
        items[KVPIntrinsicKey.networkAddressIPv4.rawValue] = addresses.ipv4.joined(separator: ";")
        items[KVPIntrinsicKey.networkAddressIPv6.rawValue] = addresses.ipv6.joined(separator: ";")
        return items
    }

    private static func unameFields() -> (sysname: String, release: String, machine: String) {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return (field(names.sysname), field(names.release), field(names.machine))
    }

    private static func fullyQualifiedDomainName() -> String {
        var names = utsname()
        uname(&names)
        let host = withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = viridian_domain_name(&buffer, UInt(buffer.count))
        let domain = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return domain.isEmpty || domain == "(none)" || host.contains(".") ? host : "\(host).\(domain)"
    }

    private static func readOSRelease() -> [String: String] {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))
            ?? (try? String(contentsOfFile: "/usr/lib/os-release", encoding: .utf8)) ?? ""
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = GuestText.trimmed(line[line.index(after: equals)...], also: ["\"", "'"])
            fields[String(line[..<equals])] = value
        }
        return fields
    }

    private static func interfaceAddresses() -> (ipv4: [String], ipv6: [String]) {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return ([], []) }
        defer { freeifaddrs(list) }
        var ipv4: [String] = [], ipv6: [String] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, (entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK)) == 0 else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if family == AF_INET { ipv4.append(text) } else { ipv6.append(text) }
        }
        return (ipv4, ipv6)
    }
}
