import Foundation
import Testing
import VQZ

/// ICC profile, EXIF and XMP through compress and decompress, checked with exiftool (the tool
/// users check metadata with; scripts/install-deps installs it).
@Suite struct MetadataCommandTests {
    static let profile = HardeningTests.crafted.appendingPathComponent("profile-rgb.icc")
    static let exiftool = ["/usr/bin/exiftool", "/usr/local/bin/exiftool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    struct ToolFailure: Error, CustomStringConvertible { let description: String }

    let dir = try! CLIRunner.scratchFolder()

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs a tool with its output in files, as CLIRunner does: reading a pipe with Foundation
    /// can trap on EINTR while other tests start processes in parallel.
    @discardableResult
    func tool(_ executable: String, _ arguments: [String]) throws -> [UInt8] {
        let io = try CLIRunner.scratchFolder()
        defer { try? FileManager.default.removeItem(at: io) }
        let outURL = io.appendingPathComponent("stdout"), errURL = io.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = dir
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let errors = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
            throw ToolFailure(description: "\(executable) \(arguments) failed: \(errors)")
        }
        return [UInt8](try Data(contentsOf: outURL))
    }

    func exiftool(_ arguments: [String]) throws -> [UInt8] {
        guard let exiftool = Self.exiftool else {
            throw ToolFailure(description: "exiftool not found: scripts/install-deps installs it (libimage-exiftool-perl)")
        }
        return try tool(exiftool, arguments)
    }

    /// The tags exiftool reads from a file, numbers as numbers (-n).
    func tags(_ name: String) throws -> [String: Any] {
        let json = try exiftool(["-j", "-n", "-ProfileDescription", "-Make", "-Model", "-Orientation", "-XMP-dc:Title",
                                 "-ImageWidth", "-ImageHeight", name])
        let objects = try JSONSerialization.jsonObject(with: Data(json)) as? [[String: Any]]
        return objects?.first ?? [:]
    }

    /// The sample photo as a camera would leave it: EXIF, the test ICC profile and XMP.
    func taggedJPEG() throws -> String {
        try FileManager.default.copyItem(at: CodecCommandTests.samples.appendingPathComponent("leaf-256.jpg"),
                                         to: dir.appendingPathComponent("photo.jpg"))
        try exiftool(["-q", "-overwrite_original", "-ICC_Profile<=\(Self.profile.path)", "-Make=VQZ Camera",
                      "-Model=Test 1", "-Orientation#=1", "-XMP-dc:Title=Leaf", "photo.jpg"])
        return "photo.jpg"
    }

    @discardableResult
    func vqz(_ arguments: [String]) throws -> CLIRunner.Result {
        let result = try CLIRunner.run(arguments, in: dir)
        #expect(result.status == 0, "vqz \(arguments): \(result.stderr)")
        return result
    }

    @Test func iccExifAndXmpSurviveCompressAndDecompress() throws {
        let photo = try taggedJPEG()
        let before = try tags(photo)
        #expect(before["ProfileDescription"] as? String == "vqz test profile" && before["Make"] as? String == "VQZ Camera")
        try vqz(["compress", photo, "-o", "photo.vqz"])
        for output in ["back.png", "back.jpg"] {
            try vqz(["decompress", "photo.vqz", "-o", output])
            let after = try tags(output)
            #expect(after["ProfileDescription"] as? String == "vqz test profile", "\(output): \(after)")
            #expect(after["Make"] as? String == "VQZ Camera" && after["Model"] as? String == "Test 1", "\(output): \(after)")
            #expect(after["Orientation"] as? Int == 1, "\(output): \(after)")
            #expect(after["Title"] as? String == "Leaf", "\(output): \(after)")
            // The profile comes back byte for byte.
            let profile = try exiftool(["-b", "-ICC_Profile", output])
            #expect(profile == [UInt8](try Data(contentsOf: Self.profile)), "\(output)")
        }
    }

    @Test func metadataOptionChoosesWhatIsKeptAndWritten() throws {
        let photo = try taggedJPEG()
        try vqz(["compress", photo, "--metadata", "none", "-o", "none.vqz"])
        try vqz(["compress", photo, "--metadata", "exif", "-o", "exif.vqz"])
        try vqz(["compress", photo, "-o", "all.vqz"])
        let cases: [(input: String, decompress: [String], icc: Bool, exif: Bool, xmp: Bool)] = [
            ("none.vqz", [], false, false, false),
            ("exif.vqz", [], false, true, false),
            ("all.vqz", ["--metadata", "none"], false, false, false),
            ("all.vqz", ["--metadata", "icc"], true, false, false),
            ("all.vqz", ["--metadata", "icc,xmp"], true, false, true),
        ]
        for (i, c) in cases.enumerated() {
            let output = "out-\(i).png"
            try vqz(["decompress", c.input, "-o", output] + c.decompress)
            let found = try tags(output)
            let label = "\(c.input) \(c.decompress): \(found)"
            #expect((found["ProfileDescription"] != nil) == c.icc, "\(label)")
            #expect((found["Make"] != nil) == c.exif, "\(label)")
            #expect((found["Title"] != nil) == c.xmp, "\(label)")
        }
        let bad = try CLIRunner.run(["compress", photo, "--metadata", "gps"], in: dir)
        #expect(bad.status == 1 && bad.stderr.contains("--metadata"), "\(bad.stderr)")
    }

    /// A PNG's eXIf orientation 6 turns the picture a quarter clockwise, and the EXIF written
    /// back says 1, so no viewer turns it again.
    @Test func pngExifOrientationIsApplied() throws {
        try FileManager.default.copyItem(at: CodecCommandTests.samples.appendingPathComponent("kite-rgba-160x120.png"),
                                         to: dir.appendingPathComponent("kite.png"))
        try exiftool(["-q", "-overwrite_original", "-Orientation#=6", "kite.png"])
        let png = [UInt8](try Data(contentsOf: dir.appendingPathComponent("kite.png")))
        let exifTag = Array("eXIf".utf8)
        #expect((0..<(png.count - 4)).contains { png[$0..<($0 + 4)].elementsEqual(exifTag) }, "exiftool writes EXIF as an eXIf chunk")
        try vqz(["compress", "kite.png", "-o", "kite.vqz"])
        try vqz(["decompress", "kite.vqz", "-o", "upright.png"])
        let upright = try tags("upright.png")
        #expect(upright["ImageWidth"] as? Int == 120 && upright["ImageHeight"] as? Int == 160, "\(upright)")
        #expect(upright["Orientation"] as? Int == 1, "\(upright)")
    }

    @Test func formatsWithoutMetadataSaySoUnlessAskedForNone() throws {
        let photo = try taggedJPEG()
        try vqz(["compress", photo, "-o", "photo.vqz"])
        let ppm = try vqz(["decompress", "photo.vqz", "-o", "photo.ppm"])
        #expect(ppm.stderr == "vqz: photo.vqz: PNM cannot hold the ICC profile, EXIF and XMP: not written\n")
        let quiet = try vqz(["decompress", "photo.vqz", "-o", "quiet.ppm", "--metadata", "none"])
        #expect(quiet.stderr.isEmpty)
    }

    /// A metadata chunk that is not what FORMAT.md says is a corrupt file: one line, exit 2,
    /// no output.
    @Test func corruptMetadataChunkIsOneLineError() throws {
        try FileManager.default.copyItem(at: CodecCommandTests.samples.appendingPathComponent("leaf-256.jpg"),
                                         to: dir.appendingPathComponent("leaf.jpg"))
        try vqz(["compress", "leaf.jpg", "-o", "leaf.vqz"])
        var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("leaf.vqz")))
        // After the signature, version and HEAD frame: an exif chunk of 3 bytes that are no zstd frame.
        let headLength = Int(bytes[14]) | Int(bytes[15]) << 8 | Int(bytes[16]) << 16 | Int(bytes[17]) << 24
        let insertAt = 10 + 8 + headLength
        bytes.insert(contentsOf: Array("exif".utf8) + [3, 0, 0, 0] + [1, 2, 3], at: insertAt)
        let crc = CRC32.checksum(bytes.dropLast(4))
        for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        try Data(bytes).write(to: dir.appendingPathComponent("bad.vqz"))
        let result = try CLIRunner.run(["decompress", "bad.vqz", "-o", "bad.png"], in: dir)
        #expect(result.status == 2)
        #expect(result.stderr == "vqz: bad.vqz: corrupt exif payload: not a zstd frame\n")
        #expect(!FileManager.default.fileExists(atPath: path("bad.png")))
    }
}
