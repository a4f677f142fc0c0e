import ArgumentParser
import Evaluation
import Foundation
import Generation
import ImageIO
import Shapes
import StandardFormats
import VQZ

/// `vqz eval judge DIR`: how well the scene judge reads a captioned dataset's pictures, as
/// rendered or after a round trip through the tokenizer.
struct EvalJudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "The scene judge's accuracy on a 'vqz dataset shapes' folder (optionally after the tokenizer).",
        discussion: """
            Scores each picture against its own caption's request (the share of requested \
            attributes the judge finds) and against its whole scene (every shape's kind, colour \
            and size found). With --round-trip LEVEL each picture is first compressed at that \
            quality level and decompressed with the tokenizer (the bundled shapes tokenizer unless \
            --model): whether the tokens carry the domain.
            """
    )

    @Argument(help: ArgumentHelp("Dataset folder (captions.jsonl and the pictures).", valueName: "dir")) var data: String
    @Option(help: "Pictures to use at most.") var limit = 1000
    @Option(help: ArgumentHelp("Compress and decompress at this level first.", valueName: "level")) var roundTrip: Int?
    @Flag(help: "Print each picture that misses something.") var failures = false
    @Option(help: ArgumentHelp("With --round-trip: write each picture beside its round trip here.", valueName: "dir")) var save: String?
    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        if save != nil && roundTrip == nil { throw ValidationError("--save goes with --round-trip") }
    }

    func run() throws {
        let records = try ShapesDataset.records(folder: data)
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }
        let codec = try roundTrip.map { _ in Codec(model: try modelOptions.load(default: .shapes)) }
        var tally = JudgeTally()
        for record in records.prefix(limit) {
            let path = (data as NSString).appendingPathComponent(record.image)
            guard let bytes = FileManager.default.contents(atPath: path) else { throw DatasetError.unreadableImage(path) }
            var image = try FormatRegistry.standard.decode([UInt8](bytes))
            if let codec, let level = roundTrip {
                let rendered = image
                image = try codec.decompress(try codec.compress(image, levels: level, keepAlpha: false))
                if let save {
                    let name = ((record.image as NSString).deletingPathExtension) + "-round-trip.png"
                    let sheet = Generator.contactSheet([rendered, image], gap: 4)
                    try AtomicFile.write(try FormatRegistry.standard.encode(sheet, as: "png"), to: (save as NSString).appendingPathComponent(name), overwrite: true)
                }
            }
            let analysis = SceneJudge.analyse(image)
            let score = tally.add(record, analysis)
            if failures && score.satisfiedTotal < score.requestedTotal {
                let seen = analysis.objects.map { "\($0.size.rawValue) \($0.color.rawValue) \($0.shape.rawValue) at \(Int($0.x)),\(Int($0.y))" }
                print("\(record.image): \"\(record.caption)\": found \(seen.joined(separator: "; "))")
            }
        }
        let (total, scenesExact, objects, objectsFound, used) = (tally.score, tally.scenesExact, tally.objects, tally.objectsFound, tally.pictures)
        let (confusion, drawn, kindRight) = (tally.confusion, tally.drawn, tally.kindRight)
        print(String(format: "pictures:             %d%@", used, roundTrip.map { " after a round trip at level \($0)" } ?? " as rendered"))
        print(String(format: "requested attributes: %.2f%% present (%d of %d)", 100 * total.share, total.satisfiedTotal, total.requestedTotal))
        for a in SceneScore.Attribute.allCases {
            let r = total.requested[a] ?? 0
            guard r > 0 else { continue }
            print("  " + a.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + String(format: " %6.2f%% (%d of %d)", 100 * Double(total.satisfied[a] ?? 0) / Double(r), total.satisfied[a] ?? 0, r))
        }
        print(String(format: "scene shapes found:   %.2f%% (%d of %d: kind, colour and size right)", 100 * Double(objectsFound) / Double(max(objects, 1)), objectsFound, objects))
        print(String(format: "scenes read exactly:  %.2f%% (%d of %d)", 100 * Double(scenesExact) / Double(max(used, 1)), scenesExact, used))
            for size in ShapeSize.allCases {
            print(String(format: "shape kind read:      %.2f%% of the %@ shapes (%d of %d)", 100 * Double(kindRight[size] ?? 0) / Double(max(drawn[size] ?? 0, 1)),
                         size.rawValue, kindRight[size] ?? 0, drawn[size] ?? 0))
        }
        print("shapes drawn (rows) and read (columns), shapes found near where they were drawn:")
        print("            " + ShapeKind.allCases.map { $0.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        for truth in ShapeKind.allCases {
            print("  " + truth.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + ShapeKind.allCases.map { String(confusion[truth]?[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        }
    }
}
