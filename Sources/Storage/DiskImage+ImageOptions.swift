import APITypes

extension DiskImage {
    /// `qemu-img --image-opts` for `chain` (the disk, then its parent, grandparent…): every node's
    /// driver and file given, so qemu-img opens exactly the recorded chain.
    /// With `secret`, every qcow2 node opens its LUKS layer with that secret object (a shielded VM's disks).
    public static func imageOptions(_ chain: [DiskImage], secret: String? = nil) -> String {
        var options: [String] = []
        var prefix = ""
        for image in chain {
            options += ["\(prefix)driver=\(image.format.qemuName)", "\(prefix)file.driver=file",
                        "\(prefix)file.filename=\(escape(image.path))"]
            if let secret, image.format == .qcow2 { options.append("\(prefix)encrypt.key-secret=\(secret)") }
            prefix += "backing."
        }
        return options.joined(separator: ",")
    }

    /// QEMU option values separate with commas; a literal comma is written twice.
    private static func escape(_ value: String) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",,")
    }
}
