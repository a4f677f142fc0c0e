import ImageIO
import JPEGFormat
import Generation
import Models
import PNGFormat
import VQZ

/// What fuzzing feeds vqz, one function per harness. Each must come back, by a return or a
/// thrown error, from any bytes; a crash, a sanitizer report or a broken invariant (a
/// precondition here) is a finding. The libFuzzer harnesses in Fuzz/Harnesses call these, and
/// Tests/FuzzReplayTests replays the committed corpus (Fuzz/corpus/NAME) through them.
public enum FuzzTargets {
    public static let names = ["vqz", "png", "jpeg", "pnm", "geometry"]

    public static func run(_ name: String, _ data: [UInt8]) {
        switch name {
        case "vqz": vqz(data)
        case "png": image(PNGFormat(), withPNGChecksumsFixed(data))
        case "jpeg": image(JPEGFormat(), data)
        case "pnm": image(PNMFormat(), data)
        case "geometry": geometry(data)
        default: preconditionFailure("no fuzz target \(name)")
        }
    }

    /// Small budgets keep each run fast; the checks they exercise are the same at any size.
    static let imageLimits = DecodeLimits(maxPixels: 1 << 20)
    static let containerLimits = ContainerLimits(maxPixels: 1 << 16, maxTokens: 1 << 14, maxMetadataBytes: 1 << 16)

    /// A decoded image must hold exactly the samples its size says, and be upright: an EXIF
    /// orientation the reader found is applied and then reads 1.
    static func image(_ format: any ImageFormat, _ data: [UInt8]) {
        guard let image = try? format.decode(data, limits: imageLimits) else { return }
        precondition(image.width > 0 && image.height > 0 && image.width * image.height <= imageLimits.maxPixels)
        precondition(image.samples.count == image.width * image.height * image.channels)
        precondition(image.metadata.exif.flatMap(ExifOrientation.init(exif:)).map { $0 == .up } ?? true)
        rewrite(image.metadata)
    }

    /// Whatever metadata a reader accepted, the PNG and JPEG writers must write into a file
    /// their readers accept (dropping what the format cannot hold, never failing).
    static func rewrite(_ metadata: ImageMetadata) {
        guard !metadata.isEmpty else { return }
        let pixel = Image(width: 1, height: 1, channels: 3, samples8: [1, 2, 3], metadata: metadata)
        for format in [PNGFormat(), JPEGFormat()] as [any ImageFormat] {
            guard let written = try? format.encode(pixel), let back = try? format.decode(written) else {
                preconditionFailure("\(format.name) could not write back the metadata it was given")
            }
            precondition(back.width == 1 && back.height == 1)
        }
    }

    /// libpng checks every chunk's CRC, so almost every mutation would stop there; rewriting
    /// the CRCs of the chunks that fit lets the fuzzer reach IHDR's rules, the limits, zlib and
    /// the row filters (libpng's own oss-fuzz harness switches the check off to the same end).
    static func withPNGChecksumsFixed(_ data: [UInt8]) -> [UInt8] {
        var bytes = data, at = 8
        while at + 12 <= bytes.count {
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard length <= bytes.count - at - 12 else { break }
            let crc = CRC32.checksum(bytes[(at + 4)..<(at + 8 + length)])
            for i in 0..<4 { bytes[at + 8 + length + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
            at += 12 + length
        }
        return bytes
    }

    // MARK: .vqz through the codec

    /// A tokenizer small enough to decode thousands of files a second (f = 2, K = 16, 2 levels,
    /// random weights): the container, both entropy coders, the grid checks and the tiling are
    /// the codec's own, only the network is tiny.
    public static let tokenizer: TokenizerModel = {
        let network = VQTokenizer(config: TokenizerConfig(channels: [4, 4], blocksPerLevel: 0, bottomBlocks: 0, codeDim: 4,
                                                         codebookSize: 16, levels: 2), seed: 7)
        return try! TokenizerModel(weights: network.exportWeights(name: "fuzz-tiny"), fallbackName: "fuzz-tiny")
    }()

    /// An untrained context prior for the tiny tokenizer's tokens, so prior-coded files decode.
    public static let prior: EntropyPrior = {
        let network = ContextPrior(config: ContextPriorConfig(codebookSize: 16, levels: 2, embedDim: 4, hidden: 8), seed: 5)
        let meta = [TokenizerRecord.nameKey: tokenizer.tokens.name, TokenizerRecord.digestKey: tokenizer.tokens.digestHex]
        return try! EntropyPrior(weights: network.exportWeights(name: "fuzz-prior", metadata: meta), fallbackName: "fuzz-prior")
    }()

    static let codec: Codec = {
        let codec = Codec(model: tokenizer)
        codec.tileTokens = 8  // several tiles even on small grids
        codec.marginTokens = 2
        return codec
    }()

    /// Decodes through Codec.decompress. A mutated file fails its CRC at once, so when the
    /// input ends in a DONE chunk its checksum is made right first: the fuzzer then reaches the
    /// header rules, the payloads and the decoder (the checksum check has its own tests).
    static func vqz(_ data: [UInt8]) {
        var bytes = data
        let done: [UInt8] = Array("DONE".utf8) + [4, 0, 0, 0]
        if bytes.count >= 22, Array(bytes[(bytes.count - 12)..<(bytes.count - 4)]) == done {
            let crc = CRC32.checksum(bytes[..<(bytes.count - 4)])
            for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        }
        guard let image = try? decodeVQZ(bytes) else { return }
        precondition(image.width * image.height <= containerLimits.maxPixels)
        precondition(image.samples.count == image.width * image.height * image.channels)
        rewrite(image.metadata)
    }

    /// The harness's decoder: the tiny codec with its prior, under small container limits.
    public static func decodeVQZ(_ bytes: [UInt8]) throws -> Image {
        try codec.decompress(bytes, limits: containerLimits, entropyPriors: { $0 == prior.fingerprint ? prior : nil })
    }

    // MARK: option geometry

    /// `inpaint --rect` and `generate --size` text: a parsed rectangle that claims to lie inside
    /// an image must make a mask of exactly the pixels it covers.
    static func geometry(_ data: [UInt8]) {
        guard data.count >= 2 else { return }
        let (w, h) = (Int(data[0] % 64) + 1, Int(data[1] % 64) + 1)
        let text = String(decoding: data.dropFirst(2), as: UTF8.self)
        if let size = PixelSize(parsing: text, maxSide: 8192) {
            precondition((1...8192).contains(size.width) && (1...8192).contains(size.height))
        }
        guard let rect = PixelRect(parsing: text) else { return }
        precondition(rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0)
        let inside = rect.lies(insideWidth: w, height: h)
        guard let mask = try? Inpainter.rectangle(x: rect.x, y: rect.y, w: rect.width, h: rect.height, imageWidth: w, imageHeight: h) else {
            precondition(!inside, "a rectangle inside the image was refused")
            return
        }
        precondition(inside && mask.count == w * h && mask.filter { $0 }.count == rect.width * rect.height)
    }
}
