/// The next step that folds away a disk image a VM's checkpoints no longer need: an overlay that
/// nothing holds and nothing is built on is deleted; an image that nothing holds with exactly one
/// overlay built on it takes that overlay's data (the overlay is merged into it, as Hyper-V merges
/// a removed checkpoint's differencing disk into its parent). An image a checkpoint holds, or the VM
/// runs on, is never written; an image with several dependents stays until only one is left.
package enum ImageCollapse {
    package enum Step: Equatable, Sendable {
        case delete(String)
        case merge(child: String, into: String)
    }

    /// - Parameters:
    ///   - candidates: images that may no longer be needed (the VM's overlays and their parents).
    ///   - held: images any checkpoint holds.
    ///   - active: the images the VM's drives are on now.
    ///   - dependents: the recorded disks built directly on an image (of any VM or none).
    ///   - isOverlay: whether an image is one of the VM's checkpoint overlays (which may be deleted).
    package static func nextStep(candidates: Set<String>, held: Set<String>, active: Set<String>,
                                 dependents: (String) throws -> [String], isOverlay: (String) -> Bool) rethrows -> Step? {
        for image in candidates.sorted() where !held.contains(image) && !active.contains(image) {
            let children = try dependents(image)
            if children.isEmpty, isOverlay(image) { return .delete(image) }
            if children.count == 1, let child = children.first, isOverlay(child) { return .merge(child: child, into: image) }
        }
        return nil
    }
}
