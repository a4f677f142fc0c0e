import Foundation

/// Builds a small C plugin library for a test: `clang -shared` over a C string, against the
/// real vqz_plugin.h, so the tests exercise the ABI as a C plugin author would. clang, not
/// cc: the Swift toolchain always has it, a Debian machine may have no cc.
enum CPlugin {
    static let headerFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Plugins/ABI/CVQZPlugin").standardized

    struct BuildFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Compiles `source` to `folder/name` and returns its path.
    @discardableResult
    static func build(_ source: String, named name: String, in folder: URL) throws -> String {
        let sourceURL = folder.appendingPathComponent(name + ".c")
        let library = folder.appendingPathComponent(name)
        try Data(source.utf8).write(to: sourceURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["clang", "-shared", "-fPIC", "-O1", "-I", headerFolder.path, "-o", library.path, sourceURL.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BuildFailed(description: "cc failed for \(name): \(message)") }
        try? FileManager.default.removeItem(at: sourceURL)
        return library.path
    }

    static func scratchFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vqz-plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A table that passes every check unless a test edits it: `TABLE_EDIT` is a statement
    /// run on `t` before it is returned.
    static func table(name: String = "TOY", edit: String = "") -> String {
        """
        #include <vqz_plugin.h>
        #include <stdlib.h>
        static int32_t sniff(const uint8_t *b, size_t n) { return n >= 3 && b[0] == 'T' && b[1] == 'O' && b[2] == 'Y'; }
        static void release(void *p) { free(p); }
        static int32_t decode(const uint8_t *b, size_t n, uint64_t m, vqz_image *o, char *msg, size_t ms) { return VQZ_STATUS_FAILED; }
        static vqz_format_plugin t = { VQZ_PLUGIN_ABI_VERSION, sizeof(vqz_format_plugin), "\(name)", "toy", "a toy",
                                       VQZ_PLUGIN_CAN_READ, sniff, decode, NULL, release };
        const vqz_format_plugin *vqz_format_plugin_v1(void) { \(edit) return &t; }
        """
    }
}
