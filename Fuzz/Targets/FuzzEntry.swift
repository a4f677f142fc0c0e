#if VQZ_FUZZ
import Foundation

// libFuzzer's entry points, compiled only into the fuzzing build (scripts/fuzz passes -DVQZ_FUZZ).
// One binary serves every target: its name, fuzz-NAME, says which (scripts/fuzz makes one
// link per target), so the library is built with the sanitizers once.

nonisolated(unsafe) private var target = ""

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let program = argv.pointee.flatMap { $0.pointee }.map { String(cString: $0) } ?? ""
    let base = program.split(separator: "/").last.map(String.init) ?? program
    target = base.hasPrefix("fuzz-") ? String(base.dropFirst(5)) : base
    guard FuzzTargets.names.contains(target) else {
        FileHandle.standardError.write(Data("\(base): not one of fuzz-\(FuzzTargets.names.joined(separator: ", fuzz-"))\n".utf8))
        exit(2)
    }
    // VQZ_FUZZ_SEEDS=DIR: write this target's seed files into DIR and stop.
    if let folder = ProcessInfo.processInfo.environment["VQZ_FUZZ_SEEDS"] {
        for seed in FuzzTargets.seeds(target) {
            let url = URL(fileURLWithPath: folder).appendingPathComponent("seed-" + hexDigest(seed))
            try? Data(seed).write(to: url)
        }
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(target, size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// A short content name for a seed (FNV-1a 64), so rewriting seeds replaces them.
private func hexDigest(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return String(h, radix: 16)
}
#endif
