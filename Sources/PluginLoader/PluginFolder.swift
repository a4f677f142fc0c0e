/// A folder to search for plugin libraries.
public struct PluginFolder: Equatable, Sendable {
    public var path: String
    /// Whether the user named it (VQZ_PLUGIN_PATH): a missing folder the user named is
    /// reported; the default folder beside the binary usually does not exist.
    public var isExplicit: Bool

    public init(path: String, isExplicit: Bool) {
        self.path = path
        self.isExplicit = isExplicit
    }
}
