import Foundation
import Testing

/// dataset shapes, eval judge, train text and generate --prompt through the binary.
@Suite struct TextCommandTests {
    @Test func datasetIsTheSameForTheSameSeed() throws {
        let folder = try CLIRunner.scratchFolder()
        for dir in ["a", "b"] {
            let r = try CLIRunner.run(["dataset", "shapes", "--count", "6", "--seed", "4", "-o", dir], in: folder)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for name in ["captions.jsonl", "000000.png", "000005.png"] {
            let a = try Data(contentsOf: folder.appendingPathComponent("a/\(name)"))
            let b = try Data(contentsOf: folder.appendingPathComponent("b/\(name)"))
            #expect(a == b, "\(name) differs between two runs with the same seed")
        }
        let lines = try String(contentsOf: folder.appendingPathComponent("a/captions.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].contains("\"caption\":") && lines[0].contains("\"request\":") && lines[0].contains("\"split\":\"train\""))
        let again = try CLIRunner.run(["dataset", "shapes", "--count", "6", "-o", "a"], in: folder)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"), "\(again.stderr)")
    }

    @Test func judgeReadsTheRenderedDatasetFully() throws {
        let folder = try CLIRunner.scratchFolder()
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "20", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let r = try CLIRunner.run(["eval", "judge", "h"], in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("requested attributes: 100.00% present"), "\(r.stdout)")
    }

    @Test func trainTextThenGenerateFromAPrompt() throws {
        let folder = try CLIRunner.scratchFolder()
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "8", "-o", "d"], in: folder).status == 0)
        let train = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "3", "--batch", "2", "--width", "16",
                                       "--layers", "1", "--heads", "2", "--checkpoint", "ck/text.ckpt", "--output", "text.safetensors",
                                       "--threads", "1"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("finished at step 3"), "\(train.stderr)")
        let gen = try CLIRunner.run(["generate", "--prompt", "a red circle above a purple zebra", "--text-weights", "text.safetensors",
                                     "--guidance", "2", "--count", "2", "-o", "out.png"], in: folder)
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(gen.stderr.contains("'zebra'"), "the unknown word is named: \(gen.stderr)")
        for name in ["out-1.png", "out-2.png"] {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
        // Outside the domain: a warning, and still a picture (unconditional).
        let odd = try CLIRunner.run(["generate", "--prompt", "quantum zebra", "--text-weights", "text.safetensors", "-o", "odd.png"], in: folder)
        #expect(odd.status == 0, "\(odd.stderr)")
        #expect(odd.stderr.contains("unconditional"), "\(odd.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("odd.png").path))
        let empty = try CLIRunner.run(["generate", "--prompt", "", "--text-weights", "text.safetensors", "-o", "empty.png"], in: folder)
        #expect(empty.status == 0 && empty.stderr.isEmpty, "\(empty.stderr)")
        let noModel = try CLIRunner.run(["generate", "--prompt", "a red circle", "-o", "x.png"], in: folder)
        #expect(noModel.status == 3, "\(noModel.stderr)")
        // Held-out prompts scored at two guidance scales.
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "3", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "text.safetensors", "--guidance", "1,3",
                                      "--save", "shown"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("guidance  present"), "\(eval.stdout)")
        #expect(eval.stdout.split(separator: "\n").filter { $0.hasPrefix("1.00 ") || $0.hasPrefix("3.00 ") }.count == 2, "\(eval.stdout)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("shown/000000-prompt.png").path))
    }

    @Test func trainRerankThenGenerateTheBestCandidate() throws {
        let folder = try CLIRunner.scratchFolder()
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "8", "-o", "d"], in: folder).status == 0)
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "4", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let text = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "2", "--batch", "2", "--width", "16", "--layers", "1",
                                      "--heads", "2", "--checkpoint", "ck/text.ckpt", "--output", "text.safetensors", "--threads", "1"], in: folder)
        #expect(text.status == 0, "\(text.stderr)")
        let train = try CLIRunner.run(["train", "rerank", "--data", "d", "--val", "h", "--steps", "4", "--batch", "4", "--width", "16",
                                       "--layers", "1", "--heads", "2", "--channels", "8", "--embedding", "8", "--validate-every", "2",
                                       "--checkpoint", "ck/rerank.ckpt", "--output", "rerank.safetensors", "--threads", "1"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("finished at step 4"), "\(train.stderr)")
        #expect(train.stderr.contains("validation at step 4: top-1 retrieval among 4 pairs"), "\(train.stderr)")
        #expect(train.stderr.contains("read from"), "the grids tokenized for train text are reused: \(train.stderr)")
        let more = try CLIRunner.run(["train", "rerank", "--data", "d", "--steps", "6", "--checkpoint", "ck/rerank.ckpt", "--resume",
                                      "--threads", "1"], in: folder)
        #expect(more.status == 0 && more.stderr.contains("resumed from ck/rerank.ckpt at step 4") && more.stderr.contains("finished at step 6"),
                "\(more.stderr)")
        let prompt = ["generate", "--prompt", "a red circle above a blue square", "--text-weights", "text.safetensors", "--count", "3"]
        let best = try CLIRunner.run(prompt + ["--rerank", "--rerank-weights", "rerank.safetensors", "-o", "best.png", "-v"], in: folder)
        #expect(best.status == 0, "\(best.stderr)")
        #expect(best.stderr.contains("reranked 3 candidate(s)"), "\(best.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("best.png").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("best-1.png").path), "only the best is written")
        // A missing or wrong reranker file: one line naming it, exit status 3, no picture.
        for (weights, why) in [("missing.safetensors", "cannot read"), ("text.safetensors", "text.safetensors: ")] {
            let r = try CLIRunner.run(prompt + ["--rerank", "--rerank-weights", weights, "-o", "no.png"], in: folder)
            #expect(r.status == 3, "\(r.stderr)")
            #expect(r.stderr.contains(weights) && r.stderr.contains(why) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("no.png").path))
        }
        let none = try CLIRunner.run(prompt + ["--rerank", "-o", "no.png"], in: folder)
        #expect(none.status == 3 && none.stderr.contains("--rerank-weights"), "\(none.stderr)")
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "text.safetensors", "--guidance", "1",
                                      "--rerank-weights", "rerank.safetensors", "--candidates", "2", "--limit", "2"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.split(separator: "\n").contains { $0.hasPrefix("1.00+r2 ") }, "\(eval.stdout)")
    }
}
