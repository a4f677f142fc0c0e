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

    @Test func rectanglesNeverOverflow() throws {
        #expect(PixelRect(parsing: "10,10,9223372036854775807,9223372036854775807") == nil)
        #expect(PixelRect(parsing: "1,2,3,4") == PixelRect(x: 1, y: 2, width: 3, height: 4))
        #expect(PixelRect(parsing: " 1, 2 ,3,4 ") == PixelRect(x: 1, y: 2, width: 3, height: 4))
        for bad in ["", "1,2,3", "1,2,3,4,5", "-1,0,1,1", "0,0,0,1", "a,b,c,d", "0,0,1,-1"] {
            #expect(PixelRect(parsing: bad) == nil, "\(bad)")
        }
        #expect(PixelRect(x: Int.max - 5, y: 0, width: 5, height: 1).lies(insideWidth: 10, height: 10) == false)
        #expect(throws: GenerationError.self) {
            try Inpainter.rectangle(x: Int.max - 5, y: 0, w: 5, h: 1, imageWidth: 10, imageHeight: 10)
        }
        #expect(try Inpainter.rectangle(x: 8, y: 9, w: 2, h: 1, imageWidth: 10, imageHeight: 10).filter { $0 }.count == 2)
        #expect(PixelSize(parsing: "64x32", maxSide: 8192) != nil)
        #expect(PixelSize(parsing: "99999999999999999999x1", maxSide: 8192) == nil)
        #expect(PixelSize(parsing: "8193x1", maxSide: 8192) == nil)
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
