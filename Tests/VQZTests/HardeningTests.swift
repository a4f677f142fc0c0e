import Foundation
import ImageIO
import Testing
import VQZ

/// The codec-level halves of docs/RELIABILITY.md's cases: grids that do not fit the image,
/// rectangles whose sums overflow, JSON that must stay JSON.
@Suite struct HardeningTests {
    static let codec = Codec(model: try! TokenizerModel.bundled())

    /// A file the bundled model made for a 40x24 image, its grid then changed to gw x gh.
    func file(gridWidth gw: Int, gridHeight gh: Int) throws -> VQZFile {
        let image = Image(width: 40, height: 24, channels: 3, samples8: (0..<(40 * 24 * 3)).map { UInt8($0 % 251) })
        var file = try Self.codec.compress(image, levels: 1)
        file.tokens = TokenGrid(width: gw, height: gh, levels: [[UInt16](repeating: 3, count: gw * gh)], codebookSizes: file.tokens.codebookSizes)
        return file
    }

    @Test func gridMustBeExactlyTheModelsForTheImageSize() throws {
        let f = Self.codec.model.downsampling
        let (gw, gh) = ((40 + f - 1) / f, (24 + f - 1) / f)
        #expect(try Self.codec.decompress(file(gridWidth: gw, gridHeight: gh).encode()).width == 40)
        for (w, h) in [(gw, gh + 1), (gw + 1, gh), (gw - 1, gh), (1, 1), (40, 24)] {
            let wrong = try file(gridWidth: w, gridHeight: h)
            let expected = CodecError.gridMismatch(grid: "\(w)x\(h)", image: "40x24", expected: "\(gw)x\(gh)")
            // From bytes the header is checked before the payload; a VQZFile built in code is checked too.
            #expect(throws: expected) { try Self.codec.decompress(wrong.encode()) }
            #expect(throws: expected) { try Self.codec.decompress(wrong) }
        }
    }

    @Test func tokenJSONEscapesTheModelName() throws {
        let grid = TokenGrid(width: 2, height: 1, levels: [[1, 2], [3, 4]], codebookSizes: [16, 16])
        let name = "a \"quoted\" \\ name\n"
        let text = TokenExport.json(grid, model: name)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["model"] as? String == name)
        #expect(object["width"] as? Int == 2 && object["height"] as? Int == 1)
        #expect(object["levels"] as? [[Int]] == [[1, 2], [3, 4]])
    }
}
