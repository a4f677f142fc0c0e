// rANS (Duda's asymmetric numeral systems, range variant) with a 64-bit state that moves
// 32 bits at a time. Symbols are given as (start, frequency) out of a total of 2^scaleBits.
// The encoder takes symbols in reverse order, so the decoder reads its stream front to back.

/// Encodes symbols pushed last-first; `finish()` gives the stream the decoder reads first-first.
struct RANSEncoder {
    static let lowerBound: UInt64 = 1 << 31       // the state stays in [L, L << 32)
    let scaleBits: Int
    private var state = RANSEncoder.lowerBound
    private var words: [UInt32] = []              // emitted in reverse of reading order

    init(scaleBits: Int) {
        precondition((1...31).contains(scaleBits), "rANS scale of \(scaleBits) bits")
        self.scaleBits = scaleBits
    }

    /// Pushes one symbol: the decoder will pop it before the symbols pushed earlier.
    mutating func push(start: UInt32, frequency: UInt32) {
        precondition(frequency > 0 && UInt64(start) + UInt64(frequency) <= 1 << UInt64(scaleBits), "rANS symbol out of range")
        let f = UInt64(frequency)
        // Renormalise so the state after coding stays below L << 32.
        let limit = ((Self.lowerBound >> UInt64(scaleBits)) << 32) * f
        if state >= limit {
            words.append(UInt32(truncatingIfNeeded: state))
            state >>= 32
        }
        state = ((state / f) << UInt64(scaleBits)) + state % f + UInt64(start)
    }

    /// The stream as little-endian 32-bit words: the final state, then the renormalisation words.
    mutating func finish() -> [UInt8] {
        words.append(UInt32(truncatingIfNeeded: state >> 32))
        words.append(UInt32(truncatingIfNeeded: state))
        var out = [UInt8]()
        out.reserveCapacity(words.count * 4)
        for w in words.reversed() {
            out.append(UInt8(truncatingIfNeeded: w))
            out.append(UInt8(truncatingIfNeeded: w >> 8))
            out.append(UInt8(truncatingIfNeeded: w >> 16))
            out.append(UInt8(truncatingIfNeeded: w >> 24))
        }
        return out
    }
}

/// Why a rANS stream could not be decoded; the container turns it into a corrupt-payload error.
enum RANSError: Error, Equatable, CustomStringConvertible {
    case truncated
    case badLength(Int)
    case trailingData(words: Int)
    case badFinalState
    case badChoice(UInt8)

    var description: String {
        switch self {
        case .truncated: return "rANS stream ends before its last token"
        case .badLength(let n): return "rANS stream of \(n) bytes (must be a multiple of 4, at least 8)"
        case .trailingData(let n): return "rANS stream has \(n) words after its last token"
        case .badFinalState: return "rANS stream does not end in its initial state"
        case .badChoice(let c): return "stream names cache weight \(c), but there are \(TokenCache.weights.count)"
        }
    }
}

/// Pops the symbols of a stream written by `RANSEncoder`, first pushed last.
struct RANSDecoder {
    let scaleBits: Int
    private let bytes: ArraySlice<UInt8>
    private var next: Int                       // index of the next unread byte
    private var state: UInt64

    init(_ bytes: ArraySlice<UInt8>, scaleBits: Int) throws {
        guard bytes.count >= 8, bytes.count % 4 == 0 else { throw RANSError.badLength(bytes.count) }
        self.bytes = bytes
        self.scaleBits = scaleBits
        next = bytes.startIndex
        state = 0
        let lo = UInt64(readWord()), hi = UInt64(readWord())
        state = lo | hi << 32
        guard state >= RANSEncoder.lowerBound else { throw RANSError.badFinalState }
    }

    private mutating func readWord() -> UInt32 {
        let b = bytes, i = next
        next += 4
        return UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// The slot in [0, 2^scaleBits) whose symbol comes next; find the symbol, then `pop` it.
    var slot: UInt32 { UInt32(truncatingIfNeeded: state & ((1 << UInt64(scaleBits)) - 1)) }

    mutating func pop(start: UInt32, frequency: UInt32) throws {
        state = UInt64(frequency) * (state >> UInt64(scaleBits)) + UInt64(slot) - UInt64(start)
        if state < RANSEncoder.lowerBound {
            guard next + 4 <= bytes.endIndex else { throw RANSError.truncated }
            state = state << 32 | UInt64(readWord())
        }
    }

    /// Checks that the stream ended exactly: every word read and the encoder's initial state reached.
    func finish() throws {
        guard next == bytes.endIndex else { throw RANSError.trailingData(words: (bytes.endIndex - next) / 4) }
        guard state == RANSEncoder.lowerBound else { throw RANSError.badFinalState }
    }
}
