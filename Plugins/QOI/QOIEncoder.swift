/// Pixels to QOI, from the specification (qoiformat.org): the same choice of chunks as the
/// reference encoder, so its output is byte-identical to qoi.h's.
public enum QOIEncoder {
    /// Encodes `header.channels` (3 or 4) interleaved 8-bit samples per pixel.
    public static func encode(_ samples: UnsafeBufferPointer<UInt8>, header: QOIHeader) throws -> [UInt8] {
        guard header.width > 0, header.height > 0 else { throw QOIError.unsupported("cannot encode an empty image") }
        guard header.channels == 3 || header.channels == 4 else {
            throw QOIError.unsupported("QOI holds 3 or 4 channels, not \(header.channels)")
        }
        guard header.width <= Int(UInt32.max), header.height <= Int(UInt32.max),
              header.width.multipliedReportingOverflow(by: header.height).partialValue <= QOIHeader.maxPixels,
              header.width <= QOIHeader.maxPixels, header.height <= QOIHeader.maxPixels
        else { throw QOIError.unsupported("\(header.width)x\(header.height) is over QOI's limit of \(QOIHeader.maxPixels) pixels") }
        let pixelCount = header.width * header.height, channels = header.channels
        precondition(samples.count == pixelCount * channels, "sample count must be width * height * channels")

        var output = header.bytes
        output.reserveCapacity(QOIHeader.size + pixelCount * (channels + 1) + QOIOp.end.count)
        var seen = [QOIPixel](repeating: QOIPixel(r: 0, g: 0, b: 0, a: 0), count: 64)
        var previous = QOIPixel.start
        var run = 0
        for i in 0..<pixelCount {
            let s = i * channels
            let pixel = QOIPixel(r: samples[s], g: samples[s + 1], b: samples[s + 2], a: channels == 4 ? samples[s + 3] : 255)
            if pixel == previous {
                run += 1
                if run == 62 || i == pixelCount - 1 {
                    output.append(QOIOp.run | UInt8(run - 1))
                    run = 0
                }
                continue
            }
            if run > 0 {
                output.append(QOIOp.run | UInt8(run - 1))
                run = 0
            }
            let slot = pixel.hash
            if seen[slot] == pixel {
                output.append(QOIOp.index | UInt8(slot))
            } else {
                seen[slot] = pixel
                if pixel.a == previous.a {
                    // Signed differences with wrap-around, as int8 in the reference encoder.
                    let dr = Int(Int8(bitPattern: pixel.r &- previous.r))
                    let dg = Int(Int8(bitPattern: pixel.g &- previous.g))
                    let db = Int(Int8(bitPattern: pixel.b &- previous.b))
                    let drg = dr - dg, dbg = db - dg
                    if (-2...1).contains(dr) && (-2...1).contains(dg) && (-2...1).contains(db) {
                        output.append(QOIOp.diff | UInt8((dr + 2) << 4 | (dg + 2) << 2 | (db + 2)))
                    } else if (-32...31).contains(dg) && (-8...7).contains(drg) && (-8...7).contains(dbg) {
                        output.append(QOIOp.luma | UInt8(dg + 32))
                        output.append(UInt8((drg + 8) << 4 | (dbg + 8)))
                    } else {
                        output += [QOIOp.rgb, pixel.r, pixel.g, pixel.b]
                    }
                } else {
                    output += [QOIOp.rgba, pixel.r, pixel.g, pixel.b, pixel.a]
                }
            }
            previous = pixel
        }
        output += QOIOp.end
        return output
    }

    public static func encode(_ samples: [UInt8], header: QOIHeader) throws -> [UInt8] {
        try samples.withUnsafeBufferPointer { try encode($0, header: header) }
    }
}
