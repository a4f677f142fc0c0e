/// What the token-array and shard readers refuse. Every case is bad input (exit 2), except a
/// model the array was not made with, which is `ContainerError.modelMismatch` (exit 3).
public enum TokenArrayError: Error, Equatable, CustomStringConvertible {
    /// Not an .npy file nor an .npz (zip) archive.
    case notATokenArray
    /// The .npy header is malformed: `reason` says how.
    case badHeader(String)
    /// A dtype that is not a plain integer type (floats, objects, strings, structured types).
    case unsupportedDtype(String)
    /// Fortran (column-major) order: vqz reads C order only, what NumPy writes by default.
    case fortranOrder
    /// A shape that is not (rows, cols) or (levels, rows, cols), or beyond the limits.
    case badShape(String)
    /// Fewer data bytes than the header's shape needs, or more.
    case wrongDataSize(expected: Int, found: Int)
    /// A token outside 0..<K.
    case tokenOutOfRange(value: Int64, codebookSize: Int)
    /// The .npz archive is unreadable, lacks a member, or a member is too large.
    case badArchive(String)
    /// The metadata member is not the JSON this version writes.
    case badMetadata(String)

    public var description: String {
        switch self {
        case .notATokenArray: return "not a token array (.npy or .npz)"
        case .badHeader(let reason): return "bad .npy header: \(reason)"
        case .unsupportedDtype(let d): return "unsupported .npy dtype '\(d)' (tokens must be integers)"
        case .fortranOrder: return "the .npy array is in Fortran order (save it in C order: numpy.ascontiguousarray)"
        case .badShape(let s): return "bad token array shape: \(s)"
        case let .wrongDataSize(expected, found): return "the .npy data is \(found) bytes, its header needs \(expected)"
        case let .tokenOutOfRange(value, k): return "token \(value) is outside the model's codebook of \(k)"
        case .badArchive(let s): return "bad .npz archive: \(s)"
        case .badMetadata(let s): return "bad token array metadata: \(s)"
        }
    }
}
