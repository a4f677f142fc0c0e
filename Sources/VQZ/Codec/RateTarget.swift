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
    /// The encoder runs once; a search cuts, decodes (to fit the tint plane) and codes again. With
    /// `refinement`, a search runs on nearest codes (a refinement per step would multiply its
    /// cost) and only the tokens it ends on are refined; the refined file is kept if it still meets
    /// the target, else the nearest codes' (refined tokens decode closer, so a fidelity target
    /// keeps them, but they can take a few percent more bytes than a size target leaves).
    public func compress(_ image: Image, to target: RateTarget, keepAlpha: Bool = true,
                         encode: (VQZFile) throws -> [UInt8]) throws -> (bytes: [UInt8], quality: Quality) {
        if case .quality(let quality) = target { try check(quality) }
        let rate = try analyse(image, keepAlpha: keepAlpha)
        // A search ends on a quality it has tried: keep the last try rather than decode it again.
        var last: (quality: Quality, file: VQZFile, picture: Image)?
        // Under a size target, only tint planes that keep the file within it.
        func allows(_ file: VQZFile) throws -> Bool {
            if case .size(let limit) = target { return try encode(file).count <= limit }
            return true
        }
        func file(_ quality: Quality) throws -> (file: VQZFile, picture: Image) {
            if let last, last.quality == quality { return (last.file, last.picture) }
            let made = try tinted(rate.file(quality: quality), fittedTo: image, allows: allows)
            last = (quality, made.file, made.picture)
            return made
        }
        // The tokens a target settled on (`cut`; `plain`, its file as tried), refined where that is
        // asked for and the result still meets the target.
        func final(_ cut: VQZFile, plain: () throws -> VQZFile,
                   meets: (VQZFile, Image) throws -> Bool = { _, _ in true }) throws -> [UInt8] {
            if refinement.rounds > 0 {
                let refined = try tinted(self.refined(cut, toMatch: image, by: refinement), fittedTo: image, allows: allows)
                if try meets(refined.file, refined.picture) { return try encode(refined.file) }
            }
            return try encode(plain())
        }
        // A size between quality q and the next the search tried: the depth maps between theirs,
        // as many positions deepened as fit, and the file of the last that fitted.
        func filled(from q: Double, limit: Int) throws -> (cut: VQZFile, plain: VQZFile) {
            let above = min(Quality.scaleRange.upperBound, q + RateControl.searchTolerance)
            let (lower, upper) = (rate.depth(quality: .scale(q)), rate.depth(quality: .scale(above)))
            let steps = rate.steps(from: lower, to: upper)
            let cut = { (count: Int) in rate.file(depth: RateControl.depth(lower, deepening: steps.prefix(count), to: upper)) }
            // The most steps whose file fits; the bytes grow with the steps taken, near enough to bisect.
            var (fits, over) = (0, steps.count + 1)
            var fitting = try file(.scale(q)).file
            while over - fits > 1 {
                let mid = (fits + over) / 2
                let tried = try tinted(cut(mid), fittedTo: image, allows: allows).file
                if try encode(tried).count <= limit { (fits, fitting) = (mid, tried) } else { over = mid }
            }
            return (cut(fits), fitting)
        }
        switch target {
        case .quality(let quality):
            return (try final(rate.file(quality: quality), plain: { try file(quality).file }), quality)
        case .size(let limit):
            var smallest = 0
            let q = try RateControl.highestQuality { q in
                let n = try encode(file(.scale(q)).file).count
                if q == Quality.scaleRange.lowerBound { smallest = n }
                return n <= limit
            }
            guard let q else { throw RateTargetError.sizeUnreachable(target: limit, smallest: smallest) }
            let chosen = q < Quality.scaleRange.upperBound ? try filled(from: q, limit: limit)
                : (cut: rate.file(quality: .scale(q)), plain: try file(.scale(q)).file)
            return (try final(chosen.cut, plain: { chosen.plain }) { file, _ in try encode(file).count <= limit }, .scale(q))
        case .psnr(let floor):
            let image8 = image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)
            let channels = rate.file.colorChannels
            let reference = image8.withChannels(channels).samples8
            var best = -Double.infinity
            let q = try RateControl.lowestQuality { q in
                let fidelity = psnr(reference, try file(.scale(q)).picture.withChannels(channels).samples8)
                best = max(best, fidelity)
                return fidelity >= floor
            }
            guard let q else { throw RateTargetError.psnrUnreachable(target: floor, best: best) }
            return (try final(rate.file(quality: .scale(q)), plain: { try file(.scale(q)).file }) { _, picture in
                psnr(reference, picture.withChannels(channels).samples8) >= floor
            }, .scale(q))
        }
    }
}
