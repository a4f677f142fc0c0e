import Foundation

/// A plugin library the tests could not build, with the compiler's message; also the
/// helper that runs the compiler.
struct PluginBuildError: Error, CustomStringConvertible {
    var description: String

    static let headerFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Plugins/ABI/CVQZPlugin").standardized

    /// Runs a compiler found on PATH; throws with its stderr when it fails.
    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PluginBuildError(description: "\(arguments[0]) failed: \(message)")
        }
    }

    /// `clang -shared` (the Swift toolchain's: always there) over a C string, against the real
    /// vqz_plugin.h.
    static func compileC(_ source: String, to library: URL) throws {
        let sourceURL = library.deletingPathExtension().appendingPathExtension("c")
        try Data(source.utf8).write(to: sourceURL)
        defer { try? FileManager.default.removeItem(at: sourceURL) }
        try run(["clang", "-shared", "-fPIC", "-I", headerFolder.path, "-o", library.path, sourceURL.path])
    }
}
