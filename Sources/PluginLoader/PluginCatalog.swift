import Foundation

/// The external format plugins of this process and the libraries that could not be used.
public struct PluginCatalog: Sendable {
    public var formats: [PluginFormat]
    public var problems: [PluginLoadProblem]
    /// The folders searched, in order.
    public var folders: [String]

    public init(formats: [PluginFormat] = [], problems: [PluginLoadProblem] = [], folders: [String] = []) {
        self.formats = formats
        self.problems = problems
        self.folders = folders
    }

    /// The folders of `VQZ_PLUGIN_PATH` (colon-separated), then `vqz-plugins` beside the
    /// executable. Loaded once, on first use: a library cannot be unloaded safely, so there
    /// is nothing to gain from loading twice.
    public static let standard: PluginCatalog = {
        let folders = PluginLoader.searchFolders(pathVariable: ProcessInfo.processInfo.environment["VQZ_PLUGIN_PATH"],
                                                 executablePath: PluginLoader.executablePath())
        return PluginLoader.load(folders: folders)
    }()
}
