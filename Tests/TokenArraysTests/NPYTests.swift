import Testing
import TokenArrays
import VQZ

/// The .npy reader takes what NumPy writes and refuses, with the precise error, what it must not guess at.
@Suite struct NPYTests {
    /// An .npy with `dict` as its header and `data` after it, as NumPy lays it out.
    static func npy(_ dict: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var header = dict
        let prefix = version == 1 ? 10 : 12
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        let n = header.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8(n >> 8), 0, 0]
        return NPY.magic + [version, 0] + length + Array(header.utf8) + data
    }

    static func little(_ values: [Int64], size: Int) -> [UInt8] {
        values.flatMap { v in (0..<size).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) } }
    }

    let grid = TokenGrid(width: 3, height: 2, levels: [[0, 1, 2, 3, 4, 1023], [65535, 7, 8, 9, 10, 11]], codebookSizes: [65536, 65536])

    @Test func writtenArraysReadBack() throws {
        let bytes = NPY.write(grid)
        #expect(bytes.starts(with: NPY.magic))
        let header = try NPY.header(of: bytes)
        #expect(header.dtype == "<u2" && header.shape == [2, 2, 3])
        #expect(header.dataOffset % 64 == 0, "NumPy aligns the data to 64 bytes")
        #expect(try NPY.readTokens(bytes) == grid)
    }

    @Test(arguments: [("<i8", 8), ("<i4", 4), ("<u4", 4), ("<i2", 2), ("|u1", 1), ("<u8", 8)])
    func everyIntegerDtypeReads(dtype: String, size: Int) throws {
        let values: [Int64] = [5, 0, 200, 17, 3, 1]
        let bytes = Self.npy("{'descr': '\(dtype)', 'fortran_order': False, 'shape': (1, 2, 3), }", data: Self.little(values, size: size))
        #expect(try NPY.readTokens(bytes).levels == [values.map { UInt16($0) }])
    }

    @Test func bigEndianTwoDimensionalAndVersion2Read() throws {
        let big: [UInt8] = [0, 0, 1, 0x2C, 0, 0, 0, 9]  // >i4: 300, 9
        let bytes = Self.npy("{'descr': '>i4', 'fortran_order': False, 'shape': (1, 2)}", data: big, version: 2)
        let read = try NPY.readTokens(bytes)
        #expect(read.levels == [[300, 9]] && read.width == 2 && read.height == 1, "(rows, cols) is one level")
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }", 4, TokenArrayError.unsupportedDtype("<f4")),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (1, 1, 1), }", 8, TokenArrayError.unsupportedDtype("|O")),
        ("{'descr': '<i2', 'fortran_order': True, 'shape': (1, 2, 2), }", 8, TokenArrayError.fortranOrder),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }", 8, TokenArrayError.badShape("(4,) (expected (levels, rows, cols) or (rows, cols))")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 1, 1, 1), }", 2, TokenArrayError.badShape("(1, 1, 1, 1) (expected (levels, rows, cols) or (rows, cols))")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (17, 1, 1), }", 34, TokenArrayError.badShape("(17, 1, 1): 17 levels (1...16)")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 0, 5), }", 0, TokenArrayError.badShape("(1, 0, 5): a grid side outside 1...65535")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 9999999999, 5), }", 0, TokenArrayError.badShape("(1, 9999999999, 5): a grid side outside 1...65535")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (16, 65535, 65535), }", 0, TokenArrayError.badShape("(16, 65535, 65535): 68717379600 tokens (the most is 67108864)")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2, 2), }", 6, TokenArrayError.wrongDataSize(expected: 8, found: 6)),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2, 2), }", 10, TokenArrayError.wrongDataSize(expected: 8, found: 10)),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2, 2), 'extra': 'x'}", 8, TokenArrayError.badHeader("keys [\"descr\", \"extra\", \"fortran_order\", \"shape\"] (expected descr, fortran_order, shape)")),
        ("{'descr': '<i2', 'fortran_order': 0, 'shape': (1, 2, 2)}", 8, TokenArrayError.badHeader("unexpected value at character 34")),
        ("{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (1, 1, 1)}", 2, TokenArrayError.badHeader("key 'descr' twice")),
        ("{'descr': '<i2', 'shape': (1, 1, 1)}", 2, TokenArrayError.badHeader("keys [\"descr\", \"shape\"] (expected descr, fortran_order, shape)")),
        ("{'descr': '<i2', 'fortran_order': False, 'shape': (1, -1, 1)}", 2, TokenArrayError.badHeader("shape holds something other than non-negative integers")),
        ("[1, 2]", 0, TokenArrayError.badHeader("expected '{' at character 0")),
    ] as [(String, Int, TokenArrayError)])
    func malformedHeadersAreRefused(dict: String, dataBytes: Int, error: TokenArrayError) {
        let bytes = Self.npy(dict, data: [UInt8](repeating: 1, count: dataBytes))
        #expect(throws: error) { try NPY.readTokens(bytes) }
    }

    @Test func valuesOutsideSixteenBitsAreRefused() {
        let negative = Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1, 2), }", data: Self.little([3, -1], size: 4))
        #expect(throws: TokenArrayError.tokenOutOfRange(value: -1, codebookSize: 65536)) { try NPY.readTokens(negative) }
        let large = Self.npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1, 1, 1), }", data: [UInt8](repeating: 0xFF, count: 8))
        #expect(throws: TokenArrayError.tokenOutOfRange(value: -1, codebookSize: 65536), "2^64-1 is no token") { try NPY.readTokens(large) }
        let big = Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 1, 1), }", data: Self.little([65536], size: 4))
        #expect(throws: TokenArrayError.tokenOutOfRange(value: 65536, codebookSize: 65536)) { try NPY.readTokens(big) }
    }

    @Test func versionsAndHeaderLengthsAreChecked() {
        var bytes = NPY.write(grid)
        bytes[6] = 4
        #expect(throws: TokenArrayError.badHeader("format version 4.0 (vqz reads 1.0 to 3.0)")) { try NPY.readTokens(bytes) }
        var long = NPY.write(grid)
        long[8] = 0xFF; long[9] = 0xFF
        #expect(throws: TokenArrayError.badHeader("header of 65535 bytes (the most is 10000)")) { try NPY.readTokens(long) }
        #expect(throws: TokenArrayError.notATokenArray) { try NPY.readTokens(Array("P6\n1 1\n255\n".utf8)) }
    }

    /// Cut anywhere, an array is refused with an error, never read past its end.
    @Test func everyTruncationIsRefused() {
        let bytes = NPY.write(grid)
        for n in 0..<bytes.count {
            #expect(throws: TokenArrayError.self) { try NPY.readTokens(Array(bytes.prefix(n))) }
        }
    }

    @Test func stringsRoundTripAsNumPyUnicodeArrays() throws {
        let text = "{\"model\":\"vq-f8 é ✓\"}"
        let bytes = NPY.write(string: text)
        let header = String(decoding: bytes[10..<80], as: UTF8.self)
        #expect(header.contains("'descr': '<U\(text.unicodeScalars.count)'") && header.contains("'shape': ()"))
        #expect(try NPY.readString(bytes) == text)
    }
}
