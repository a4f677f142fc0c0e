import NN

/// Where training batches come from. Models knows nothing of files: the codec library
/// implements this over a folder of images.
public protocol BatchSource {
    /// A batch of `count` crops [count, size, size, 3] with values in [-0.5, 0.5].
    func batch(count: Int, size: Int, rng: inout RNG) -> Tensor
}
