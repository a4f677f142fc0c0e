import ArgumentParser
import Evaluation
import Foundation
import Training
import VQZ

/// `vqz eval scale`: whether the quality scale does what it promises on every picture: bytes and
/// fidelity that never fall as `-q` rises, and `--size` landing just under its target.
struct EvalScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Whether -q is monotone in bytes and PSNR, and how far under its target --size lands.",
        discussion: """
            Reads every picture under --data as 8-bit RGB, tokenizes it once, and writes it as \
            'vqz compress -q Q' does (zstd, with the tint plane) at --points qualities \
            evenly spaced from 0 to 100, decoding each to measure its PSNR. Then runs \
            'vqz compress --size S' for --targets sizes spaced evenly in log between the files of \
            -q 0 and -q 100. Reports, per picture, the points after which the bytes or the PSNR \
            fall, and the size targets' landings: how far under the target the file is, at most \
            and on average.
            """
    )

    @Option(help: ArgumentHelp("Folder of pictures (searched recursively), e.g. data/val.", valueName: "dir")) var data: String
    @Option(help: "Qualities measured, evenly spaced from 0 to 100.") var points = 101
    @Option(help: "Size targets per picture.") var targets = 16
    @Flag(help: "Print JSON, one object per picture: its points [quality, bytes, PSNR] and landings [target, bytes].") var json = false
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var verbosity: VerbosityOptions<Self>

    func validate() throws {
        guard (2...10001).contains(points) else { throw ValidationError("--points must be within 2...10001") }
        guard (0...1000).contains(targets) else { throw ValidationError("--targets must be within 0...1000") }
    }

    func run() throws {
        let console = verbosity.console
        let codec = Codec(model: try modelOptions.load())
        let (pictures, paths, skipped) = try TrainingImages.load(folder: data)
        for s in skipped { console.warn(s.path, s.reason) }
        if !json {
            print("tokenizer \(codec.model.fingerprint), \(pictures.count) pictures in \(data), \(points) qualities, \(targets) size targets each")
            print("picture                   bytes at -q 0..100   bytes fall after   PSNR falls after   --size: most under   mean under   within 3%")
        }
        var worst = 0.0, within = 0, landed = 0, monotone = 0
        let progress = ProgressLine(console: console)
        for (i, picture) in pictures.enumerated() {
            progress.update("\(paths[i]): \(i + 1)/\(pictures.count)")
            let sweep = try QualityScaleSweep(picture, codec: codec, points: points, targets: targets)
            let unders = sweep.landings.map(\.under)
            let close = unders.filter { (0...0.03).contains($0) }.count
            worst = max(worst, unders.max() ?? 0)
            within += close
            landed += unders.count
            if sweep.bytesFalls.isEmpty && sweep.psnrFalls.isEmpty { monotone += 1 }
            func list(_ qs: [Double]) -> String { qs.isEmpty ? "none" : qs.map { String(format: "%g", $0) }.joined(separator: ",") }
            func column(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
            let mean = unders.isEmpty ? 0 : unders.reduce(0, +) / Double(unders.count)
            let name = URL(fileURLWithPath: paths[i]).lastPathComponent
            if json {
                let object: [String: Any] = [
                    "picture": name,
                    "points": sweep.points.map { [$0.quality, $0.bytes, $0.psnr] as [Any] },
                    "landings": sweep.landings.map { [$0.target, $0.bytes] },
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                continue
            }
            print(column(name, 26)
                  + column("\(sweep.points.first!.bytes)..\(sweep.points.last!.bytes)", 21)
                  + column(list(sweep.bytesFalls), 19) + column(list(sweep.psnrFalls), 19)
                  + column(String(format: "%.2f%%", 100 * (unders.max() ?? 0)), 21)
                  + column(String(format: "%.2f%%", 100 * mean), 13) + "\(close) of \(unders.count)")
        }
        progress.finish()
        if json { return }
        print(String(format: "monotone in bytes and PSNR: %d of %d pictures; --size within 3%% under its target: %d of %d, at most %.2f%% under",
                     monotone, pictures.count, within, landed, 100 * worst))
    }
}
