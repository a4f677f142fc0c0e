import Foundation
import Testing
@testable import VQZ

/// Random damage to valid files, replayable from the seed: the reader may only accept the file
/// or throw a ContainerError (a crash or a trap ends the test run). Half of the mutants get
/// their CRC repaired, so the checks behind the checksum are exercised too.
@Suite struct ContainerMutationTests {
    static let seed: UInt64 = 20_240_601
    /// Bounded by time so CI stays quick; VQZ_MUTATION_SECONDS runs it longer by hand.
    static let seconds = Double(ProcessInfo.processInfo.environment["VQZ_MUTATION_SECONDS"] ?? "") ?? 3

    /// A file with a tint plane of 8-pixel cells, so that mutants reach the TINT reader often.
    static func tinted() -> VQZFile {
        var file = ContainerSamples.random(gridWidth: 5, gridHeight: 4, codebookSizes: [16], alpha: false, seed: 11)
        let (columns, rows) = TintPlane.cells(width: file.width, height: file.height, cellLog2: 3)
        file.tint = TintPlane(cellLog2: 3, step: 3, width: file.width, height: file.height, channels: 3,
                              values: (0..<(columns * rows * 3)).map { Int8(truncatingIfNeeded: $0 * 53) })
        return file
    }

    @Test func mutantsNeverCrash() throws {
        var rng = SeededGenerator(seed: Self.seed)
        let originals = try (0..<8).map { i in
            try ContainerSamples.random(gridWidth: Int.random(in: 1...9, using: &rng),
                                        gridHeight: Int.random(in: 1...9, using: &rng),
                                        codebookSizes: (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                                            [2, 17, 256, 1024, 65536].randomElement(using: &rng)! },
                                        alpha: i % 2 == 0,
                                        packing: ([nil] + TokenPacking.allCases).randomElement(using: &rng)!,
                                        seed: UInt64(i)).encode(zstdLevel: 3)
        } + [try DepthMapTests.file(levels: 2, seed: 3).encode(zstdLevel: 3), try DepthMapTests.file(levels: 4, seed: 4).encode(zstdLevel: 3),
             try Self.tinted().encode(zstdLevel: 3)]
        let limits = ContainerLimits(maxPixels: 1 << 20, maxTokens: 1 << 16)
        let deadline = Date().addingTimeInterval(Self.seconds)
        var runs = 0, accepted = 0
        var errorKinds: [String: Int] = [:]
        while Date() < deadline {
            for _ in 0..<100 {
                var data = originals.randomElement(using: &rng)!
                for _ in 0...Int.random(in: 0..<4, using: &rng) { Self.mutate(&data, using: &rng) }
                if Bool.random(using: &rng) { Self.repairChecksum(&data) }
                runs += 1
                do {
                    let file = try VQZFile(decoding: data, limits: limits)
                    // Whatever the reader accepts, the writer must be able to write again.
                    _ = try file.encode(zstdLevel: 1)
                    accepted += 1
                } catch let error as ContainerError {
                    // The case name: its associated values would make every count 1.
                    errorKinds[Mirror(reflecting: error).children.first?.label ?? "\(error)", default: 0] += 1
                } catch {
                    Issue.record("mutant \(runs) threw \(error), not a ContainerError")
                }
            }
        }
        print("mutation test: \(runs) mutants, \(accepted) accepted, errors: \(errorKinds.sorted { $0.key < $1.key })")
        #expect(runs > 0)
    }

    static func mutate(_ data: inout [UInt8], using rng: inout SeededGenerator) {
        guard !data.isEmpty else { data = [UInt8.random(in: 0...255, using: &rng)]; return }
        let i = Int.random(in: 0..<data.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: data[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 1: data[i] = UInt8.random(in: 0...255, using: &rng)
        case 2: data[i] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
        case 3: data.removeSubrange(i..<min(data.count, i + Int.random(in: 1...8, using: &rng)))
        case 4: data.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
        case 5: data.removeSubrange(i...)
        default:
            // Copy a run of bytes elsewhere: moves whole fields and chunk frames.
            let j = Int.random(in: 0..<data.count, using: &rng)
            let n = min(Int.random(in: 1...16, using: &rng), data.count - i, data.count - j)
            data.replaceSubrange(j..<j + n, with: data[i..<i + n])
        }
    }

    /// Rewrites the last 4 bytes as the CRC-32 of all before them, as DONE requires.
    static func repairChecksum(_ data: inout [UInt8]) {
        guard data.count >= 4 else { return }
        let crc = CRC32.checksum(data.dropLast(4))
        for k in 0..<4 { data[data.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }
}
