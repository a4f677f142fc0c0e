import XCTest

/// Compares sample arrays and reports the first mismatch instead of dumping both arrays.
func assertSamples<T: BinaryInteger>(
    _ actual: [T], _ expected: [T], tolerance: Int = 0, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("\(label): \(actual.count) samples, expected \(expected.count)", file: file, line: line)
        return
    }
    var mismatches = 0, first: Int?
    for i in actual.indices where abs(Int(actual[i]) - Int(expected[i])) > tolerance {
        mismatches += 1
        if first == nil { first = i }
    }
    if let first {
        XCTFail("\(label): \(mismatches) samples differ by more than \(tolerance); first at \(first): "
            + "\(actual[first]) vs \(expected[first])", file: file, line: line)
    }
}

/// Big-endian 16-bit samples, as `convert ... -depth 16 -endian MSB rgba:-` prints them.
func samples16(bigEndian bytes: [UInt8]) -> [UInt16] {
    (0..<(bytes.count / 2)).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<E: Error & Equatable, T>(
    _ expected: E, _ label: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        _ = try body()
        XCTFail("\(label): expected \(expected), nothing was thrown", file: file, line: line)
    } catch let error as E {
        XCTAssertEqual(error, expected, label, file: file, line: line)
    } catch {
        XCTFail("\(label): expected \(expected), got \(type(of: error)) \(error)", file: file, line: line)
    }
}
