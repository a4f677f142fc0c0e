import Foundation
import XCTest
import NN

/// Interop with the reference `safetensors` package and validation of untrusted headers.
final class SafeTensorsTests: XCTestCase {
    /// Values exact in F32 and F16 (multiples of 1/64), the same formula as nn_reference.py.
    static func interopValues(_ n: Int) -> [Float] {
        (0..<n).map { Float((($0 * 7919) % 1001) - 500) / 64 }
    }

    func testReadsFileWrittenByPython() throws {
        guard let url = Bundle.module.url(forResource: "py_written", withExtension: "safetensors", subdirectory: "Fixtures") else {
            return XCTFail("py_written.safetensors missing: run scripts/nn_reference.py")
        }
        let (t, meta) = try SafeTensors.read(Array(try Data(contentsOf: url)))
        XCTAssertEqual(meta, ["producer": "nn_reference.py"])
        XCTAssertEqual(Set(t.keys), ["f32.matrix", "f16.cube", "f16.special", "f32.special", "f32.scalar", "f32.empty"])
        XCTAssertEqual(t["f32.matrix"]?.dtype, .f32)
        XCTAssertEqual(t["f32.matrix"]?.shape, [3, 5])
        XCTAssertEqual(t["f32.matrix"]?.values, Self.interopValues(15))
        XCTAssertEqual(t["f16.cube"]?.dtype, .f16)
        XCTAssertEqual(t["f16.cube"]?.shape, [2, 3, 4])
        XCTAssertEqual(t["f16.cube"]?.values, Self.interopValues(24))
        let f16: [Float] = [0, -0.0, 1, -2, 65504, 0x1p-14, 0x1p-24, 0.333251953125, -.infinity]
        XCTAssertEqual(t["f16.special"]?.values.map(\.bitPattern), f16.map(\.bitPattern))
        let f32Bits: [UInt32] = [0x40490FDB, 0x00000001, 0x7F7FFFFF, 0x80000000, 0xFF800000, 0x3EAAAAAB]
        XCTAssertEqual(t["f32.special"]?.values.map(\.bitPattern), f32Bits)
        XCTAssertEqual(t["f32.scalar"]?.shape, [])
        XCTAssertEqual(t["f32.scalar"]?.values, [2.5])
        XCTAssertEqual(t["f32.empty"]?.shape, [0, 3])
        XCTAssertEqual(t["f32.empty"]?.values, [])
    }

    static func swiftWrittenEntries() -> [SafeTensors.Entry] {
        [SafeTensors.Entry(name: "a.weight", dtype: .f32, shape: [4, 6], values: interopValues(24)),
         SafeTensors.Entry(name: "b.half", dtype: .f16, shape: [2, 5], values: interopValues(10)),
         SafeTensors.Entry(name: "c.scalar", dtype: .f32, shape: [], values: [-1.5])]
    }
    static let swiftWrittenMetadata = ["format": "vqz-test", "note": "quote \" and backslash \\"]

    /// Our writer still produces the bytes that scripts/nn_reference.py verified with the Python
    /// package. VQZ_WRITE_FIXTURES=1 rewrites the fixture (then rerun the script to verify it).
    func testWrittenFileMatchesFixtureVerifiedByPython() throws {
        let bytes = SafeTensors.write(Self.swiftWrittenEntries(), metadata: Self.swiftWrittenMetadata)
        if ProcessInfo.processInfo.environment["VQZ_WRITE_FIXTURES"] == "1" {
            let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
            try Data(bytes).write(to: dir.appendingPathComponent("swift_written.safetensors"))
        }
        guard let url = Bundle.module.url(forResource: "swift_written", withExtension: "safetensors", subdirectory: "Fixtures") else {
            return XCTFail("swift_written.safetensors missing: run with VQZ_WRITE_FIXTURES=1, then scripts/nn_reference.py")
        }
        XCTAssertEqual(bytes, Array(try Data(contentsOf: url)))
        // The header is 8-byte aligned so tensors can be mapped in place.
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
    }

    func testRoundTrip() throws {
        var rng = RNG(seed: 1)
        let values = (0..<37).map { _ in rng.normal() }
        let bytes = SafeTensors.write([SafeTensors.Entry(name: "x", dtype: .f32, shape: [37], values: values),
                                       SafeTensors.Entry(name: "y", dtype: .f16, shape: [37], values: values)])
        let (t, _) = try SafeTensors.read(bytes)
        XCTAssertEqual(t["x"]?.values, values)
        XCTAssertEqual(t["y"]?.values, values.map { Float(Float16($0)) })
    }

    /// A file with the given header text and `data` bytes after it.
    func file(_ header: String, data: Int = 0, length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xff) } + h + [UInt8](repeating: 0, count: data)
    }

    func expect(_ bytes: [UInt8], _ matches: (SafeTensors.Error) -> Bool, _ label: String,
                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.read(bytes), label, file: file, line: line) { error in
            guard let e = error as? SafeTensors.Error else { return XCTFail("\(label): \(error)", file: file, line: line) }
            XCTAssertTrue(matches(e), "\(label): unexpected \(e)", file: file, line: line)
        }
    }

    func testMalformedHeadersThrow() {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try SafeTensors.read(file(ok, data: 8)))
        expect([1, 2, 3], { $0 == .truncated }, "shorter than the length field")
        expect(file(ok, data: 8, length: 200), { $0 == .truncated }, "header length beyond the file")
        expect(file(ok, data: 8, length: 1 << 40), { if case .headerTooLarge = $0 { return true }; return false }, "huge header length")
        expect(file(ok, data: 8, length: UInt64.max), { if case .headerTooLarge = $0 { return true }; return false }, "header length 2^64-1")
        expect(file(#"{"a": {"dtype": "F32", "#, data: 8), { if case .badHeader = $0 { return true }; return false }, "bad JSON")
        expect(file("[1, 2]"), { if case .badHeader = $0 { return true }; return false }, "JSON array")
        expect(file(ok, data: 4), { $0 == .truncated }, "offsets past the end of the data")
        expect(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: 8), { $0 == .truncated }, "reversed offsets")
        expect(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 12),
               { if case .badHeader = $0 { return true }; return false }, "offsets disagree with the shape")
        expect(file(#"{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647,2147483647],"data_offsets":[0,8]}}"#, data: 8),
               { if case .badHeader = $0 { return true }; return false }, "shape product overflows")
        expect(file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: 8),
               { if case .badHeader = $0 { return true }; return false }, "negative dimension")
        expect(file(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: 8),
               { if case .badHeader = $0 { return true }; return false }, "missing offsets")
        expect(file(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: 8),
               { $0 == .unsupportedDType("I64", tensor: "a") }, "unsupported dtype")
        expect(file(#"{"__metadata__":{"k":3}}"#), { if case .badHeader = $0 { return true }; return false }, "non-string metadata")
    }

    func testStoreLoadChecksNamesAndShapes() throws {
        var rng = RNG(seed: 2)
        let store = ParameterStore()
        let lin = Linear(store, "lin", inFeatures: 3, outFeatures: 2, rng: &rng)
        store.seal()
        let t = try SafeTensors.File(SafeTensors.write(store.entries()))
        let other = ParameterStore()
        _ = Linear(other, "lin", inFeatures: 3, outFeatures: 2, rng: &rng)
        try other.load(t)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: other.value(lin.weight), count: 6)),
                       Array(UnsafeBufferPointer(start: store.value(lin.weight), count: 6)))
        let wrong = ParameterStore()
        _ = Linear(wrong, "lin", inFeatures: 2, outFeatures: 2, rng: &rng)
        XCTAssertThrowsError(try wrong.load(t)) { XCTAssertEqual($0 as? SafeTensors.Error, .shapeMismatch("lin.weight", expected: [2, 2], found: [3, 2])) }
        let missing = ParameterStore()
        _ = Linear(missing, "other", inFeatures: 3, outFeatures: 2, rng: &rng)
        XCTAssertThrowsError(try missing.load(t)) { XCTAssertEqual($0 as? SafeTensors.Error, .missingTensor("other.weight")) }
    }

    /// A model built to be filled from a file computes no initial values, yet loads to the same
    /// parameters; its gradients appear, zeroed, only when something trains it.
    func testModelBuiltForLoadingSkipsInitialValues() throws {
        var rng = RNG(seed: 3)
        let store = ParameterStore()
        let lin = Linear(store, "lin", inFeatures: 3, outFeatures: 2, rng: &rng)
        store.seal()
        let t = try SafeTensors.File(SafeTensors.write(store.entries()))
        var drawn = 0
        let loaded = ParameterStore.withoutInitialValues { () -> ParameterStore in
            let other = ParameterStore()
            _ = other.add("lin.weight", [3, 2], { drawn += 1; return [Float](repeating: 7, count: 6) }())
            _ = other.add("lin.bias", [2], { drawn += 1; return [7, 7] }())
            other.seal()
            return other
        }
        XCTAssertEqual(drawn, 0, "no initial values drawn")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: loaded.values, count: 8)), [Float](repeating: 0, count: 8))
        try loaded.load(t)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: loaded.values, count: 8)), Array(UnsafeBufferPointer(start: store.values, count: 8)))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: loaded.grads, count: 8)), [Float](repeating: 0, count: 8))
        let fresh = ParameterStore()
        _ = fresh.add("x", [2], { drawn += 1; return [1, 2] }())
        fresh.seal()
        XCTAssertEqual(drawn, 1, "outside the scope, initial values are drawn")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: fresh.values, count: 2)), [1, 2])
        _ = lin
    }
}
