/// A plugin library that was found but skipped, and why. vqz reports these (`vqz formats`
/// prints them as warnings) and goes on without the plugin: a broken plugin is never fatal.
public struct PluginLoadProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The library or folder concerned.
    public var path: String
    /// One line: "no vqz_format_plugin_v1 symbol (not a vqz format plugin)".
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): plugin skipped: \(reason)" }
}
