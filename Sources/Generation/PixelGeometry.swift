/// A rectangle of pixels as `vqz inpaint --rect X,Y,W,H` gives it.
public struct PixelRect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        (self.x, self.y, self.width, self.height) = (x, y, width, height)
    }

    /// "X,Y,W,H": four decimal integers with X, Y >= 0, W, H > 0, and X + W, Y + H representable
    /// (so no later sum can overflow); nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingSpaces()) }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3],
              x >= 0, y >= 0, w > 0, h > 0,
              !x.addingReportingOverflow(w).overflow, !y.addingReportingOverflow(h).overflow else { return nil }
        self.init(x: x, y: y, width: w, height: h)
    }

    /// The smallest rectangle holding every true cell of a width x height mask (row-major); nil
    /// when none is.
    public init?(bounding mask: [Bool], width: Int, height: Int) {
        var x0 = width, y0 = height, x1 = 0, y1 = 0
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] { x0 = min(x0, x); x1 = max(x1, x + 1); y0 = min(y0, y); y1 = max(y1, y + 1) }
        }
        guard x1 > x0 else { return nil }
        self.init(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    /// Whether it lies inside an imageWidth x imageHeight image; compares by subtraction, which
    /// cannot overflow for the non-negative sizes involved.
    public func lies(insideWidth imageWidth: Int, height imageHeight: Int) -> Bool {
        x >= 0 && y >= 0 && width > 0 && height > 0 && x <= imageWidth - width && y <= imageHeight - height
    }
}

/// An image size as `vqz generate --size WxH` gives it.
public struct PixelSize: Equatable, Sendable {
    public var width: Int, height: Int

    /// "WxH" (or "WXH") with both sides in 1...maxSide; nil otherwise.
    public init?(parsing text: String, maxSide: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let w = parts[0], let h = parts[1], (1...maxSide).contains(w), (1...maxSide).contains(h) else {
            return nil
        }
        (width, height) = (w, h)
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
