/// A disk file with the format and parent Viridian recorded for it when the disk was created or
/// first named. Storage operations and QEMU command lines take these facts and pass them
/// explicitly; nothing guesses a format from a file a guest may have written.
public struct DiskImage: Sendable, Equatable, Codable {
    public var path: String
    public var format: VHDFormat
    /// The recorded parent of a differencing disk.
    public var parentPath: String?

    public init(path: String, format: VHDFormat, parentPath: String? = nil) {
        self.path = path
        self.format = format
        self.parentPath = parentPath
    }
}
