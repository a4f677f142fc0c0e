import XCTest
import NN

/// Tiny models drive their loss down on a fixed synthetic batch: forward, backward and Adam
/// working together.
final class TrainingSmokeTests: XCTestCase {
    func testConvAutoencoderLearns() {
        var rng = RNG(seed: 1)
        let store = ParameterStore()
        let enc1 = Conv2d(store, "enc1", inChannels: 3, outChannels: 16, kernel: 3, stride: 2, rng: &rng)
        enc1.computesInputGradient = false
        let net = Sequential([
            enc1, ReLU(),
            Conv2d(store, "enc2", inChannels: 16, outChannels: 8, kernel: 3, rng: &rng), GroupNorm(store, "gn", channels: 8, groups: 2), SiLU(),
            Upsample2x(),
            Conv2d(store, "dec1", inChannels: 8, outChannels: 16, kernel: 3, rng: &rng), ReLU(),
            Conv2d(store, "dec2", inChannels: 16, outChannels: 3, kernel: 3, rng: &rng),
        ])
        let adam = Adam(store, learningRate: 3e-3)
        // Smooth images: sums of a few random sinusoids per channel.
        let (n, h, w) = (4, 16, 16)
        let x = Tensor([n, h, w, 3])
        for img in 0..<n {
            let (fy, fx, ph) = (rng.uniform() * 0.6, rng.uniform() * 0.6, rng.uniform() * 6)
            for y in 0..<h { for xx in 0..<w { for c in 0..<3 {
                x.data[((img * h + y) * w + xx) * 3 + c] = sinf(fy * Float(y) + fx * Float(xx) + ph + Float(c))
            } } }
        }
        let dy = Tensor(x.shape)
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            store.zeroGrads()
            let y = net.forward(x)
            last = mseLoss(y, x, dpred: dy)
            if step == 0 { first = last }
            _ = net.backward(dy)
            adam.update()
        }
        XCTAssertLessThan(last, 0.1 * first, "autoencoder loss went from \(first) to \(last)")
    }

    func testTinyTransformerLearns() {
        var rng = RNG(seed: 2)
        let (n, t, d, v) = (4, 16, 32, 12)
        let store = ParameterStore()
        let tok = Embedding(store, "tok", vocabulary: v, dim: d, std: 0.3, rng: &rng)
        let pos = Embedding(store, "pos", vocabulary: t, dim: d, std: 0.3, rng: &rng)
        let net = Sequential([
            Residual(Sequential([LayerNorm(store, "ln1", dim: d), SelfAttention(store, "att", dim: d, heads: 4, rng: &rng)])),
            Residual(Sequential([LayerNorm(store, "ln2", dim: d), Linear(store, "fc", inFeatures: d, outFeatures: 4 * d, rng: &rng),
                                 GELU(), Linear(store, "proj", inFeatures: 4 * d, outFeatures: d, rng: &rng)])),
            LayerNorm(store, "lnf", dim: d),
            Linear(store, "head", inFeatures: d, outFeatures: v, rng: &rng),
        ])
        let adam = Adam(store, learningRate: 3e-3)
        // Next-token prediction on fixed random sequences; the last position has no target.
        let tokens = (0..<(n * t)).map { _ in Int32(rng.int(below: v)) }
        let targets = (0..<(n * t)).map { i in i % t == t - 1 ? Int32(-1) : tokens[i + 1] }
        let positions = (0..<(n * t)).map { Int32($0 % t) }
        let dlogits = Tensor([n, t, v])
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            store.zeroGrads()
            let x = tok.forward(tokens, shape: [n, t]).copy()
            let p = pos.forward(positions, shape: [n, t])
            add(x.data, x.data, p.data, x.count)
            let logits = net.forward(x)
            last = crossEntropyLoss(logits, targets, ignoreIndex: -1, dlogits: dlogits)
            if step == 0 { first = last }
            let dx = net.backward(dlogits)
            tok.backward(dx)
            pos.backward(dx)
            adam.update()
        }
        XCTAssertGreaterThan(first, 2, "an untrained model should be near log \(v)")
        XCTAssertLessThan(last, 0.15 * first, "transformer loss went from \(first) to \(last)")
    }
}
