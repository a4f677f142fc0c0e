import NN

/// Saving and loading rerankers: like the text-to-image model's, the weights carry the config and
/// the text tokenizer (its vocabulary) in their metadata, so one file is the whole model.
public enum RerankerModels: TextModelFiles {
    public static let weightsKind = "vqz-reranker"
    public static let checkpointKind = "vqz-reranker-checkpoint"
    public static let modelName = "the reranker"

    public static func model(of config: RerankerConfig) -> Reranker { Reranker(config: config) }
}
