// libFuzzer entry point for the .vqz reader, compiled together with Sources/VQZ/Container
// by scripts/fuzz-container (no `import VQZ`: the container sources are part of this module).

/// Small limits keep each run fast; the limit checks themselves are what is fuzzed.
let fuzzLimits = ContainerLimits(maxPixels: 1 << 20, maxTokens: 1 << 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check(bytes)
    // Most mutants die at the checksum; the same bytes with a repaired CRC reach the
    // field and payload checks behind it.
    if bytes.count >= 4 {
        var repaired = bytes
        let crc = CRC32.checksum(repaired.dropLast(4))
        for k in 0..<4 { repaired[repaired.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        check(repaired)
    }
    return 0
}

/// The reader either throws a ContainerError or returns a file that survives a round trip.
func check(_ bytes: [UInt8]) {
    let file: VQZFile
    do {
        file = try VQZFile(decoding: bytes, limits: fuzzLimits)
    } catch is ContainerError {
        return
    } catch {
        fatalError("reader threw a non-container error: \(error)")
    }
    do {
        let again = try VQZFile(decoding: try file.encode(zstdLevel: 1), limits: fuzzLimits)
        if again != file { fatalError("accepted file does not survive a round trip") }
    } catch {
        fatalError("accepted file cannot be written and read again: \(error)")
    }
}
