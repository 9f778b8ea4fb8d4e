/// The commit this binary was built from, as recorded at build time by
/// `Plugins/SourceCommitPlugin` (never the current directory's: a run started inside another
/// repository still records this one). docs/run-format.md, the manifest.
public enum BuildProvenance {
    /// The full hash of the package's git HEAD when the binary was built, or "unknown" (built
    /// outside a git checkout, or without git).
    public static var commit: String { sourceCommit }

    /// Whether the built tree differed from that commit (a file in `Sources/`, `Plugins/` or
    /// `Package.swift` changed or untracked); nil when the commit is unknown.
    public static var treeModified: Bool? { sourceTreeModified }

    /// One line for people: `0123abcd…` , `0123abcd… (modified tree)` or `unknown`.
    public static var description: String {
        treeModified == true ? commit + " (modified tree)" : commit
    }
}
