import NN

/// Saving and loading caption readers, the way the other text models' files are.
public enum CaptionReaderModels: TextModelFiles {
    public static let weightsKind = "vqz-caption-reader"
    public static let checkpointKind = "vqz-caption-reader-checkpoint"
    public static let modelName = "the caption reader"

    public static func model(of config: CaptionReaderConfig) -> CaptionReader { CaptionReader(config: config) }
}
