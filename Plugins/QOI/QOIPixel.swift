/// One RGBA pixel as the QOI encoder and decoder track it.
struct QOIPixel: Equatable {
    var r: UInt8
    var g: UInt8
    var b: UInt8
    var a: UInt8

    /// The pixel every stream starts from.
    static let start = QOIPixel(r: 0, g: 0, b: 0, a: 255)

    /// Its slot in the 64-entry table of recently seen pixels.
    var hash: Int {
        (Int(r) * 3 + Int(g) * 5 + Int(b) * 7 + Int(a) * 11) % 64
    }
}
