import Foundation
import Models
import NN
import Training
import VQZ
import XCTest

/// The rules of a training run, as `vqz train` applies them, without the command line.
final class TrainingSetupTests: XCTestCase {
    static let config = TokenizerConfig(channels: [4, 6], bottomBlocks: 1, codeDim: 3, codebookSize: 8, levels: 2)

    func scratch(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("vqz-setup-\(UUID().uuidString)-\(name)").path
    }

    func tokenizer(seed: UInt64) throws -> TokenizerModel {
        try TokenizerModel(weights: VQTokenizer(config: Self.config, seed: seed).exportWeights(name: "tok-\(seed)"), fallbackName: "t")
    }

    func priorTrainer(_ path: String) -> PriorTrainer {
        var options = PriorTrainer.defaults(checkpointPath: path)
        options.steps = 2
        options.batchSize = 2
        return PriorTrainer(model: Priors.make(PriorConfig(kind: .pixelcnn, codebookSize: 8, width: 8, layers: 1), seed: 1), options: options, cropSize: 4)
    }

    func testLineageCountsEveryStepBehindARun() {
        XCTAssertEqual(TrainingLineage.stepsBefore(["steps": "100"]), "100")
        XCTAssertEqual(TrainingLineage.stepsBefore(["steps": "100", TrainingLineage.key: "50"]), "150")
        XCTAssertEqual(TrainingLineage.stepsBefore([:]), "?")
    }

    /// A run records the tokens it learns from and the steps behind its initial weights; its
    /// checkpoint resumes only for the same tokens, keeping that lineage; exported weights add
    /// the steps trained and the seed.
    func testResumeNeedsTheSameTokensAndKeepsTheLineage() throws {
        let path = scratch("prior.ckpt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (mine, other) = (try tokenizer(seed: 1), try tokenizer(seed: 2))
        let grids = [TokenGridSample(width: 6, height: 6, tokens: (0..<36).map { Int32($0 % 8) })]
        let first = priorTrainer(path)
        first.recordTokens(of: mine)
        first.continueLineage(of: ["steps": "30"])
        first.metadata[TrainingClock.key] = "3600"
        try first.run(data: TokenCropSource(grids: grids, size: 4))
        XCTAssertEqual(first.exportMetadata["steps"], "2")
        XCTAssertEqual(first.exportMetadata["seed"], "1")
        XCTAssertEqual(first.exportMetadata[TrainingLineage.key], "30")
        XCTAssertNil(first.exportMetadata[TrainingClock.key], "weights are named by their bytes: no wall-clock time in them")
        let trained = try XCTUnwrap(checkpointMetadata(at: path)[TrainingClock.key].flatMap(Int.init))
        XCTAssertTrue((3600...3660).contains(trained), "the hour behind the run and its own seconds: \(trained)")
        XCTAssertEqual(TokenizerRecord.read(first.exportMetadata), mine.tokens)

        XCTAssertThrowsError(try priorTrainer(path).resume(from: path, tokenizer: other)) {
            XCTAssertEqual($0 as? TrainingSetupError, .otherTokenizer(checkpoint: path, tokenizer: other.tokens.description))
        }
        let resumed = priorTrainer(path)
        try resumed.resume(from: path, tokenizer: mine)
        XCTAssertEqual(resumed.step, 2)
        XCTAssertEqual(resumed.metadata[TrainingLineage.key], "30")
        XCTAssertEqual(resumed.metadata[TrainingClock.key], String(trained), "a resumed run counts on from its checkpoint's time")
    }

    /// A campaign taken up from its shipped weights continues the schedule where they stopped, the
    /// fresh optimizer's rate ramping back to the schedule's over the warm-up; a resumed checkpoint
    /// takes the schedule's rate at once.
    func testContinuedScheduleRampsBackToTheSchedulesRate() throws {
        let path = scratch("prior.ckpt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = PriorTrainer.defaults(checkpointPath: path)
        (options.steps, options.warmupSteps, options.learningRate) = (1000, 10, 1)
        let state = TrainingState(store: ParameterStore(), options: options, seedOffset: 0)
        XCTAssertEqual(state.learningRate, options.learningRate(at: 0))
        state.continueSchedule(at: 600)
        XCTAssertEqual(state.step, 600)
        XCTAssertEqual(state.learningRate, options.learningRate(at: 600) / 10, accuracy: 1e-6)
        state.step = 604
        XCTAssertEqual(state.learningRate, options.learningRate(at: 604) / 2, accuracy: 1e-6)
        state.step = 700
        XCTAssertEqual(state.learningRate, options.learningRate(at: 700))

        let trainer = priorTrainer(path)
        trainer.state.continueSchedule(at: 1)
        try trainer.run(data: TokenCropSource(grids: [TokenGridSample(width: 6, height: 6, tokens: (0..<36).map { Int32($0 % 8) })], size: 4))
        XCTAssertEqual(trainer.step, 2, "one step left of a 2-step schedule")
        let resumed = priorTrainer(path)
        try resumed.resume(from: path)
        XCTAssertEqual(resumed.state.learningRate, resumed.options.learningRate(at: 2))
    }

    /// --decoder-only: from --init weights the tokens are frozen under those weights' lineage; a
    /// resumed checkpoint must agree with the flag, both ways.
    func testDecoderOnlyRules() throws {
        let weights = scratch("init.safetensors"), checkpoint = scratch("tok.ckpt")
        defer { for p in [weights, checkpoint] { try? FileManager.default.removeItem(atPath: p) } }
        let base = VQTokenizer(config: Self.config, seed: 3)
        try Data(base.exportWeights(name: "base")).write(to: URL(fileURLWithPath: weights))
        let started = try TokenizerStart(kind: .vq, config: Self.config, seed: 1, beta: 0, initWeights: weights, decoderOnly: true, resuming: nil)
        let frozen = try XCTUnwrap(started.model as? VQTokenizer).frozenTokens
        XCTAssertEqual(frozen, try TokenizerModel(contentsOf: weights).tokenLineage)

        var options = TokenizerTrainer.defaults(checkpointPath: checkpoint)
        options.steps = 1
        try TokenizerTrainer(model: VQTokenizer(config: Self.config, seed: 4), options: options).saveCheckpoint()
        XCTAssertThrowsError(try TokenizerStart(kind: .vq, config: Self.config, seed: 1, beta: 0, initWeights: nil, decoderOnly: true,
                                                resuming: checkpoint)) {
            XCTAssertEqual($0 as? TrainingSetupError, .notDecoderOnly(checkpoint: checkpoint))
        }
        try TokenizerTrainer(model: started.model, options: options).saveCheckpoint()
        XCTAssertThrowsError(try TokenizerStart(kind: .vq, config: Self.config, seed: 1, beta: 0, initWeights: nil, decoderOnly: false,
                                                resuming: checkpoint)) {
            XCTAssertEqual($0 as? TrainingSetupError, .decoderOnly(checkpoint: checkpoint))
        }
        let resumed = try TokenizerStart(kind: .vq, config: Self.config, seed: 1, beta: 0, initWeights: nil, decoderOnly: true, resuming: checkpoint)
        XCTAssertEqual(try XCTUnwrap(resumed.model as? VQTokenizer).frozenTokens, frozen)
    }
}
