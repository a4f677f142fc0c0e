import CBundledModels
import XCTest
import VQZ

/// The digests recorded beside the bundled weights are the digests of their bytes: files name
/// their tokenizer, and priors their tokens, by them, and a stale one would make this build
/// refuse every file the previous weights wrote, or accept files the new ones cannot decode.
final class BundledWeightsTests: XCTestCase {
    func testRecordedDigestsAreThoseOfTheBytes() throws {
        var index = 0, checked = 0
        while let cName = vqz_bundled_weights_name(index) {
            index += 1
            let name = String(cString: cName)
            guard let bytes = BundledWeights.named(name) else {
                XCTAssertNil(BundledWeights.digest(name), "\(name): no weights, yet a digest")
                continue
            }
            let actual = fnv1a128(bytes).map { String(format: "%02x", $0) }.joined()
            let recorded = BundledWeights.digest(name)?.map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(recorded, actual, "Sources/CBundledModels/BundledModels.c: write \(actual) as the digest of \(name)")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 3, "the photo, first photo and shapes tokenizers at least")
        XCTAssertNil(BundledWeights.digest("no-such-model"))
    }
}
