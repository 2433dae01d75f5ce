/// A block job as `query-block-jobs` reports it.
public struct QMPBlockJob: Sendable, Equatable {
    public var id: String
    public var ready: Bool
    public var offset: Int64
    public var length: Int64
    public var status: String
    public var error: String?
}
