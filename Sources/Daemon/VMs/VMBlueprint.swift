import APITypes
import Foundation
import Inventory

/// Turns a create request (and an image) into a VM configuration with Hyper-V's defaults:
/// Generation 1, 1 processor, 1024 MiB, one synthetic adapter on the Default Switch,
/// Generation 1 disks on IDE and a DVD drive (empty unless given) at IDE 1:0, Generation 2 everything on SCSI 0.
struct VMBlueprint {
    let request: CreateVMRequest
    let image: ImageInfo?
    let existingMACs: Set<String>

    func configuration() throws -> VMConfiguration {
        let generation = try generation()
        var drives: [DriveAttachment] = []
        for path in request.disks ?? [] {
            drives.append(try nextLocation(in: drives, generation: generation, kind: .hardDisk, path: path))
        }
        if let dvd = request.dvd {
            drives.append(try nextLocation(in: drives, generation: generation, kind: .dvd, path: dvd))
        } else if generation == .one {
            // As New-VM: a Generation 1 VM always has a DVD drive (empty), since IDE drives cannot be added while it runs.
            drives.append(try nextLocation(in: drives, generation: generation, kind: .dvd, path: nil))
        }
        return VMConfiguration(
            generation: generation,
            processorCount: request.processorCount ?? 1,
            memoryMiB: request.memoryMiB ?? 1024,
            secureBoot: request.secureBoot ?? false,
            kernelBoot: try kernelBoot(),
            drives: drives,
            networkAdapters: try networkAdapters(generation: generation),
            bootOrder: request.bootOrder ?? (generation == .one ? [.dvd, .hardDisk, .network] : [.hardDisk, .dvd, .network]),
            video: request.video ?? true)
    }

    /// Where an image's root disk goes: IDE 0:0 on Generation 1, SCSI 0:0 on Generation 2.
    static func rootDrive(path: String, generation: Generation) -> DriveAttachment {
        DriveAttachment(kind: .hardDisk, controllerType: generation == .one ? .ide : .scsi, controllerNumber: 0,
                        location: 0, path: path)
    }

    private func generation() throws -> Generation {
        guard let value = request.generation ?? image?.generation else { return .one }
        guard let generation = Generation(rawValue: value) else {
            throw ViridianError(.invalidArgument, "generation must be 1 or 2, not \(value)")
        }
        return generation
    }

    private func kernelBoot() throws -> KernelBoot? {
        if let image {
            guard request.kernel == nil, request.initrd == nil else {
                throw ViridianError(.invalidArgument, "--kernel and --initrd cannot be combined with --image; the image brings its own")
            }
            let append = [image.append, request.append].compactMap { $0 }.joined(separator: " ")
            return KernelBoot(kernel: image.kernel, initrd: image.initrd, append: append.isEmpty ? nil : append)
        }
        guard let kernel = request.kernel else {
            if request.initrd != nil || request.append != nil {
                throw ViridianError(.invalidArgument, "--initrd and --append need --kernel")
            }
            return nil
        }
        for path in [kernel] + [request.initrd].compactMap({ $0 }) where !path.hasPrefix("/") {
            throw ViridianError(.invalidArgument, "kernel and initrd paths must be absolute: '\(path)'")
        }
        return KernelBoot(kernel: kernel, initrd: request.initrd, append: request.append)
    }

    private func networkAdapters(generation: Generation) throws -> [NetworkAdapter] {
        let switchName = request.switchName ?? NetworkAdapter.defaultSwitch
        if request.network == "none" && request.switchName != nil {
            throw ViridianError(.invalidArgument, "--switch needs a network adapter (not --network none)")
        }
        switch request.network ?? "synthetic" {
        case "none":
            return []
        case "synthetic":
            return [NetworkAdapter(kind: .synthetic, macAddress: MACPool.next(avoiding: existingMACs), switchName: switchName)]
        case "legacy":
            return [NetworkAdapter(kind: .legacy, macAddress: MACPool.next(avoiding: existingMACs), switchName: switchName)]
        case let other:
            throw ViridianError(.invalidArgument, "network must be none, synthetic or legacy, not '\(other)'")
        }
    }

    /// The first free location for a new drive; an image's root disk keeps its location free.
    private func nextLocation(in drives: [DriveAttachment], generation: Generation, kind: DriveKind,
                              path: String?) throws -> DriveAttachment {
        let reserved = image != nil ? [Self.rootDrive(path: "", generation: generation).locationName] : []
        guard let drive = DriveLocations.firstFree(kind: kind, generation: generation,
                                                   taken: Set(drives.map(\.locationName) + reserved), path: path)
        else { throw ViridianError(.invalidArgument, "every controller location is taken") }
        return drive
    }
}

/// Dynamic MAC addresses from QEMU's locally administered range 52:54:00, unique on this host.
enum MACPool {
    static func next(avoiding used: Set<String>) -> String {
        while true {
            let tail = (0..<3).map { _ in String(format: "%02x", Int.random(in: 0...255)) }.joined(separator: ":")
            let mac = "52:54:00:\(tail)"
            if !used.contains(mac) { return mac }
        }
    }
}
