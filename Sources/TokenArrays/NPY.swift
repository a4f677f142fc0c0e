import VQZ

/// NumPy's .npy format (numpy.lib.format), for integer token arrays: the reader takes what
/// NumPy and PyTorch pipelines write (any integer dtype, either byte order, format versions 1-3),
/// the writer writes version 1.0 little-endian uint16. Everything in a header is checked before
/// the data is touched; no size read from a file is used before it is checked against the bytes present.
public enum NPY {
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// NumPy itself refuses headers over 10000 bytes unless told otherwise; so does vqz.
    static let maxHeaderBytes = 10_000

    /// An array's header: element type and shape (C order; Fortran order is refused).
    public struct Header: Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Where the data starts.
        public var dataOffset: Int
    }

    /// Reads and checks the header (magic, version, the dict, an integer dtype, order), not the data.
    public static func header(of bytes: [UInt8]) throws -> Header {
        let header = try anyHeader(of: bytes)
        guard Element(dtype: header.dtype) != nil else { throw TokenArrayError.unsupportedDtype(header.dtype) }
        return header
    }

    /// The header of an array of any dtype.
    static func anyHeader(of bytes: [UInt8]) throws -> Header {
        guard bytes.starts(with: magic) else { throw TokenArrayError.notATokenArray }
        guard bytes.count >= 10 else { throw TokenArrayError.badHeader("truncated") }
        let major = bytes[6]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw TokenArrayError.badHeader("format version \(major).\(bytes[7]) (vqz reads 1.0 to 3.0)")
        }
        guard bytes.count >= 8 + lengthBytes else { throw TokenArrayError.badHeader("truncated") }
        var length = 0
        for i in 0..<lengthBytes { length |= Int(bytes[8 + i]) << (8 * i) }
        let start = 8 + lengthBytes
        guard length <= maxHeaderBytes else { throw TokenArrayError.badHeader("header of \(length) bytes (the most is \(maxHeaderBytes))") }
        guard length <= bytes.count - start else { throw TokenArrayError.badHeader("truncated") }
        guard let text = String(validating: bytes[start..<(start + length)], as: UTF8.self) else {
            throw TokenArrayError.badHeader("not UTF-8 text")
        }
        var parser = HeaderParser(text: Array(text.unicodeScalars))
        let dict = try parser.dictionary()
        guard Set(dict.keys) == ["descr", "fortran_order", "shape"] else {
            throw TokenArrayError.badHeader("keys \(dict.keys.sorted()) (expected descr, fortran_order, shape)")
        }
        guard case .string(let dtype)? = dict["descr"] else { throw TokenArrayError.badHeader("descr is not a string") }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw TokenArrayError.badHeader("fortran_order is not True or False") }
        guard case .tuple(let shape)? = dict["shape"] else { throw TokenArrayError.badHeader("shape is not a tuple") }
        // A 0-d or 1-element-per-axis array has the same bytes in either order; NumPy never
        // writes fortran_order True for them, so any True is an array vqz would misread.
        if fortran { throw TokenArrayError.fortranOrder }
        return Header(dtype: dtype, shape: shape, dataOffset: start + length)
    }

    /// Token grids in an .npy: shape (levels, rows, cols), or (rows, cols) for one level. Each
    /// value must be in 0...65535 (the codec checks it against its codebook); the grid's
    /// codebook sizes are 65536 until the caller knows the model's.
    public static func readTokens(_ bytes: [UInt8], limits: ContainerLimits = .default) throws -> TokenGrid {
        let header = try header(of: bytes)
        let shape = header.shape
        guard shape.count == 2 || shape.count == 3 else {
            throw TokenArrayError.badShape("\(shapeText(shape)) (expected (levels, rows, cols) or (rows, cols))")
        }
        let levels = shape.count == 3 ? shape[0] : 1
        let rows = shape[shape.count - 2], cols = shape[shape.count - 1]
        guard (1...TokenGrid.maxLevels).contains(levels) else {
            throw TokenArrayError.badShape("\(shapeText(shape)): \(levels) levels (1...\(TokenGrid.maxLevels))")
        }
        guard (1...TokenGrid.maxSide).contains(rows), (1...TokenGrid.maxSide).contains(cols) else {
            throw TokenArrayError.badShape("\(shapeText(shape)): a grid side outside 1...\(TokenGrid.maxSide)")
        }
        // Sides are at most 65535 and levels 16: the product cannot overflow.
        let count = levels * rows * cols
        guard count <= limits.maxTokens else {
            throw TokenArrayError.badShape("\(shapeText(shape)): \(count) tokens (the most is \(limits.maxTokens))")
        }
        let element = Element(dtype: header.dtype)!
        let expected = count * element.size
        let found = bytes.count - header.dataOffset
        guard found == expected else { throw TokenArrayError.wrongDataSize(expected: expected, found: found) }
        var grid = [[UInt16]](repeating: [], count: levels)
        var offset = header.dataOffset
        for l in 0..<levels {
            var level = [UInt16](repeating: 0, count: rows * cols)
            for i in 0..<level.count {
                let value = element.value(in: bytes, at: offset)
                guard value >= 0 && value <= 65535 else { throw TokenArrayError.tokenOutOfRange(value: value, codebookSize: 65536) }
                level[i] = UInt16(value)
                offset += element.size
            }
            grid[l] = level
        }
        return TokenGrid(width: cols, height: rows, levels: grid, codebookSizes: Array(repeating: 65536, count: levels))
    }

    /// Version 1.0, little-endian uint16, shape (levels, rows, cols), C order.
    public static func write(_ grid: TokenGrid) -> [UInt8] {
        var out = headerBytes("{'descr': '<u2', 'fortran_order': False, 'shape': (\(grid.levels.count), \(grid.height), \(grid.width)), }")
        out.reserveCapacity(out.count + 2 * grid.levels.count * grid.count)
        for level in grid.levels { for t in level { out += [UInt8(t & 0xff), UInt8(t >> 8)] } }
        return out
    }

    /// A 0-d array of one Unicode string (dtype '<Un', UTF-32LE): how NumPy stores a str
    /// without pickling, so numpy.load(..., allow_pickle=False) reads it.
    public static func write(string: String) -> [UInt8] {
        let scalars = Array(string.unicodeScalars)
        var out = headerBytes("{'descr': '<U\(max(scalars.count, 1))', 'fortran_order': False, 'shape': (), }")
        for s in scalars { let v = s.value; out += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }
        if scalars.isEmpty { out += [0, 0, 0, 0] }
        return out
    }

    /// The string of a 0-d '<Un' array; NumPy pads shorter strings with NUL scalars.
    public static func readString(_ bytes: [UInt8]) throws -> String {
        let header = try anyHeader(of: bytes)
        guard header.shape.isEmpty, header.dtype.hasPrefix("<U"), let n = Int(header.dtype.dropFirst(2)), n >= 1 else {
            throw TokenArrayError.badHeader("expected a 0-d '<U' string array, found '\(header.dtype)' of shape \(shapeText(header.shape))")
        }
        guard bytes.count - header.dataOffset == 4 * n else { throw TokenArrayError.wrongDataSize(expected: 4 * n, found: bytes.count - header.dataOffset) }
        var scalars = String.UnicodeScalarView()
        var offset = header.dataOffset
        for _ in 0..<n {
            let v = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            offset += 4
            if v == 0 { break }
            guard let scalar = Unicode.Scalar(v) else { throw TokenArrayError.badHeader("invalid Unicode scalar in a string array") }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// Magic, version 1.0, length, and the dict padded with spaces to a multiple of 64 bytes
    /// (NumPy's alignment), ending in a newline.
    private static func headerBytes(_ dict: String) -> [UInt8] {
        var header = dict
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = header.utf8.count
        return magic + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(header.utf8)
    }

    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// An integer dtype: byte order, size, signedness.
    struct Element {
        var size: Int
        var signed: Bool
        var bigEndian: Bool

        init?(dtype: String) {
            let chars = Array(dtype)
            guard chars.count == 3, let size = Int(String(chars[2])), [1, 2, 4, 8].contains(size) else { return nil }
            switch chars[0] {
            case "<": bigEndian = false
            case ">": bigEndian = true
            case "|" where size == 1: bigEndian = false
            default: return nil
            }
            switch chars[1] {
            case "i": signed = true
            case "u": signed = false
            default: return nil
            }
            self.size = size
        }

        /// The value at `offset`, which the caller has checked lies inside `bytes`. A uint64
        /// above Int64.max reads as negative, which the range check refuses as it should.
        func value(in bytes: [UInt8], at offset: Int) -> Int64 {
            var raw: UInt64 = 0
            for i in 0..<size {
                let b = UInt64(bytes[offset + (bigEndian ? size - 1 - i : i)])
                raw |= b << (8 * UInt64(i))
            }
            if signed && size < 8 && raw & (1 << (8 * UInt64(size) - 1)) != 0 {
                raw |= ~UInt64(0) << (8 * UInt64(size))
            }
            return Int64(bitPattern: raw)
        }
    }
}

/// The Python dict literal of an .npy header: string keys; values that are strings, True,
/// False, or tuples of non-negative integers. Anything else is refused.
struct HeaderParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    let text: [Unicode.Scalar]
    var i = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    mutating func dictionary() throws -> [String: Value] {
        skipSpace()
        try expect("{")
        var dict: [String: Value] = [:]
        while true {
            skipSpace()
            if peek() == "}" { i += 1; break }
            let key = try string()
            skipSpace()
            try expect(":")
            skipSpace()
            guard dict[key] == nil else { throw TokenArrayError.badHeader("key '\(key)' twice") }
            dict[key] = try value()
            skipSpace()
            if peek() == "," { i += 1; continue }
            skipSpace()
            try expect("}")
            break
        }
        skipSpace()
        guard i == text.count else { throw TokenArrayError.badHeader("text after the dictionary") }
        return dict
    }

    private mutating func value() throws -> Value {
        switch peek() {
        case "'", "\"": return .string(try string())
        case "(": return .tuple(try tuple())
        case "T": try word("True"); return .bool(true)
        case "F": try word("False"); return .bool(false)
        default: throw TokenArrayError.badHeader("unexpected value at character \(i)")
        }
    }

    private mutating func tuple() throws -> [Int] {
        try expect("(")
        var items: [Int] = []
        while true {
            skipSpace()
            if peek() == ")" { i += 1; return items }
            var digits = ""
            while let c = peek(), ("0"..."9").contains(c) { digits.unicodeScalars.append(c); i += 1 }
            // Dimensions above 2^31 are refused by the shape check anyway; this bounds parsing.
            guard !digits.isEmpty, digits.count <= 10, let n = Int(digits) else {
                throw TokenArrayError.badHeader("shape holds something other than non-negative integers")
            }
            items.append(n)
            guard items.count <= 32 else { throw TokenArrayError.badHeader("more than 32 dimensions") }
            skipSpace()
            if peek() == "," { i += 1; continue }
            skipSpace()
            try expect(")")
            return items
        }
    }

    private mutating func string() throws -> String {
        guard let quote = peek(), quote == "'" || quote == "\"" else { throw TokenArrayError.badHeader("expected a string at character \(i)") }
        i += 1
        var s = String.UnicodeScalarView()
        while let c = peek(), c != quote {
            guard c != "\\" else { throw TokenArrayError.badHeader("escapes in a string") }
            s.append(c)
            i += 1
        }
        try expect(quote)
        return String(s)
    }

    private mutating func word(_ w: String) throws {
        for c in w.unicodeScalars { try expect(c) }
    }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        guard peek() == c else { throw TokenArrayError.badHeader("expected '\(c)' at character \(i)") }
        i += 1
    }

    private func peek() -> Unicode.Scalar? { i < text.count ? text[i] : nil }

    private mutating func skipSpace() {
        while let c = peek(), c == " " || c == "\n" || c == "\t" { i += 1 }
    }
}
