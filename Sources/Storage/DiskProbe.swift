import APITypes

/// What one probe of a file the administrator names finds: the only time Viridian asks a file
/// what it is. The header is trusted at that moment because the administrator chose the file.
public struct DiskProbe: Sendable, Equatable {
    public var format: VHDFormat
    public var parentPath: String?
    public var parentFormat: VHDFormat?
    public var sizeBytes: UInt64
}
