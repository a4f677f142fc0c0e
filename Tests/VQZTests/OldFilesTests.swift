import Foundation
import ImageIO
import Models
import XCTest
import VQZ

/// Every .vqz file a released vqz wrote stays decodable by every later one. Fixtures/v1 holds files
/// the first photo tokenizer (vqz-f8-k1024-l4) wrote, Fixtures/v2 files of its successor
/// (vqz2-f8-d64-k1024-l8, with depth maps and tint planes), zstd- and prior-coded, gray, RGB and
/// RGBA, each beside the pixels `vqz decompress --decoder-precision f32` gave for it when it was
/// written (NAME.pnm). The v1 files were decoded by the f32 decoder of the time (im2col and
/// OpenBLAS's sgemm). Decoders that sum the same products in another order (the direct kernel and
/// Winograd; integers in the default one) may round a few samples the other way, by one level:
/// the f32 decoder in under 0.1% of the samples, the integer decoder in under 5%.
///
/// The v2 files: the sample dandelion as a 120x88 gray PGM (`convert samples/dandelion-768x512.png
/// -resize '120x88!' -colorspace gray`), `--levels 1` and `-q 60 --entropy prior`; the kite,
/// `--levels 2`; the leaf, `--entropy prior` at the default quality; each decoded with
/// `vqz decompress --decoder-precision f32 --format pnm`.
final class OldFilesTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testFirstTokenizerFilesDecodeToThePixelsTheyAlwaysHad() throws {
        try checkFixtures("v1", writtenBy: .firstPhotos)
    }

    func testSecondTokenizerFilesDecodeToThePixelsTheyAlwaysHad() throws {
        try checkFixtures("v2", writtenBy: .photos)
    }

    func checkFixtures(_ folder: String, writtenBy tokenizer: BundledTokenizer) throws {
        let fixtures = Self.fixtures.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path)
            .filter { $0.hasSuffix(".vqz") }.sorted()
        XCTAssertEqual(names.count, 4, "the \(folder) fixtures are missing from \(fixtures.path)")
        // The model the files name, as `vqz decompress` finds it.
        let writer = try TokenizerModel.bundled(tokenizer)
        let reference = try TokenizerModel.bundled(tokenizer)
        reference.network.decoderPrecision = .float32
        let codec = Codec(model: reference), defaultCodec = Codec(model: writer)
        var coders: Set<String> = []
        for name in names {
            let url = fixtures.appendingPathComponent(name)
            let file = try VQZFile(decoding: [UInt8](try Data(contentsOf: url)))
            XCTAssertEqual(try TokenizerModel.bundled(named: file.model)?.fingerprint, writer.fingerprint, name)
            coders.insert("\(file.entropyCoder)")
            let image = try codec.decompress(file)
            let expectedURL = url.deletingPathExtension().appendingPathExtension("pnm")
            let expected = try PNMFormat().decode([UInt8](try Data(contentsOf: expectedURL)), limits: DecodeLimits())
            XCTAssertEqual(image.width, expected.width, name)
            XCTAssertEqual(image.height, expected.height, name)
            XCTAssertEqual(image.channels, expected.channels, name)
            for (decoder, samples, share) in [("f32", image.samples8, 1000), ("default", try defaultCodec.decompress(file).samples8, 20)] {
                XCTAssertEqual(samples.count, expected.samples8.count, name)
                let moved = zip(samples, expected.samples8).filter { $0 != $1 }.count
                XCTAssertLessThanOrEqual(zip(samples, expected.samples8).map { abs(Int($0) - Int($1)) }.max() ?? 0, 1,
                                         "\(name) no longer decodes to the pixels it was written for (\(decoder) decoder)")
                XCTAssertLessThan(moved, samples.count / share, "\(name): \(moved) of \(samples.count) samples moved with the \(decoder) decoder")
            }
        }
        XCTAssertEqual(coders.count, 2, "both entropy coders are covered")
    }

    /// Files name their model by its FNV-1a 128 digest, so the digest may never change: the
    /// published test vector for "a", and values of the textbook 128-bit product.
    func testModelDigestIsFNV1a128() {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        XCTAssertEqual(hex(fnv1a128([])), "6c62272e07bb014262b821756295c58d")
        XCTAssertEqual(hex(fnv1a128(Array("a".utf8))), "d228cb696f1a8caf78912b704e4a8964")
        XCTAssertEqual(hex(fnv1a128(Array("foobar".utf8))), "343e1662793c64bf6f0d3597ba446f18")
        XCTAssertEqual(hex(fnv1a128(Array(repeating: Array(0...255), count: 3).flatMap { $0 })),
                       "ceced98447397784e46346c4dbaac68d")
    }
}
