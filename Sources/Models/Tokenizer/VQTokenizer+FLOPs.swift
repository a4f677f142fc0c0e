import NN

extension VQTokenizer {
    /// Multiply-adds x 2 of the encoder's convolutions on an H x W image (H, W multiples of f).
    public func encoderFLOPs(height: Int, width: Int) -> Double {
        convolutionFLOPs(encoder, height: height, width: width).flops
    }

    /// The same for the decoder on a grid of gh x gw tokens.
    public func decoderFLOPs(gridHeight: Int, gridWidth: Int) -> Double {
        convolutionFLOPs(decoder, height: gridHeight, width: gridWidth).flops
    }
}

/// Walks a network, following the spatial size through strides and upsampling, and counts
/// the convolutions' FLOPs (the other layers are a few percent and bandwidth-bound).
func convolutionFLOPs(_ layer: any Layer, height: Int, width: Int) -> (flops: Double, height: Int, width: Int) {
    switch layer {
    case let s as Sequential:
        var (f, h, w) = (0.0, height, width)
        for l in s.layers {
            let r = convolutionFLOPs(l, height: h, width: w)
            f += r.flops
            (h, w) = (r.height, r.width)
        }
        return (f, h, w)
    case let r as Residual:
        return (convolutionFLOPs(r.body, height: height, width: width).flops, height, width)
    case let c as Conv2d:
        let (ho, wo) = c.outputSize(height: height, width: width)
        return (2 * Double(ho * wo * c.kernel * c.kernel * c.inChannels * c.outChannels), ho, wo)
    case is Upsample2x:
        return (0, 2 * height, 2 * width)
    case let p as PixelRearrangement:
        let (h, w) = p.outputSize(height: height, width: width)
        return (0, h, w)
    default:
        return (0, height, width)
    }
}
