import ArgumentParser
import Foundation
import ImageIO
import Shapes
import StandardFormats
import VQZ

/// `vqz dataset ...`: training data the project makes itself.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Make training data: captioned scenes of shapes for text-prompted generation.",
        subcommands: [DatasetShapesCommand.self]
    )
}

struct DatasetShapesCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Print how many scenes were written, and where."
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Render captioned scenes of one to three shapes (PNG + captions.jsonl).",
        discussion: """
            Writes DIR/000000.png ... and DIR/captions.jsonl, one JSON record per image: the \
            caption, what it asks for (the attributes 'vqz eval prompts' checks) and the whole \
            scene. The same --seed, --split and --size give the same files; a larger --count \
            extends a dataset without changing its first records. The train split never holds \
            the held-out colour-shape pairs (green triangle, purple square, yellow circle, orange \
            cross); every heldout scene holds at least one. See docs/TEXT.md.
            """
    )

    @Option(help: "Number of scenes.") var count: Int
    @Option(name: .short, help: ArgumentHelp("Output folder (created if needed).", valueName: "dir")) var output: String
    @Option(help: "Seed: the same seed gives the same scenes.") var seed: UInt64 = 1
    @Option(help: "train (no held-out pairs) or heldout (each scene has one).") var split: ShapesDataset.Split = .train
    @Option(help: "Canvas side in pixels.") var size = 128
    @Option(help: ArgumentHelp("Wobble each shape's outline by up to this share of its half extent (0: none); the scenes and captions stay those of the same seed unwarped.", valueName: "a"))
    var warp: Double = 0
    @Flag(name: .shortAndLong, help: "Overwrite an existing dataset in DIR.") var force = false
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        if !(1...1_000_000).contains(count) { throw ValidationError("--count must be in 1...1000000") }
        if !(64...1024).contains(size) { throw ValidationError("--size must be in 64...1024") }
        if !(warp >= 0 && warp <= 0.5) { throw ValidationError("--warp must be in 0...0.5") }
    }

    func run() throws {
        let console = verbosity.console
        let captions = (output as NSString).appendingPathComponent(ShapesDataset.captionsFile)
        if !force && AtomicFile.exists(captions) { throw AtomicFile.alreadyExists(captions) }
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw CLIError(.io, "\(output): cannot create the folder")
        }
        guard let png = FormatRegistry.standard.format(named: "png") else { throw CLIError(.usage, "no PNG writer in this build") }
        let progress = ProgressLine(console: console)
        var lines: [String] = []
        lines.reserveCapacity(count)
        for i in 0..<count {
            let record = ShapesDataset.record(index: i, seed: seed, split: split, canvas: size, warp: warp)
            let bytes = try png.encode(SceneRenderer.render(record.scene), options: EncodeOptions())
            try AtomicFile.write(bytes, to: (output as NSString).appendingPathComponent(record.image), overwrite: true)
            lines.append(ShapesDataset.jsonLine(record))
            progress.update("scene \(i + 1)/\(count)")
        }
        progress.finish()
        // The captions go last: a dataset with a captions file is a whole one.
        try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: captions, overwrite: true)
        console.note("wrote \(count) \(split.rawValue) scenes to \(output)")
    }
}

extension ShapesDataset.Split: ExpressibleByArgument {}
