import Foundation
import Testing
@testable import PluginLoader

/// Finding, opening and checking plugin libraries: every broken library is a problem with a
/// clear reason, never a crash, and the good ones still load.
@Suite final class PluginLoaderTests {
    let folder = try! CPlugin.scratchFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    func reason(_ source: String) throws -> String? {
        let path = try CPlugin.build(source, named: "lib\(UUID().uuidString.prefix(8)).so", in: folder)
        switch PluginLoader.loadLibrary(at: path) {
        case .success: return nil
        case .failure(let problem):
            #expect(problem.path == path)
            return problem.reason
        }
    }

    @Test func aValidTableLoads() throws {
        let path = try CPlugin.build(CPlugin.table(), named: "libtoy.so", in: folder)
        let format = try PluginLoader.loadLibrary(at: path).get()
        #expect(format.name == "TOY")
        #expect(format.extensions == ["toy"])
        #expect(format.canRead && !format.canWrite)
        #expect(format.summary == "a toy")
        #expect(format.libraryPath == path)
        #expect(format.sniff(Array("TOY!".utf8)))
        #expect(!format.sniff(Array("TO".utf8)))
        #expect(!format.sniff([]))
    }

    @Test func wrongABIVersionIsRefused() throws {
        #expect(try reason(CPlugin.table(edit: "t.abi_version = 2;"))
                == "plugin ABI version 2, this vqz supports version 1 (rebuild the plugin with this vqz's vqz_plugin.h)")
    }

    @Test func missingSymbolIsRefused() throws {
        #expect(try reason("int vqz_something_else(void) { return 1; }")
                == "no vqz_format_plugin_v1 symbol (not a vqz format plugin, or one for another ABI version)")
    }

    @Test func aFileThatIsNotALibraryIsRefused() throws {
        let path = folder.appendingPathComponent("libjunk.so").path
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: path))
        guard case .failure(let problem) = PluginLoader.loadLibrary(at: path) else {
            Issue.record("a text file loaded as a plugin")
            return
        }
        #expect(problem.reason.hasPrefix("cannot load the library: "))
        #expect(!problem.reason.contains(path), "dlerror's copy of the path is dropped")
    }

    @Test func badTablesAreRefused() throws {
        let cases = [
            ("return NULL;", "vqz_format_plugin_v1 returned no table"),
            ("t.struct_size = 16;", "bad table: 16 bytes, ABI version 1 needs 72"),
            ("t.name = \"\";", "bad table: no name"),
            ("t.extensions = \" , \";", "bad table: no extensions"),
            ("t.flags = 0;", "bad table: flags 0 are not read and/or write"),
            ("t.flags = 9;", "bad table: flags 9 are not read and/or write"),
            ("t.sniff = NULL;", "bad table: no sniff function"),
            ("t.free_buffer = NULL;", "bad table: no free_buffer function"),
            ("t.decode = NULL;", "bad table: reads but has no decode function"),
            ("t.flags = 3;", "bad table: writes but has no encode function"),
        ]
        for (edit, expected) in cases {
            #expect(try reason(CPlugin.table(edit: edit)) == expected, "\(edit)")
        }
    }

    @Test func folderSearchOrderAndDuplicates() throws {
        let first = folder.appendingPathComponent("first"), second = folder.appendingPathComponent("second")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let kept = try CPlugin.build(CPlugin.table(), named: "libtoy.so", in: first)
        let shadowed = try CPlugin.build(CPlugin.table(), named: "libtoy-copy.so", in: second)
        try CPlugin.build(CPlugin.table(edit: "t.abi_version = 7;"), named: "libold.so", in: second)
        try Data("ignored: not a .so".utf8).write(to: second.appendingPathComponent("README"))
        // The same library again through a link: loaded once, reported nowhere.
        try FileManager.default.createSymbolicLink(atPath: second.appendingPathComponent("liblink.so").path, withDestinationPath: kept)

        let missing = folder.appendingPathComponent("missing").path
        let folders = [PluginFolder(path: first.path, isExplicit: true), PluginFolder(path: second.path, isExplicit: true),
                       PluginFolder(path: missing, isExplicit: true),
                       PluginFolder(path: folder.appendingPathComponent("default").path, isExplicit: false)]
        let catalog = PluginLoader.load(folders: folders)
        #expect(catalog.formats.map(\.libraryPath) == [kept])
        #expect(catalog.problems == [
            PluginLoadProblem(path: second.appendingPathComponent("libold.so").path,
                              reason: "plugin ABI version 7, this vqz supports version 1 (rebuild the plugin with this vqz's vqz_plugin.h)"),
            PluginLoadProblem(path: shadowed, reason: "a format named TOY is already loaded from \(kept)"),
            PluginLoadProblem(path: missing, reason: "no such folder (from VQZ_PLUGIN_PATH)"),
        ])
    }

    @Test func searchFolders() {
        let folders = PluginLoader.searchFolders(pathVariable: "/a::/b/c:", executablePath: "/opt/vqz/bin/vqz")
        #expect(folders == [PluginFolder(path: "/a", isExplicit: true), PluginFolder(path: "/b/c", isExplicit: true),
                            PluginFolder(path: "/opt/vqz/bin/vqz-plugins", isExplicit: false)])
        #expect(PluginLoader.searchFolders(pathVariable: nil, executablePath: nil) == [])
    }
}
