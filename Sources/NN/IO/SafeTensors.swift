import CKernels
import Foundation

/// The safetensors layout: 8-byte little-endian header length N, N bytes of JSON mapping each
/// tensor name to {dtype, shape, data_offsets: [begin, end]} relative to the byte after the
/// header, an optional "__metadata__" map of strings, then the raw little-endian data.
public enum SafeTensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16"
        var size: Int { self == .f32 ? 4 : 2 }
    }

    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let values: [Float]

        public init(name: String, dtype: DType, shape: [Int], values: [Float]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.values = values
        }
    }

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case truncated
        case headerTooLarge(Int)
        case badHeader(String)
        case unsupportedDType(String, tensor: String)
        case missingTensor(String)
        case shapeMismatch(String, expected: [Int], found: [Int])

        public var description: String {
            switch self {
            case .truncated: return "safetensors file is truncated"
            case .headerTooLarge(let n): return "safetensors header of \(n) bytes is larger than the 100 MB limit"
            case .badHeader(let why): return "safetensors header is malformed: \(why)"
            case .unsupportedDType(let t, let name): return "tensor \(name) has unsupported dtype \(t) (F32 and F16 are read)"
            case .missingTensor(let name): return "tensor \(name) is missing"
            case .shapeMismatch(let name, let e, let f): return "tensor \(name) has shape \(f), expected \(e)"
            }
        }
    }

    static let maxHeader = 100 << 20

    /// The `__metadata__` strings alone, without converting any tensor or checking the tensors'
    /// layout (a model's name and lineage, read where its weights are not needed).
    public static func metadata(_ bytes: [UInt8]) throws -> [String: String] {
        try metadata(in: header(bytes).json)
    }

    /// The header's JSON object and where the data after it starts.
    static func header(_ bytes: [UInt8]) throws -> (json: [String: Any], dataStart: Int) {
        guard bytes.count >= 8 else { throw Error.truncated }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeader) else { throw Error.headerTooLarge(Int(clamping: n)) }
        let headerLength = Int(n)
        guard bytes.count >= 8 + headerLength else { throw Error.truncated }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)]))
        } catch {
            throw Error.badHeader("not JSON")
        }
        guard let header = json as? [String: Any] else { throw Error.badHeader("not a JSON object") }
        return (header, 8 + headerLength)
    }

    /// The `__metadata__` map of a header, every value a string.
    static func metadata(in header: [String: Any]) throws -> [String: String] {
        guard let value = header["__metadata__"] else { return [:] }
        guard let meta = value as? [String: Any] else { throw Error.badHeader("__metadata__ is not an object") }
        var strings: [String: String] = [:]
        for (key, v) in meta {
            guard let s = v as? String else { throw Error.badHeader("metadata \(key) is not a string") }
            strings[key] = s
        }
        return strings
    }

    /// One tensor of a parsed file: where its data lies, not yet converted.
    public struct Stored: Sendable {
        public let dtype: DType
        public let shape: [Int]
        public let count: Int
        /// The offset of its first byte in the file.
        let start: Int
    }

    /// A parsed file: its metadata and the layout of its tensors, every size checked against the
    /// file; values are converted only when asked for, straight to where they are wanted.
    public struct File: Sendable {
        public let bytes: [UInt8]
        public let tensors: [String: Stored]
        public let metadata: [String: String]

        public init(_ bytes: [UInt8]) throws {
            self.bytes = bytes
            (tensors, metadata) = try SafeTensors.layout(bytes)
        }

        /// Converts the values of `stored`, one of `tensors`, into `destination` (`stored.count` floats).
        public func decode(_ stored: Stored, into destination: UnsafeMutablePointer<Float>) {
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + stored.start
                if stored.dtype == .f16 {
                    vqz_f16_to_f32(destination, base, stored.count)
                    return
                }
                for i in 0..<stored.count {
                    destination[i] = Float(bitPattern: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                }
            }
        }

        /// Tensor `name`'s values, nil when the file lacks it.
        public func values(_ name: String) -> [Float]? {
            guard let stored = tensors[name] else { return nil }
            return [Float](unsafeUninitializedCapacity: stored.count) { buffer, initialized in
                if stored.count > 0 { decode(stored, into: buffer.baseAddress!) }
                initialized = stored.count
            }
        }
    }

    /// Parses a whole file into entries (`File` converts only the tensors asked for).
    public static func read(_ bytes: [UInt8]) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        let file = try File(bytes)
        var entries: [String: Entry] = [:]
        for (name, stored) in file.tensors {
            entries[name] = Entry(name: name, dtype: stored.dtype, shape: stored.shape, values: file.values(name)!)
        }
        return (entries, file.metadata)
    }

    /// The tensors' layout and the metadata; every size is checked against the file before it is used.
    static func layout(_ bytes: [UInt8]) throws -> (tensors: [String: Stored], metadata: [String: String]) {
        let (header, dataStart) = try header(bytes)
        let dataLength = bytes.count - dataStart
        var tensors: [String: Stored] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any],
                  let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2
            else { throw Error.badHeader("tensor \(name) lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw Error.unsupportedDType(dtypeName, tensor: name) }
            let shape = try shapeAny.map { d -> Int in
                guard let i = (d as? NSNumber)?.intValue, i >= 0, i < 1 << 31 else { throw Error.badHeader("tensor \(name) has a bad shape") }
                return i
            }
            let offsets = try offsetsAny.map { d -> Int in
                guard let i = (d as? NSNumber)?.intValue, i >= 0 else { throw Error.badHeader("tensor \(name) has bad offsets") }
                return i
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataLength else { throw Error.badHeader("tensor \(name) is larger than the file") }
                count = p
            }
            guard offsets[0] <= offsets[1], offsets[1] <= dataLength else { throw Error.truncated }
            guard offsets[1] - offsets[0] == count * dtype.size else {
                throw Error.badHeader("tensor \(name) spans \(offsets[1] - offsets[0]) bytes for \(count) \(dtype.rawValue) values")
            }
            tensors[name] = Stored(dtype: dtype, shape: shape, count: count, start: dataStart + offsets[0])
        }
        return (tensors, try metadata(in: header))
    }

    /// Serialises tensors in the given order (names sorted for a stable file), data 8-byte aligned.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:]) -> [UInt8] {
        let sorted = entries.sorted { $0.name < $1.name }
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let meta = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        for e in sorted {
            let size = e.values.count * e.dtype.size
            parts.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xff)) }
        out += headerBytes
        for e in sorted {
            for v in e.values {
                if e.dtype == .f32 {
                    let b = v.bitPattern.littleEndian
                    out += [UInt8(b & 0xff), UInt8((b >> 8) & 0xff), UInt8((b >> 16) & 0xff), UInt8(b >> 24)]
                } else {
                    let b = Float16(v).bitPattern.littleEndian
                    out += [UInt8(b & 0xff), UInt8(b >> 8)]
                }
            }
        }
        return out
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension ParameterStore {
    /// The store's tensors as safetensors entries.
    public func entries(dtype: SafeTensors.DType = .f32, including: (Param) -> Bool = { _ in true }) -> [SafeTensors.Entry] {
        params.filter(including).map { p in
            SafeTensors.Entry(name: p.name, dtype: dtype, shape: p.shape,
                              values: Array(UnsafeBufferPointer(start: value(p), count: p.count)))
        }
    }

    /// Loads every named tensor of the store from `file`, converted straight into the store;
    /// names in `optional` may be absent (they keep their values).
    public func load(_ file: SafeTensors.File, optional: (Param) -> Bool = { _ in false }) throws {
        seal()
        for p in params {
            guard let stored = file.tensors[p.name] else {
                if optional(p) { continue }
                throw SafeTensors.Error.missingTensor(p.name)
            }
            guard stored.shape == p.shape else { throw SafeTensors.Error.shapeMismatch(p.name, expected: p.shape, found: stored.shape) }
            file.decode(stored, into: value(p))
        }
    }
}
