import Foundation
import Testing
import VQZQOI

/// External format plugins as users meet them: the QOI plugin library loaded through
/// VQZ_PLUGIN_PATH by the vqz binary, and broken libraries reported without harm.
@Suite struct PluginCommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// libVQZQOI.so as SwiftPM builds it beside vqz; when this build has none (swift test
    /// builds only what the tests link), compiled here from Plugins/QOI the way the README
    /// shows, with swiftc -emit-library.
    static let qoiPlugin: Result<URL, PluginBuildError> = {
        let built = CLIRunner.binary.deletingLastPathComponent().appendingPathComponent("libVQZQOI.so")
        if FileManager.default.fileExists(atPath: built.path) { return .success(built) }
        do {
            let folder = try CLIRunner.scratchFolder()
            let library = folder.appendingPathComponent("libVQZQOI.so")
            let sources = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Plugins/QOI").path)
                .filter { $0.hasSuffix(".swift") }.map { root.appendingPathComponent("Plugins/QOI/" + $0).path }
            try PluginBuildError.run(["swiftc", "-emit-library", "-O", "-module-name", "VQZQOI",
                                      "-I", root.appendingPathComponent("Plugins/ABI/CVQZPlugin").path, "-o", library.path] + sources)
            return .success(library)
        } catch let error as PluginBuildError {
            return .failure(error)
        } catch {
            return .failure(PluginBuildError(description: "\(error)"))
        }
    }()

    /// A folder holding the QOI plugin (and whatever else a test adds), for VQZ_PLUGIN_PATH.
    func pluginFolder() throws -> URL {
        let folder = try CLIRunner.scratchFolder()
        try FileManager.default.copyItem(at: try Self.qoiPlugin.get(), to: folder.appendingPathComponent("libVQZQOI.so"))
        return folder
    }

    @Test func qoiRoundTripsThroughCompressAndDecompress() throws {
        let plugins = try pluginFolder()
        let env = ["VQZ_PLUGIN_PATH": plugins.path]
        let dir = try CLIRunner.scratchFolder()
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("samples/kite-rgba-160x120.png"),
                                         to: dir.appendingPathComponent("kite.png"))
        let compress = try CLIRunner.run(["compress", "kite.png"], in: dir)
        #expect(compress.status == 0, "\(compress.stderr)")

        // --format qoi, and the same picture as PAM through the built-in writer.
        let toQOI = try CLIRunner.run(["decompress", "kite.png.vqz", "--format", "qoi", "-o", "kite.qoi"], in: dir, environment: env)
        #expect(toQOI.status == 0, "\(toQOI.stderr)")
        #expect(toQOI.stderr == "")
        let toPAM = try CLIRunner.run(["decompress", "kite.png.vqz", "-o", "kite.pam"], in: dir)
        #expect(toPAM.status == 0, "\(toPAM.stderr)")
        let qoi = try [UInt8](Data(contentsOf: dir.appendingPathComponent("kite.qoi")))
        let pam = try [UInt8](Data(contentsOf: dir.appendingPathComponent("kite.pam")))
        let decoded = try QOIDecoder.decode(qoi)
        #expect(decoded.header == QOIHeader(width: 160, height: 120, channels: 4))
        #expect(decoded.pixels == Array(pam.suffix(160 * 120 * 4)), "the plugin writes the pixels the built-in writer writes")

        // The output format from the extension alone.
        let byName = try CLIRunner.run(["decompress", "kite.png.vqz", "-o", "by-name.qoi"], in: dir, environment: env)
        #expect(byName.status == 0, "\(byName.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("by-name.qoi")) == Data(qoi))

        // A QOI input, recognized by its bytes: the name says nothing.
        try FileManager.default.copyItem(at: dir.appendingPathComponent("kite.qoi"), to: dir.appendingPathComponent("picture.bin"))
        let fromQOI = try CLIRunner.run(["compress", "picture.bin"], in: dir, environment: env)
        #expect(fromQOI.status == 0, "\(fromQOI.stderr)")
        let info = try CLIRunner.run(["info", "picture.bin.vqz"], in: dir)
        #expect(info.stdout.contains("image:          160x120 RGB + alpha\n"), "\(info.stdout)")
    }

    @Test func withoutThePluginQOIIsUnknown() throws {
        let dir = try CLIRunner.scratchFolder()
        let qoi = try QOIEncoder.encode([1, 2, 3], header: QOIHeader(width: 1, height: 1, channels: 3))
        try Data(qoi).write(to: dir.appendingPathComponent("a.qoi"))
        let compress = try CLIRunner.run(["compress", "a.qoi"], in: dir, environment: ["VQZ_PLUGIN_PATH": ""])
        #expect(compress.status == 2)
        #expect(compress.stderr.hasPrefix("vqz: a.qoi: unknown image format"))
        let decompress = try CLIRunner.run(["decompress", "--format", "qoi", "-"], environment: ["VQZ_PLUGIN_PATH": ""])
        #expect(decompress.status == 1)
        #expect(decompress.stderr == "vqz: unknown output format 'qoi' (see 'vqz formats') (see 'vqz decompress --help')\n")
    }

    @Test func brokenPluginsAreReportedAndSkipped() throws {
        let plugins = try pluginFolder()
        try PluginBuildError.compileC("""
            #include <vqz_plugin.h>
            static int32_t sniff(const uint8_t *b, size_t n) { return 0; }
            static void release(void *p) {}
            static const vqz_format_plugin table = { VQZ_PLUGIN_ABI_VERSION + 1, sizeof(vqz_format_plugin), "NEXT", "next", 0,
                                                     VQZ_PLUGIN_CAN_WRITE, sniff, 0, 0, release };
            const vqz_format_plugin *vqz_format_plugin_v1(void) { return &table; }
            """, to: plugins.appendingPathComponent("libnext.so"))
        try PluginBuildError.compileC("int unrelated(void) { return 1; }", to: plugins.appendingPathComponent("libplain.so"))
        let missing = plugins.appendingPathComponent("missing").path

        let result = try CLIRunner.run(["formats"], environment: ["VQZ_PLUGIN_PATH": plugins.path + ":" + missing])
        #expect(result.status == 0)
        #expect(result.stderr == """
            vqz: \(plugins.path)/libnext.so: plugin skipped: plugin ABI version 2, this vqz supports version 1 \
            (rebuild the plugin with this vqz's vqz_plugin.h)
            vqz: \(plugins.path)/libplain.so: plugin skipped: no vqz_format_plugin_v1 symbol \
            (not a vqz format plugin, or one for another ABI version)
            vqz: \(missing): plugin skipped: no such folder (from VQZ_PLUGIN_PATH)

            """)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("FORMAT  R/W    EXTENSIONS"))
        #expect(lines[1].hasPrefix("PNM     rw     ppm,pgm,pam,pnm"))
        #expect(lines[2].hasPrefix("PNG     rw     png "))
        #expect(lines[3].hasPrefix("JPEG    rw     jpg,jpeg,jpe,jfif"))
        #expect(lines[4].hasPrefix("QOI     rw     qoi                plugin: QOI, the Quite OK Image format"))
        #expect(!lines[4].contains(plugins.path))

        let verbose = try CLIRunner.run(["formats", "-v"], environment: ["VQZ_PLUGIN_PATH": plugins.path])
        #expect(verbose.status == 0)
        #expect(verbose.stdout.contains("(\(plugins.path)/libVQZQOI.so)\n"))
        #expect(verbose.stderr.hasPrefix("vqz: plugin folders: \(plugins.path):"))
        let quiet = try CLIRunner.run(["formats", "--quiet"], environment: ["VQZ_PLUGIN_PATH": plugins.path])
        #expect(quiet.stderr == "")
    }
}
