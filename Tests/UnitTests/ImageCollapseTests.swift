import Checkpoints
import Testing

/// The rules that decide which checkpoint images are deleted or merged, against a fake disk forest.
@Suite("Checkpoint image collapse")
struct ImageCollapseTests {
    /// `child → parent` of a forest: the user's disk `base`, overlays `/cp/…`.
    static func step(_ parents: [String: String], held: Set<String>, active: Set<String>) -> ImageCollapse.Step? {
        let candidates = Set(parents.keys).union(parents.values)
        return ImageCollapse.nextStep(candidates: candidates, held: held, active: active,
                                      dependents: { image in parents.filter { $0.value == image }.keys.sorted() },
                                      isOverlay: { $0.hasPrefix("/cp/") })
    }

    @Test("the only checkpoint removed: the running overlay merges back into the user's disk")
    func lastCheckpointMergesIntoTheDisk() {
        #expect(Self.step(["/cp/now": "base"], held: [], active: ["/cp/now"]) == .merge(child: "/cp/now", into: "base"))
    }

    @Test("an image a checkpoint holds, or the VM runs on, is never written or deleted")
    func heldAndActiveStay() {
        #expect(Self.step(["/cp/now": "base"], held: ["base"], active: ["/cp/now"]) == nil)
        #expect(Self.step(["/cp/a": "base"], held: [], active: ["base"]) == .delete("/cp/a"), "an abandoned overlay goes")
        #expect(Self.step(["/cp/a": "base"], held: ["/cp/a"], active: ["base"]) == nil)
    }

    @Test("an image with two branches stays until one is gone; the user's disk is never deleted")
    func branchesKeepTheirParent() {
        let forest = ["/cp/left": "base", "/cp/right": "base"]
        #expect(Self.step(forest, held: ["/cp/left"], active: ["/cp/right"]) == nil)
        #expect(Self.step(["/cp/left": "base"], held: ["/cp/left"], active: []) == .merge(child: "/cp/left", into: "base"),
                "with one branch left it merges (the checkpoint then holds base)")
        #expect(Self.step([:], held: [], active: []) == nil)
        #expect(Self.step(["other": "base"], held: [], active: []) == nil, "disks that are not overlays are left alone")
    }

    @Test("a middle checkpoint's image merges its one dependent into it")
    func middleImageMerges() {
        let chain = ["/cp/b": "/cp/a", "/cp/a": "base", "/cp/now": "/cp/b"]
        #expect(Self.step(chain, held: ["base", "/cp/b"], active: ["/cp/now"]) == .merge(child: "/cp/b", into: "/cp/a"))
    }
}
