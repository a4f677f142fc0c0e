import Foundation
import ImageIO
import Models
import NN

/// Tokens chosen by what they decode to (`compress --effort`).
///
/// The code nearest the encoder's latent, level by level, is not the token whose picture is
/// closest to the image: the encoder is one fixed pass, and each residual level is chosen without
/// the ones after it. Refinement starts from the encoder's latent and descends the decoded error:
/// each round quantizes the latent at every position's depth (the depth map rate control chose
/// stays), decodes it, and moves the latent by the error's gradient taken at the quantized point
/// (straight through the quantizer), with Adam's step. The tokens of the round that decoded
/// closest to the image are kept, so they are never further from it than the nearest codes, on
/// the pixels of each tile.
///
/// Level 1 keeps its nearest codes; the levels after it are chosen anew each round. Refining
/// level 1 too cost 6-9% more bytes at the low end of the scale (its nearest codes repeat more,
/// and zstd and the prior live on that) and fidelity after the tint plane, which fixes the broad
/// colour errors a changed level-1 code was spent on (docs/BENCHMARKS.md).
public struct TokenRefinement: Sendable {
    /// Rounds of descent; each costs about a training step of the decoder (forward, and backward
    /// to the latent only).
    public var rounds: Int
    /// Adam's step, in units of the RMS of level 1's code components (the latent's scale), so one
    /// setting fits every model: 0.015 is about 0.005 of v2's latent a round, between 0.003 and
    /// 0.01, which gained about the same in a first trial on two photos.
    public var step: Float = 0.015
    /// Core tile side in tokens: the decoder's training pass keeps every activation for backward,
    /// so tiles are smaller than inference's to bound memory on large images.
    public var tileTokens = 64
    /// Beyond this the descent has long settled (a bound on a command's run time, not a setting).
    public static let maxRounds = 1000

    public init(rounds: Int) { self.rounds = rounds }
}

extension Codec {
    /// `file`'s tokens refined against `image` (the picture it was compressed from).
    public func refined(_ file: VQZFile, toMatch image: Image, by refinement: TokenRefinement) -> VQZFile {
        guard refinement.rounds > 0 else { return file }
        let network = model.network
        let f = model.downsampling
        let grid = file.tokens
        let (gw, gh) = (grid.width, grid.height)
        let depth = grid.depth ?? [UInt8](repeating: UInt8(grid.levels.count), count: grid.count)
        let rgb = (image.bitDepth == 8 ? image : image.converted(toBitDepth: 8)).withChannels(3).samples8
        let scale = (network.quantizer.codeEnergy / Float(network.config.codeDim)).squareRoot()
        var tokens = grid.levels
        defer { network.decoder.releaseBuffers() }
        Self.forEachTile(gridWidth: gw, gridHeight: gh, tile: refinement.tileTokens, margin: marginTokens) { core, ext in
            let x = crop(rgb, width: image.width, height: image.height, x0: ext.x * f, y0: ext.y * f,
                         w: ext.w * f, h: ext.h * f)
            var tileDepth = [UInt8](repeating: 1, count: ext.w * ext.h)
            ext.forEachPosition(in: ext, gridWidth: gw) { g, t in tileDepth[t] = depth[g] }
            let best = Self.refinedTokens(network, latent: network.latent(x), depth: tileDepth, target: x,
                                          rounds: refinement.rounds, step: refinement.step * scale)
            // A tile whose positions all stop early has fewer levels; beyond them its tokens stay 0.
            for l in best.indices {
                core.forEachPosition(in: ext, gridWidth: gw) { g, t in tokens[l][g] = best[l][t] < 0 ? 0 : UInt16(best[l][t]) }
            }
        }
        var out = file
        out.tokens = TokenGrid(width: gw, height: gh, levels: tokens, codebookSizes: grid.codebookSizes, depth: grid.depth)
        return out
    }

    /// The tokens (per level, -1 beyond a position's depth) of the round whose decode came closest
    /// to `target`, descending from the latent `z`.
    static func refinedTokens(_ network: VQTokenizer, latent z: Tensor, depth: [UInt8], target: Tensor,
                              rounds: Int, step: Float) -> [[Int32]] {
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        let n = z.count
        var m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        var best: (error: Float, tokens: [[Int32]])?
        let first = Array(network.quantizer.encode(z, depth: depth).prefix(1))
        for round in 0...rounds {
            let tokens = network.quantizer.encode(z, depth: depth, fixing: first)
            let (error, g) = network.decodedError(latent: network.quantizer.decode(tokens, shape: z.shape), target: target)
            if best == nil || error < best!.error { best = (error, tokens) }
            if round == rounds { break }
            let t = Float(round + 1)
            let (c1, c2) = (1 - pow(beta1, t), 1 - pow(beta2, t))
            for i in 0..<n {
                m[i] = beta1 * m[i] + (1 - beta1) * g.data[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g.data[i] * g.data[i]
                z.data[i] -= step * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-12)
            }
        }
        return best!.tokens
    }
}
