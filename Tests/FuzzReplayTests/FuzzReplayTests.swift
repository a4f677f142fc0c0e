import Foundation
import FuzzTargets
import ImageIO
import Testing

/// Replays the committed fuzzing corpus (Fuzz/corpus/NAME: the seeds, what libFuzzer kept as
/// new coverage, and every past finding) through the same functions the libFuzzer harnesses
/// call. A crash or a broken invariant fails the suite; scripts/fuzz runs the fuzzers themselves.
@Suite struct FuzzReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardized

    @Test(arguments: FuzzTargets.names) func corpusReplaysCleanly(_ name: String) throws {
        let folder = Self.corpus.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count >= 5, "Fuzz/corpus/\(name) holds \(files.count) files (run scripts/fuzz --seeds)")
        for file in files {
            let data = try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
            FuzzTargets.run(name, data)
        }
    }

    /// The seeds are valid files: each decodes (a harness that rejected everything would pass
    /// the replay while testing nothing).
    @Test func vqzSeedsDecodeThroughTheTinyCodec() throws {
        let seeds = FuzzTargets.seeds("vqz")
        #expect(seeds.count >= 20)
        for seed in seeds {
            let image = try FuzzTargets.decodeVQZ(seed)
            #expect(image.width >= 1 && image.height >= 1)
        }
    }
}
