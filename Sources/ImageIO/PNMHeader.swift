/// The header of a binary Netpbm file: P5 (PGM), P6 (PPM) or P7 (PAM).
struct PNMHeader: Equatable {
    var width: Int
    var height: Int
    var channels: Int
    var maxValue: Int
    /// Where the samples start.
    var rasterOffset: Int

    static func parse(_ data: [UInt8]) throws -> PNMHeader {
        guard data.count >= 2 else {
            throw data.isEmpty || data[0] == UInt8(ascii: "P")
                ? ImageDecodingError.truncated : ImageDecodingError.corrupt("not a PNM file")
        }
        guard data[0] == UInt8(ascii: "P") else { throw ImageDecodingError.corrupt("not a PNM file") }
        var parser = Parser(data: data, position: 2)
        let header: PNMHeader
        switch data[1] {
        case UInt8(ascii: "5"), UInt8(ascii: "6"):
            let width = try parser.number(), height = try parser.number(), maxValue = try parser.number()
            // Exactly one whitespace byte separates the header from the samples.
            guard parser.position < data.count else { throw ImageDecodingError.truncated }
            guard Parser.isSpace(data[parser.position]) else {
                throw ImageDecodingError.corrupt("no whitespace after the PNM maxval")
            }
            header = PNMHeader(width: width, height: height, channels: data[1] == UInt8(ascii: "5") ? 1 : 3,
                               maxValue: maxValue, rasterOffset: parser.position + 1)
        case UInt8(ascii: "7"):
            header = try parser.pamHeader()
        case UInt8(ascii: "1")...UInt8(ascii: "4"):
            throw ImageDecodingError.unsupported("plain-text and bitmap PNM (P1 to P4); save as P5, P6 or P7")
        default:
            throw ImageDecodingError.corrupt("not a PNM file")
        }
        guard header.width > 0, header.height > 0 else {
            throw ImageDecodingError.corrupt("PNM size \(header.width)x\(header.height) is empty")
        }
        guard (1...65535).contains(header.maxValue) else {
            throw ImageDecodingError.corrupt("PNM maxval \(header.maxValue) is outside 1...65535")
        }
        return header
    }

    private struct Parser {
        let data: [UInt8]
        var position: Int

        static func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || (0x09...0x0D).contains(byte)
        }

        /// The next decimal number of a P5/P6 header, skipping whitespace and # comments.
        mutating func number() throws -> Int {
            while true {
                guard position < data.count else { throw ImageDecodingError.truncated }
                let byte = data[position]
                if Parser.isSpace(byte) {
                    position += 1
                } else if byte == UInt8(ascii: "#") {
                    while position < data.count, data[position] != 0x0A, data[position] != 0x0D { position += 1 }
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while position < data.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(data[position]) {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int(data[position] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw ImageDecodingError.corrupt("PNM header number out of range") }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw ImageDecodingError.corrupt("expected a number in the PNM header") }
            // A number running into the end of the data may be cut short.
            guard position < data.count else { throw ImageDecodingError.truncated }
            return value
        }

        /// The "KEYWORD value" lines of a PAM header, up to ENDHDR.
        mutating func pamHeader() throws -> PNMHeader {
            var fields: [String: Int] = [:]
            while true {
                guard let end = data[position...].firstIndex(of: 0x0A) else { throw ImageDecodingError.truncated }
                let line = data[position..<end].split(whereSeparator: Parser.isSpace)
                position = end + 1
                guard let keyword = line.first.map({ String(decoding: $0, as: UTF8.self) }),
                      !keyword.hasPrefix("#") else { continue }
                switch keyword {
                case "ENDHDR":
                    guard let width = fields["WIDTH"], let height = fields["HEIGHT"],
                          let depth = fields["DEPTH"], let maxValue = fields["MAXVAL"] else {
                        throw ImageDecodingError.corrupt("PAM header lacks WIDTH, HEIGHT, DEPTH or MAXVAL")
                    }
                    guard (1...4).contains(depth) else {
                        throw ImageDecodingError.unsupported("PAM depth \(depth); only 1 to 4 channels")
                    }
                    return PNMHeader(width: width, height: height, channels: depth, maxValue: maxValue,
                                     rasterOffset: position)
                case "TUPLTYPE":
                    // The depth already says how many channels there are; the tuple type
                    // (GRAYSCALE, RGB_ALPHA, BLACKANDWHITE...) adds nothing we use.
                    continue
                case "WIDTH", "HEIGHT", "DEPTH", "MAXVAL":
                    guard line.count == 2, let value = Int(String(decoding: line[1], as: UTF8.self)), value >= 0 else {
                        throw ImageDecodingError.corrupt("bad PAM header line for \(keyword)")
                    }
                    fields[keyword] = value
                default:
                    throw ImageDecodingError.corrupt("unknown PAM header keyword '\(keyword.prefix(20))'")
                }
            }
        }
    }
}
