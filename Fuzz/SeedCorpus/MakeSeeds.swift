// Writes the seed corpus of the container fuzzer: small valid files covering each packing,
// 1 to 3 levels, codebook sizes across bit widths, with and without alpha.
// Built and run by `scripts/fuzz-container --seeds`.
import Foundation

@main
struct MakeSeeds {
    static func main() throws {
        let folder = CommandLine.arguments.dropFirst().first ?? "Fuzz/corpus"
        let model = ModelFingerprint(name: "seed", digest: Array(0..<16))
        var n = 0
        for packing in TokenPacking.allCases {
            for (levels, k, alpha) in [(1, 2, false), (1, 300, true), (2, 16, false), (3, 65536, true), (1, 1024, false)] {
                let gw = 1 + n % 4, gh = 1 + n % 3
                let ks = Array(repeating: k, count: levels)
                let grid = TokenGrid(width: gw, height: gh,
                                     levels: ks.map { k in (0..<gw * gh).map { UInt16(($0 * 7919) % k) } },
                                     codebookSizes: ks)
                let (w, h) = (gw * 4, gh * 4)
                let file = VQZFile(width: w, height: h, colorChannels: n % 2 == 0 ? 3 : 1, model: model, tokens: grid,
                                   alpha: alpha ? (0..<w * h).map { UInt8($0 % 251) } : nil, packing: packing)
                let name = "\(folder)/seed-\(packing)-l\(levels)-k\(k)\(alpha ? "-alpha" : "").vqz"
                try Data(try file.encode()).write(to: URL(fileURLWithPath: name))
                n += 1
            }
        }
        print("wrote \(n) seeds to \(folder)")
    }
}
