import Generation
import Testing

/// The pixel rectangles and sizes users type (--rect, --size) never overflow into a wrong hole.
@Suite struct PixelGeometryTests {
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

    @Test func boundingBoxOfAMask() {
        var mask = [Bool](repeating: false, count: 6 * 4)
        #expect(PixelRect(bounding: mask, width: 6, height: 4) == nil)
        mask[1 * 6 + 4] = true
        mask[3 * 6 + 2] = true
        let box = PixelRect(bounding: mask, width: 6, height: 4)
        #expect(box == PixelRect(x: 2, y: 1, width: 3, height: 3))
        #expect(box?.maxX == 5 && box?.maxY == 4)
    }
}
