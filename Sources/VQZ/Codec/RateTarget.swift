import ImageIO

/// What a compress aims at: a point of the quality scale, or, like cwebp's -size and -psnr, a file
/// size or a fidelity for which the quality is searched.
public enum RateTarget: Equatable, Sendable {
    case quality(Quality)
    /// The best file of at most this many bytes.
    case size(bytes: Int)
    /// The smallest file whose colour channels decode to at least this PSNR (dB) against the input.
    case psnr(Double)
}

/// A target no quality of the scale meets; the message says how close the scale comes.
public enum RateTargetError: Error, Equatable, CustomStringConvertible {
    case sizeUnreachable(target: Int, smallest: Int)
    case psnrUnreachable(target: Double, best: Double)

    public var description: String {
        switch self {
        case let .sizeUnreachable(target, smallest):
            return "cannot fit in \(target) bytes: the smallest file (-q 0) is \(smallest) bytes"
        case let .psnrUnreachable(target, best):
            return "cannot reach \(target) dB: the best this model gives (-q 100) is \(String(format: "%.2f", best)) dB"
        }
    }
}

extension Codec {
    /// The .vqz bytes of `image` at `target`, and the quality that gave them. `encode` writes a
    /// file with the caller's entropy coder, so a size target counts the bytes that will be written.
    /// The encoder runs once; a search only cuts, codes and (for PSNR) decodes again.
    public func compress(_ image: Image, to target: RateTarget, keepAlpha: Bool = true,
                         encode: (VQZFile) throws -> [UInt8]) throws -> (bytes: [UInt8], quality: Quality) {
        if case .quality(let quality) = target { try check(quality) }
        let rate = try analyse(image, keepAlpha: keepAlpha)
        switch target {
        case .quality(let quality):
            return (try encode(rate.file(quality: quality)), quality)
        case .size(let limit):
            var smallest = 0
            let q = try RateControl.highestQuality { q in
                let n = try encode(rate.file(quality: .scale(q))).count
                if q == Quality.scaleRange.lowerBound { smallest = n }
                return n <= limit
            }
            guard let q else { throw RateTargetError.sizeUnreachable(target: limit, smallest: smallest) }
            return (try encode(rate.file(quality: .scale(q))), .scale(q))
        case .psnr(let floor):
            let image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
            let channels = rate.file.colorChannels
            let reference = image8.withChannels(channels).samples8
            var best = -Double.infinity
            let q = try RateControl.lowestQuality { q in
                let decoded = try decompress(rate.file(quality: .scale(q)))
                let fidelity = psnr(reference, decoded.withChannels(channels).samples8)
                best = max(best, fidelity)
                return fidelity >= floor
            }
            guard let q else { throw RateTargetError.psnrUnreachable(target: floor, best: best) }
            return (try encode(rate.file(quality: .scale(q))), .scale(q))
        }
    }
}
