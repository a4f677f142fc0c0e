import XCTest
import Models
import NN

/// The photo tokenizer's shipped file: what it keeps, in which precision, and that it loads back
/// to the model within float16 rounding.
final class TokenizerWeightsTests: XCTestCase {
    func testShippedFileKeepsWeightsAndCodebooksInFloat16AndNoTrainingState() throws {
        let config = TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 2)
        let model = VQTokenizer(config: config, seed: 5)
        let (tensors, metadata) = try SafeTensors.read(model.exportWeights(name: "t"))
        XCTAssertEqual(metadata["kind"], VQTokenizer.weightsKind)
        XCTAssertFalse(tensors.keys.contains { $0.contains(".ema_") || $0.hasSuffix(".initialized") }, "training state shipped")
        for (name, entry) in tensors {
            let half = name.hasSuffix(".weight") || name.contains(".codebook.")
            XCTAssertEqual(entry.dtype, half ? .f16 : .f32, name)
        }
        XCTAssertEqual(tensors.keys.filter { $0.contains(".codebook.") }.count, 2)
        let loaded = try VQTokenizer.load(weights: model.exportWeights(name: "t")).model
        for p in loaded.store.params where tensors[p.name] != nil {
            let a = loaded.store.value(p), b = model.store.value(model.store.param(named: p.name)!)
            for i in 0..<p.count { XCTAssertEqual(a[i], b[i], accuracy: abs(b[i]) / 1000 + 1e-7, p.name) }
        }
    }
}
