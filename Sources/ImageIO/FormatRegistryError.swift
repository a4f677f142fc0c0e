/// Why the registry found no format to use.
public enum FormatRegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No format recognizes the data's first bytes.
    case unknownFormat
    /// No format has this name or extension.
    case unknownName(String)
    /// The format exists but cannot read.
    case cannotRead(String)
    /// The format exists but cannot write.
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .unknownFormat: return "unknown image format: no format vqz reads recognises the data (see 'vqz formats')"
        case .unknownName(let name): return "unknown image format name '\(name)'"
        case .cannotRead(let name): return "the \(name) format cannot be read"
        case .cannotWrite(let name): return "the \(name) format cannot be written"
        }
    }
}
