import Foundation
import ImageIO
import Models
import VQZ

/// What `vqz eval tokenizer` sums over pictures: at each quality level the file's bits per pixel,
/// PSNR and MS-SSIM of the decoded picture, and how often each code appears; optionally the
/// encoder's output decoded without quantization, the limit more levels would approach.
public struct TokenizerTally {
    public let codec: Codec
    public let unquantized: Bool
    public var pictures = 0
    /// Sums per level prefix 1...L.
    public var bitsPerPixel: [Double], psnr: [Double], msssim: [Double]
    /// Code counts per level.
    public var counts: [[Int]]
    public var unquantizedPSNR = 0.0, unquantizedMSSSIM = 0.0

    public init(codec: Codec, unquantized: Bool) {
        self.codec = codec
        self.unquantized = unquantized
        let levels = codec.model.levels
        bitsPerPixel = [Double](repeating: 0, count: levels)
        psnr = bitsPerPixel
        msssim = bitsPerPixel
        counts = [[Int]](repeating: [Int](repeating: 0, count: codec.model.config.codebookSize), count: levels)
    }

    /// Counts one RGB8 picture.
    public mutating func add(_ picture: RGBPicture) throws {
        let image = Image(width: picture.width, height: picture.height, channels: 3, samples8: picture.pixels)
        let all = try codec.analyse(image).file(quality: .levels(codec.model.levels))
        for (l, grid) in all.tokens.levels.enumerated() { for t in grid { counts[l][Int(t)] += 1 } }
        for l in 1...codec.model.levels {
            var file = all
            file.tokens = all.tokens.prefix(levels: l)
            let bytes = try codec.tinted(file, fittedTo: image).file.encode()
            let decoded = try codec.decompress(VQZFile(decoding: bytes)).withChannels(3).samples8
            bitsPerPixel[l - 1] += VQZ.bitsPerPixel(byteCount: bytes.count, width: image.width, height: image.height)
            psnr[l - 1] += VQZ.psnr(picture.pixels, decoded)
            msssim[l - 1] += VQZ.msssim(picture.pixels, decoded, width: image.width, height: image.height)
        }
        if unquantized {
            let decoded = codec.reconstructUnquantized(image)
            unquantizedPSNR += VQZ.psnr(picture.pixels, decoded)
            unquantizedMSSSIM += VQZ.msssim(picture.pixels, decoded, width: image.width, height: image.height)
        }
        pictures += 1
    }
}
