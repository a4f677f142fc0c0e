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
        // Through the shapes tokenizer (the default), each picture written beside its round trip.
        let trip = try CLIRunner.run(["eval", "judge", "h", "--round-trip", "1", "--limit", "2", "--save", "trip"], in: folder)
        #expect(trip.status == 0 && trip.stdout.contains("pictures:             2 after a round trip at level 1"), "\(trip.stdout)\(trip.stderr)")
        let sheet = try [UInt8](Data(contentsOf: folder.appendingPathComponent("trip/000001-round-trip.png")))
        #expect(sheet.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let alone = try CLIRunner.run(["eval", "judge", "h", "--save", "trip"], in: folder)
        #expect(alone.status != 0 && alone.stderr.contains("--save goes with --round-trip"), "\(alone.stderr)")
    }

    @Test func trainTextThenGenerateFromAPrompt() throws {
        let folder = try CLIRunner.scratchFolder()
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "8", "-o", "d"], in: folder).status == 0)
        let train = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "3", "--batch", "2", "--width", "16",
                                       "--layers", "1", "--heads", "2", "--checkpoint", "ck/text.ckpt", "--output", "text.safetensors",
                                       "--threads", "1"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("finished at step 3"), "\(train.stderr)")
        // The same command and seed train the same bytes: weights are named by them.
        let again = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "3", "--batch", "2", "--width", "16",
                                       "--layers", "1", "--heads", "2", "--checkpoint", "ck/again.ckpt", "--output", "again.safetensors",
                                       "--threads", "1"], in: folder)
        #expect(again.status == 0, "\(again.stderr)")
        let bytes = try ["text", "again"].map { try Data(contentsOf: folder.appendingPathComponent("\($0).safetensors")) }
        #expect(bytes[0] == bytes[1], "two runs of one command wrote different weights")
        // Shipped weights continue with a fresh optimizer, in their own shape (not --width's).
        let more = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "2", "--batch", "2", "--width", "64", "--init", "text.safetensors",
                                      "--checkpoint", "ck/more.ckpt", "--output", "more.safetensors", "--threads", "1"], in: folder)
        #expect(more.status == 0 && more.stderr.contains("starting from the weights in text.safetensors"), "\(more.stderr)")
        let configs = try ["text.safetensors", "more.safetensors"].map { name -> NSDictionary? in
            let json = try Self.metadata(folder.appendingPathComponent(name))["config"] ?? ""
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary
        }
        #expect(configs[0]?["width"] as? Int == 16 && configs[0] != nil && configs[0] == configs[1], "the same shape: \(configs)")
        // The weights say how long the model trained in all: --init adds its ancestry, --resume keeps it.
        let resumed = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "3", "--batch", "2", "--checkpoint", "ck/more.ckpt",
                                         "--resume", "--output", "resumed.safetensors", "--threads", "1"], in: folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // --add-layers deepens the model it starts from; with the shapes marked, validation splits the loss.
        let grand = try CLIRunner.run(["train", "text", "--data", "d", "--steps", "1", "--batch", "2", "--init", "resumed.safetensors",
                                       "--add-layers", "1", "--val", "d", "--val-count", "2", "--shape-weight", "4",
                                       "--checkpoint", "ck/grand.ckpt", "--output", "grand.safetensors", "--threads", "1"], in: folder)
        #expect(grand.status == 0 && grand.stderr.contains("1 block added"), "\(grand.stderr)")
        #expect(grand.stderr.contains("over shapes") && grand.stderr.contains("over the ground"), "\(grand.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("grand.safetensors"))["config"]?.contains("\"layers\":2") == true)
        let alone = try CLIRunner.run(["train", "text", "--data", "d", "--add-layers", "1", "--checkpoint", "ck/alone.ckpt"], in: folder)
        #expect(alone.status != 0 && alone.stderr.contains("--add-layers needs --init"), "\(alone.stderr)")
        let lineage = try ["more", "resumed", "grand"].map { name -> [String?] in
            let meta = try Self.metadata(folder.appendingPathComponent("\(name).safetensors"))
            return [meta["steps"], meta["init_steps"]]
        }
        #expect(lineage == [["2", "3"], ["3", "3"], ["1", "6"]], "steps and init_steps: \(lineage)")
        let both = try CLIRunner.run(["train", "text", "--data", "d", "--init", "text.safetensors", "--resume", "--checkpoint", "ck/text.ckpt"], in: folder)
        #expect(both.status != 0 && both.stderr.contains("--resume and --init"), "\(both.stderr)")
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
        // Held-out prompts scored at two guidance scales.
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "3", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "text.safetensors", "--guidance", "1,3",
                                      "--save", "shown"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("guidance  present"), "\(eval.stdout)")
        #expect(eval.stdout.split(separator: "\n").filter { $0.hasPrefix("1.00 ") || $0.hasPrefix("3.00 ") }.count == 2, "\(eval.stdout)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("shown/000000-prompt.png").path))
    }

    @Test func trainTextWithALayoutThenGenerateAndJudgeThePlan() throws {
        let folder = try CLIRunner.scratchFolder()
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "8", "-o", "d"], in: folder).status == 0)
        let common = ["train", "text", "--data", "d", "--steps", "2", "--batch", "2", "--threads", "1"]
        let plain = try CLIRunner.run(common + ["--width", "16", "--layers", "1", "--heads", "2", "--checkpoint", "ck/plain.ckpt",
                                                "--output", "plain.safetensors"], in: folder)
        #expect(plain.status == 0, "\(plain.stderr)")
        // A trained model learns to plan: the layout is added, validation reports its bits.
        let planned = try CLIRunner.run(common + ["--init", "plain.safetensors", "--layout", "--val", "d", "--val-count", "2",
                                                  "--validate-every", "2", "--checkpoint", "ck/planned.ckpt", "--output", "planned.safetensors"],
                                        in: folder)
        #expect(planned.status == 0 && planned.stderr.contains("a layout added") && planned.stderr.contains("bits per layout id"), "\(planned.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("planned.safetensors"))["config"]?.contains("\"layoutLength\":17") == true)
        let resumed = try CLIRunner.run(common + ["--steps", "3", "--resume", "--checkpoint", "ck/planned.ckpt"], in: folder)
        #expect(resumed.status == 0 && resumed.stderr.contains("at step 2"), "\(resumed.stderr)")
        let both = try CLIRunner.run(common + ["--resume", "--layout", "--checkpoint", "ck/planned.ckpt"], in: folder)
        #expect(both.status != 0 && both.stderr.contains("cannot be combined with --resume"), "\(both.stderr)")
        // Each candidate's plan is said with -v; the plan is judged beside the picture.
        let gen = try CLIRunner.run(["generate", "--prompt", "a red circle above a blue square", "--text-weights", "planned.safetensors",
                                     "--count", "2", "-o", "out.png", "-v"], in: folder)
        #expect(gen.status == 0 && gen.stderr.contains("layout 2: ") && gen.stderr.contains(" ground"), "\(gen.stderr)")
        // By default 8 layouts per picture, drawn at guidance 3 and painted at 2; the layout's scale is told apart from the picture's.
        #expect(gen.stderr.contains("(guidance 2.00, 8 layouts per picture at guidance 3.00)"), "\(gen.stderr)")
        let told = try CLIRunner.run(["generate", "--prompt", "a red circle above a blue square", "--text-weights", "planned.safetensors",
                                      "--count", "2", "-o", "told.png", "--guidance", "2", "--plan-guidance", "3", "--plans", "8"], in: folder)
        #expect(told.status == 0, "\(told.stderr)")
        let byDefault = FileManager.default.contents(atPath: folder.appendingPathComponent("out-2.png").path)
        #expect(byDefault != nil && FileManager.default.contents(atPath: folder.appendingPathComponent("told-2.png").path) == byDefault,
                "the defaults, told")
        let apart = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "planned.safetensors",
                                       "--guidance", "1.5", "--plan-guidance", "4", "-o", "apart.png", "-v"], in: folder)
        #expect(apart.status == 0 && apart.stderr.contains("(guidance 1.50, 8 layouts per picture at guidance 4.00)"), "\(apart.stderr)")
        // The best of several layouts by the bundled reranker; a model without layouts has none to choose.
        let best = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "planned.safetensors", "--plans", "3",
                                      "-o", "plans.png"], in: folder)
        #expect(best.status == 0 && FileManager.default.fileExists(atPath: folder.appendingPathComponent("plans.png").path), "\(best.stderr)")
        let none = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "plain.safetensors", "--plans", "3",
                                      "-o", "none.png"], in: folder)
        #expect(none.status != 0 && none.stderr.contains("draws no layouts"), "\(none.stderr)")
        let unguided = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "plain.safetensors", "--plan-guidance", "2",
                                          "-o", "unguided.png"], in: folder)
        #expect(unguided.status != 0 && unguided.stderr.contains("--plan-guidance: the text model draws no layouts"), "\(unguided.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("unguided.png").path))
        let planless = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "plain.safetensors", "--count", "2",
                                          "--rerank", "--rerank-by", "plan", "-o", "planless.png"], in: folder)
        #expect(planless.status != 0 && planless.stderr.contains("--rerank-by plan: the text model draws no layouts"), "\(planless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("planless.png").path))
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "2", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "planned.safetensors", "--guidance", "3",
                                      "--plans", "2"], in: folder)
        #expect(eval.status == 0 && eval.stdout.contains("\n3.00 plan "), "\(eval.stdout) \(eval.stderr)")
        #expect(eval.stdout.contains("layouts at guidance 3.00, best of 2 layouts"), "\(eval.stdout)")
        // The planning model learns to read its layout's map; the map is the layout's, so needs one.
        let mapped = try CLIRunner.run(common + ["--init", "planned.safetensors", "--layout", "--map", "--checkpoint", "ck/mapped.ckpt",
                                                 "--output", "mapped.safetensors"], in: folder)
        #expect(mapped.status == 0 && mapped.stderr.contains("a map added"), "\(mapped.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("mapped.safetensors"))["config"]?.contains("\"mapVocabularies\":[501,7,3]") == true)
        let painted = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "mapped.safetensors", "--plans", "2",
                                         "--count", "2", "-o", "mapped.png", "-v"], in: folder)
        #expect(painted.status == 0 && painted.stderr.contains("layout 2: "), "\(painted.stderr)")
        // The map placed where the shapes are: a bins map turned into one, and never back.
        let placed = try CLIRunner.run(common + ["--init", "mapped.safetensors", "--map-style", "placed", "--checkpoint", "ck/placed.ckpt",
                                                 "--output", "placed.safetensors"], in: folder)
        #expect(placed.status == 0 && placed.stderr.contains("its map placed"), "\(placed.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("placed.safetensors"))["config"]?.contains("\"mapVocabularies\":[1281,7,3]") == true)
        let placedPainting = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "placed.safetensors", "--plans", "2",
                                                "-o", "placed.png"], in: folder)
        #expect(placedPainting.status == 0 && FileManager.default.fileExists(atPath: folder.appendingPathComponent("placed.png").path),
                "\(placedPainting.stderr)")
        let back = try CLIRunner.run(common + ["--init", "placed.safetensors", "--map-style", "bins", "--checkpoint", "ck/back.ckpt",
                                               "--output", "back.safetensors"], in: folder)
        #expect(back.status != 0 && back.stderr.contains("cannot go back to bins"), "\(back.stderr)")
        let placedParts = try CLIRunner.run(common + ["--init", "mapped.safetensors", "--map-style", "placed", "--map-parts",
                                                      "--checkpoint", "ck/pp.ckpt", "--output", "pp.safetensors"], in: folder)
        #expect(placedParts.status == 0 && placedParts.stderr.contains("its map placed, its map's parts composed"), "\(placedParts.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("pp.safetensors"))["config"]?.contains("\"mapParts\":[[0,2],[1,2]]") == true)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("back.safetensors").path))
        // The map's parts composed: the empty caption learns to read each alone; sampling adds their pulls.
        let composed = try CLIRunner.run(common + ["--init", "mapped.safetensors", "--map-parts", "--checkpoint", "ck/composed.ckpt",
                                                   "--output", "composed.safetensors"], in: folder)
        #expect(composed.status == 0 && composed.stderr.contains("its map's parts composed"), "\(composed.stderr)")
        #expect(try Self.metadata(folder.appendingPathComponent("composed.safetensors"))["config"]?.contains("\"mapParts\":[[0,2],[1,2]]") == true)
        // Only when told: composing them scored lower in 'vqz eval prompts'.
        let parts = try CLIRunner.run(["generate", "--prompt", "a green triangle", "--text-weights", "composed.safetensors", "--plans", "2",
                                       "--part-guidance", "1", "-o", "parts.png", "-v"], in: folder)
        #expect(parts.status == 0 && parts.stderr.contains("(guidance 2.00, map parts at 1.00, 2 layouts per picture at guidance 3.00)"),
                "\(parts.stderr)")
        let noParts = try CLIRunner.run(["generate", "--prompt", "a green triangle", "--text-weights", "composed.safetensors", "--plans", "2",
                                         "-o", "noparts.png", "-v"], in: folder)
        #expect(noParts.status == 0 && noParts.stderr.contains("(guidance 2.00, 2 layouts per picture at guidance 3.00)"), "\(noParts.stderr)")
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("noparts.png").path)
                != FileManager.default.contents(atPath: folder.appendingPathComponent("parts.png").path), "the parts pull on the picture")
        let partless = try CLIRunner.run(["generate", "--prompt", "a red circle", "--text-weights", "mapped.safetensors", "--part-guidance", "2",
                                          "-o", "partless.png"], in: folder)
        #expect(partless.status != 0 && partless.stderr.contains("--part-guidance: the text model was not trained with map parts"),
                "\(partless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("partless.png").path))
        let mapless = try CLIRunner.run(common + ["--init", "planned.safetensors", "--map-parts", "--checkpoint", "ck/mapless.ckpt"], in: folder)
        #expect(mapless.status != 0 && mapless.stderr.contains("--map-parts: the model in planned.safetensors reads no map"), "\(mapless.stderr)")
        let unplanned = try CLIRunner.run(common + ["--map", "--checkpoint", "ck/unplanned.ckpt"], in: folder)
        #expect(unplanned.status != 0 && unplanned.stderr.contains("--map needs --layout"), "\(unplanned.stderr)")
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
        let again = try CLIRunner.run(["train", "rerank", "--data", "d", "--steps", "2", "--init", "rerank.safetensors",
                                       "--checkpoint", "ck/again.ckpt", "--threads", "1"], in: folder)
        #expect(again.status == 0 && again.stderr.contains("starting from the weights in rerank.safetensors"), "\(again.stderr)")
        // Both kinds of hard negatives: validation reports both, and the picture near misses are
        // drawn and tokenized once, then read from the cache beside the checkpoint.
        let hard = ["train", "rerank", "--data", "d", "--val", "h", "--steps", "2", "--batch", "4", "--width", "16", "--layers", "1",
                    "--heads", "2", "--channels", "8", "--embedding", "8", "--near-misses", "--picture-near-misses", "--threads", "1"]
        let first = try CLIRunner.run(hard + ["--checkpoint", "ck/hard.ckpt"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("caption over its near miss") && first.stderr.contains("picture over its near miss"), "\(first.stderr)")
        #expect(first.stderr.contains("token grids of picture near misses of d cached in"), "\(first.stderr)")
        let second = try CLIRunner.run(hard + ["--checkpoint", "ck/hard2.ckpt"], in: folder)
        #expect(second.status == 0 && second.stderr.contains("token grids of picture near misses of d read from"), "\(second.stderr)")
        // A reranker that reads the decoded pictures instead of the grids; picture near misses are
        // grids, so the two do not combine.
        let pictures = try CLIRunner.run(["train", "rerank", "--data", "d", "--val", "h", "--steps", "2", "--batch", "4", "--width", "16",
                                          "--layers", "1", "--heads", "2", "--channels", "8", "--embedding", "8", "--picture-cell", "4",
                                          "--checkpoint", "ck/pictures.ckpt", "--output", "rerank-pictures.safetensors", "--threads", "1"], in: folder)
        #expect(pictures.status == 0 && pictures.stderr.contains("validation at step 2: top-1 retrieval among 4 pairs"), "\(pictures.stderr)")
        let both = try CLIRunner.run(["train", "rerank", "--data", "d", "--picture-cell", "4", "--picture-near-misses", "--checkpoint", "ck/both.ckpt"], in: folder)
        #expect(both.status != 0 && both.stderr.contains("--picture-near-misses"), "\(both.stderr)")
        // A caption reader: trained, resumed, and refused with the contrastive model's hard negatives.
        let reader = try CLIRunner.run(["train", "rerank", "--objective", "caption", "--data", "d", "--val", "h", "--steps", "2",
                                        "--batch", "4", "--width", "16", "--layers", "1", "--heads", "2", "--validate-every", "2",
                                        "--checkpoint", "ck/reader.ckpt", "--output", "rerank-reader.safetensors", "--threads", "1"], in: folder)
        #expect(reader.status == 0 && reader.stderr.contains("validation at step 2:") && reader.stderr.contains("bits per word"), "\(reader.stderr)")
        let readerMore = try CLIRunner.run(["train", "rerank", "--objective", "caption", "--data", "d", "--steps", "3",
                                            "--checkpoint", "ck/reader.ckpt", "--resume", "--threads", "1"], in: folder)
        #expect(readerMore.status == 0 && readerMore.stderr.contains("resumed from ck/reader.ckpt at step 2"), "\(readerMore.stderr)")
        let readerHard = try CLIRunner.run(["train", "rerank", "--objective", "caption", "--data", "d", "--near-misses"], in: folder)
        #expect(readerHard.status != 0 && readerHard.stderr.contains("--objective contrastive"), "\(readerHard.stderr)")
        let prompt = ["generate", "--prompt", "a red circle above a blue square", "--text-weights", "text.safetensors", "--count", "3"]
        for weights in ["rerank.safetensors", "rerank-pictures.safetensors", "rerank-reader.safetensors"] {
            let best = try CLIRunner.run(prompt + ["--rerank", "--rerank-weights", weights, "-o", "best.png", "-v", "-f"], in: folder)
            #expect(best.status == 0, "\(best.stderr)")
            #expect(best.stderr.contains("reranked 3 candidate(s)"), "\(best.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("best.png").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("best-1.png").path), "only the best is written")
        // A missing or wrong reranker file: one line naming it, exit status 3, no picture.
        for (weights, why) in [("missing.safetensors", "cannot read"), ("text.safetensors", "text.safetensors: ")] {
            let r = try CLIRunner.run(prompt + ["--rerank", "--rerank-weights", weights, "-o", "no.png"], in: folder)
            #expect(r.status == 3, "\(r.stderr)")
            #expect(r.stderr.contains(weights) && r.stderr.contains(why) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("no.png").path))
        }
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "text.safetensors", "--guidance", "1",
                                      "--rerank-weights", "rerank.safetensors", "--candidates", "3", "--limit", "2", "--oracle"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        // The judge's pick among the same candidates is at least the reranker's, and at least the first candidate's.
        func present(_ label: String) -> Double? {
            eval.stdout.split(separator: "\n").first { $0.hasPrefix(label + " ") }
                .flatMap { Double($0.split(separator: " ")[1].dropLast()) }
        }
        let (plain, reranked, judged) = (present("1.00"), present("1.00+r3"), present("1.00+o3"))
        #expect(plain != nil && reranked != nil && judged != nil, "\(eval.stdout)")
        #expect(judged! >= reranked! && judged! >= plain!, "\(eval.stdout)")
        let noReranker = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--text-weights", "text.safetensors", "--oracle"], in: folder)
        #expect(noReranker.status != 0 && noReranker.stderr.contains("--oracle"), "\(noReranker.stderr)")
    }

    @Test func bundledModelsDrawFromAPromptWithNoFlag() throws {
        let folder = try CLIRunner.scratchFolder()
        let one = try CLIRunner.run(["generate", "--prompt", "a large red circle", "-o", "one.png"], in: folder)
        #expect(one.status == 0 && one.stderr.isEmpty, "\(one.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("one.png").path))
        let best = try CLIRunner.run(["generate", "--prompt", "a small blue square left of a yellow triangle", "--count", "3",
                                      "--rerank", "-o", "best.png", "-v"], in: folder)
        #expect(best.status == 0 && best.stderr.contains("reranked 3 candidate(s) by agreement with their plans"), "\(best.stderr)")
        let byPrompt = try CLIRunner.run(["generate", "--prompt", "a small blue square left of a yellow triangle", "--count", "3",
                                          "--rerank", "--rerank-by", "prompt", "-o", "by-prompt.png", "-v"], in: folder)
        #expect(byPrompt.status == 0 && byPrompt.stderr.contains("reranked 3 candidate(s) by the prompt"), "\(byPrompt.stderr)")
        let alone = try CLIRunner.run(["generate", "--prompt", "a red circle", "--rerank-by", "prompt", "-o", "alone.png"], in: folder)
        #expect(alone.status == 1 && alone.stderr.contains("--rerank-by goes with --rerank"), "\(alone.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("alone.png").path))
        #expect(try CLIRunner.run(["dataset", "shapes", "--count", "2", "--split", "heldout", "-o", "h"], in: folder).status == 0)
        let eval = try CLIRunner.run(["eval", "prompts", "h/captions.jsonl", "--guidance", "1", "--rerank", "--candidates", "2"], in: folder)
        #expect(eval.status == 0 && eval.stdout.contains("reranked by agreement with their plans"), "\(eval.stderr)")
        #expect(eval.stdout.split(separator: "\n").contains { $0.hasPrefix("1.00+r2 ") }, "\(eval.stdout)")
    }

    /// The `__metadata__` of a safetensors file: an 8-byte little-endian header length, then JSON.
    static func metadata(_ url: URL) throws -> [String: String] {
        let bytes = [UInt8](try Data(contentsOf: url))
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any]
        return header?["__metadata__"] as? [String: String] ?? [:]
    }
}
