import Foundation
import XCTest

/// The reference tools the tests compare against: ImageMagick's convert and
/// libjpeg-turbo's djpeg (.ci/run installs imagemagick and libjpeg-turbo-progs).
enum ExternalTools {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The real ImageMagick convert. /usr/bin first: a convert earlier in PATH may be a
    /// stand-in that rewrites some calls.
    static let convert: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/bin/convert"] + path.split(separator: ":").map { "\($0)/convert" }
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate),
                  let output = try? run(candidate, ["-version"]) else { return false }
            return String(decoding: output, as: UTF8.self).contains("ImageMagick")
        }
    }()

    static let djpeg: String? = {
        ["/usr/bin/djpeg", "/usr/local/bin/djpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func requireConvert() throws -> String {
        guard let convert else { throw Failure(description: "ImageMagick not found: apt-get install imagemagick") }
        return convert
    }

    static func requireDjpeg() throws -> String {
        guard let djpeg else { throw Failure(description: "djpeg not found: apt-get install libjpeg-turbo-progs") }
        return djpeg
    }

    /// Runs a tool and returns its stdout; a non-zero exit is an error that quotes stderr.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and block the tool.
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed: "
                + String(decoding: errors, as: UTF8.self))
        }
        return [UInt8](output)
    }
}

/// A temporary folder for generated fixtures, removed when the test bundle ends.
final class FixtureDirectory: NSObject, XCTestObservation {
    static let shared = FixtureDirectory()

    let url: URL

    private override init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vqz-imageio-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        super.init()
        XCTestObservationCenter.shared.addTestObserver(self)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        try? FileManager.default.removeItem(at: url)
    }
}
