/// The QOI chunk tags (qoiformat.org/qoi-specification.pdf). The 8-bit tags RGB and RGBA
/// take precedence over the 2-bit ones: 0xFE and 0xFF are not runs of 63 and 64.
enum QOIOp {
    static let index: UInt8 = 0x00  // 00iiiiii: the pixel at table slot i
    static let diff: UInt8 = 0x40   // 01rrggbb: each channel minus the previous, biased by 2
    static let luma: UInt8 = 0x80   // 10gggggg rrrrbbbb: green difference (bias 32), red and blue relative to it (bias 8)
    static let run: UInt8 = 0xC0    // 11llllll: the previous pixel repeated l + 1 times (1...62)
    static let rgb: UInt8 = 0xFE    // then r, g, b; alpha unchanged
    static let rgba: UInt8 = 0xFF   // then r, g, b, a
    static let mask: UInt8 = 0xC0

    /// Seven zero bytes and a one close every stream.
    static let end: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
}
