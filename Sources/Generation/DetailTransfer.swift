/// The fill's texture on the base's colours: at each pixel of `domain`, the base smoothed plus what
/// the fill holds beyond its own smoothed self (times `gain`); elsewhere the base. Both pictures
/// are RGB8. A prior's draw brings detail that a blur lacks, but the colours of its larger shapes
/// can be ones its surroundings lack; the blur's colours and shading are right near the border
/// by construction. Smoothing is `smoothed(_:width:height:radius:)`.
public func transplantingDetail(of fill: [UInt8], onto base: [UInt8], domain: [Bool], width w: Int, height h: Int,
                                radius: Int, gain: Float = 1) -> [UInt8] {
    guard let box = PixelRect(bounding: domain, width: w, height: h) else { return base }
    // Smoothing reaches 3 * radius pixels: that margin around the domain is all it needs.
    let reach = 3 * radius
    let x0 = max(0, box.x - reach), y0 = max(0, box.y - reach)
    let x1 = min(w, box.maxX + reach), y1 = min(h, box.maxY + reach)
    let (cw, ch) = (x1 - x0, y1 - y0)
    func crop(_ rgb: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: cw * ch * 3)
        for y in 0..<ch { for x in 0..<(cw * 3) { out[y * cw * 3 + x] = Float(rgb[((y0 + y) * w + x0) * 3 + x]) } }
        return out
    }
    let fillValues = crop(fill), baseValues = crop(base)
    let smoothFill = smoothed(fillValues, width: cw, height: ch, radius: radius)
    let smoothBase = smoothed(baseValues, width: cw, height: ch, radius: radius)
    var out = base
    for y in 0..<ch {
        for x in 0..<cw where domain[(y0 + y) * w + x0 + x] {
            for c in 0..<3 {
                let i = (y * cw + x) * 3 + c
                let value = smoothBase[i] + gain * (fillValues[i] - smoothFill[i])
                out[((y0 + y) * w + x0 + x) * 3 + c] = UInt8(min(max(value.rounded(), 0), 255))
            }
        }
    }
    return out
}

/// RGB values (3 per pixel) smoothed by three passes of a (2r+1)-wide box along the rows and then
/// the columns: close to a Gaussian of standard deviation sqrt(r(r+1)) (each pass adds r(r+1)/3 to
/// the variance). At the picture's edges a box averages the pixels it covers.
func smoothed(_ values: [Float], width w: Int, height h: Int, radius r: Int) -> [Float] {
    guard r > 0, w > 0, h > 0 else { return values }
    var a = values, b = values
    for _ in 0..<3 {
        for y in 0..<h {
            for x in 0..<w {
                let lo = max(0, x - r), hi = min(w - 1, x + r)
                for c in 0..<3 {
                    var sum: Float = 0
                    for xx in lo...hi { sum += a[(y * w + xx) * 3 + c] }
                    b[(y * w + x) * 3 + c] = sum / Float(hi - lo + 1)
                }
            }
        }
        for y in 0..<h {
            let lo = max(0, y - r), hi = min(h - 1, y + r)
            for x in 0..<w {
                for c in 0..<3 {
                    var sum: Float = 0
                    for yy in lo...hi { sum += b[(yy * w + x) * 3 + c] }
                    a[(y * w + x) * 3 + c] = sum / Float(hi - lo + 1)
                }
            }
        }
    }
    return a
}
