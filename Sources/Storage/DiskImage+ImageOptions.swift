import APITypes

extension DiskImage {
    /// `qemu-img --image-opts` for `chain` (the disk, then its parent, grandparent…): every node's
    /// driver and file given, so qemu-img opens exactly the recorded chain.
    public static func imageOptions(_ chain: [DiskImage]) -> String {
        var options: [String] = []
        var prefix = ""
        for image in chain {
            options += ["\(prefix)driver=\(image.format.qemuName)", "\(prefix)file.driver=file",
                        "\(prefix)file.filename=\(escape(image.path))"]
            prefix += "backing."
        }
        return options.joined(separator: ",")
    }

    /// QEMU option values separate with commas; a literal comma is written twice.
    private static func escape(_ value: String) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",,")
    }
}
