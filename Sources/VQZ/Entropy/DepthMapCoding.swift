/// The DPTH chunk's coding of a depth map (how many levels each grid position keeps), with rANS
/// and adaptive binary models: a map is mostly regions (smooth sky at depth 1, detail at the
/// deepest), so a position's depth is well predicted by its neighbours'.
///
/// Positions in raster order; each depth d in 1...L as unary flags "goes on past level l" for
/// l = 1, 2, ..., stopping at the first 0 (or at L). The flag at level l is coded with the model
/// of context (l, c), c the number of the four causal neighbours (left, up-left, up, up-right;
/// none outside the grid) whose depth is > l. Models count in integers, so encoder and decoder
/// agree exactly on every machine.
enum DepthMapCoding {
    static let scaleBits = 15

    /// An adaptive binary model: probability of a 1 from counts, halved now and then so it follows
    /// the map's regions.
    struct BitModel {
        var zeros: UInt32 = 1, ones: UInt32 = 1

        /// The interval of `bit` in [0, 2^scaleBits): 0s first.
        func interval(of bit: Bool) -> (start: UInt32, frequency: UInt32) {
            let f0 = zeroFrequency
            return bit ? (f0, (1 << UInt32(scaleBits)) - f0) : (0, f0)
        }

        var zeroFrequency: UInt32 {
            let total = UInt64(zeros + ones), scale = UInt64(1) << UInt64(scaleBits)
            let f = (UInt64(zeros) * scale + total / 2) / total
            return UInt32(min(max(f, 1), scale - 1))
        }

        mutating func update(_ bit: Bool) {
            if bit { ones += 1 } else { zeros += 1 }
            if zeros + ones > 1024 {
                zeros = (zeros + 1) / 2
                ones = (ones + 1) / 2
            }
        }
    }

    /// The context of the flag "position i goes on past level l".
    static func context(_ depth: [UInt8], _ i: Int, width w: Int, level l: Int) -> Int {
        let y = i / w, x = i % w
        var c = 0
        if x > 0, Int(depth[i - 1]) > l { c += 1 }
        if y > 0 {
            let up = i - w
            if x > 0, Int(depth[up - 1]) > l { c += 1 }
            if Int(depth[up]) > l { c += 1 }
            if x + 1 < w, Int(depth[up + 1]) > l { c += 1 }
        }
        return (l - 1) * 5 + c
    }

    static func encode(_ depth: [UInt8], width w: Int, levels: Int) -> [UInt8] {
        var models = [BitModel](repeating: BitModel(), count: max(levels - 1, 1) * 5)
        var intervals: [(start: UInt32, frequency: UInt32)] = []
        for i in depth.indices {
            var l = 1
            while l < levels {
                let bit = Int(depth[i]) > l
                let m = context(depth, i, width: w, level: l)
                intervals.append(models[m].interval(of: bit))
                models[m].update(bit)
                if !bit { break }
                l += 1
            }
        }
        // rANS pops in the reverse of the push order.
        var encoder = RANSEncoder(scaleBits: scaleBits)
        for s in intervals.reversed() { encoder.push(start: s.start, frequency: s.frequency) }
        return encoder.finish()
    }

    /// The depth map of `count` positions coded in `stream`; a stream that does not decode to
    /// exactly that map throws `RANSError`.
    static func decode(_ stream: ArraySlice<UInt8>, count: Int, width w: Int, levels: Int) throws -> [UInt8] {
        var decoder = try RANSDecoder(stream, scaleBits: scaleBits)
        var models = [BitModel](repeating: BitModel(), count: max(levels - 1, 1) * 5)
        var depth = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            var d = 1
            while d < levels {
                let m = context(depth, i, width: w, level: d)
                let f0 = models[m].zeroFrequency
                let bit = decoder.slot >= f0
                let s = models[m].interval(of: bit)
                try decoder.pop(start: s.start, frequency: s.frequency)
                models[m].update(bit)
                if !bit { break }
                d += 1
            }
            depth[i] = UInt8(d)
        }
        try decoder.finish()
        return depth
    }
}
