import ArgumentParser
import Foundation
import ImageIO
import StandardFormats
import TokenArrays
import VQZ

/// `vqz tokens --shards DIR`: a collection of images into WebDataset shards. The plan (which
/// image, which key, which shard) comes from the ordered inputs alone, each shard is written
/// whole under a temporary name and renamed, and shards already in DIR are skipped: a stopped
/// run resumes, and N workers given the same inputs write disjoint shards whose union is the
/// single run's, byte for byte.
struct TokenShards {
    let command: TokensCommand
    let folder: String

    var console: Console { command.verbosity.console }

    func run() throws {
        let inputs = try collectInputs()
        guard !inputs.isEmpty else { throw CLIError(.usage, "no images found in \(command.inputs.joined(separator: ", "))") }
        let plan = try ShardPlan(inputs: inputs, shardSize: command.shardSize ?? 1000, prefix: command.prefix ?? "tokens")
        let worker = try command.worker.map(TokensCommand.parseWorker) ?? (index: 0, count: 1)
        let mine = plan.shards(forWorker: worker.index, of: worker.count)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CLIError(.io, "\(folder): cannot create the shard folder")
        }
        let codec = Codec(model: try command.modelOptions.load())
        let levels = command.level ?? codec.model.levels
        guard (1...codec.model.levels).contains(levels) else { throw CodecError.levelOutOfRange(levels, available: codec.model.levels) }

        let progress = isatty(STDERR_FILENO) != 0 ? ProgressLine(console: console) : nil
        let total = mine.reduce(0) { $0 + $1.samples.count }
        let started = Date()
        var done = 0, written = 0, skipped = 0
        var firstFailure: ExitStatus?
        for shard in mine {
            let path = folder + "/" + shard.name
            if AtomicFile.exists(path) {
                skipped += 1
                done += shard.samples.count
                continue
            }
            var samples: [(info: TokenArrayInfo, tokens: TokenGrid)] = []
            var abandoned = false
            for sample in shard.samples {
                let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-3)
                progress?.update("\(shard.name): \(done)/\(total) images, \(String(format: "%.2f", rate)) images/s")
                do {
                    samples.append(try tokenize(sample, codec: codec, levels: levels))
                } catch {
                    let status = ErrorReport.status(of: error)
                    console.error(sample.path, ErrorReport.message(of: error))
                    if firstFailure == nil { firstFailure = status }
                    // A corrupt image stays corrupt: the shard is written without it. Any other
                    // failure (a file missing or unreadable now) may pass on a rerun, which
                    // writes the shard then.
                    if status != .corrupt { abandoned = true; break }
                }
                done += 1
            }
            if abandoned {
                console.error(path, "not written (rerun to retry)")
                continue
            }
            try AtomicFile.write(try ShardFile.tar(samples), to: path, overwrite: false)
            written += 1
        }
        progress?.finish()
        console.note("\(folder): \(written) shards written, \(skipped) already there, \(total) images in \(mine.count) shards of \(plan.shards.count)")
        try writeIndexIfComplete(plan)
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
    }

    private func tokenize(_ sample: ShardPlan.Sample, codec: Codec, levels: Int) throws -> (info: TokenArrayInfo, tokens: TokenGrid) {
        let bytes = try InputFile.read(sample.path, recognise: InputFile.recogniseImage)
        let image = try FormatRegistry.standard.decode(bytes)
        let grid = codec.tokenize(image.bitDepth == 8 ? image : image.converted(toBitDepth: 8), levels: levels)
        let info = TokenArrayInfo(model: codec.model.fingerprint, width: image.width, height: image.height,
                                  channels: image.colorChannels, factor: codec.model.downsampling, levels: levels,
                                  codebookSize: codec.model.config.codebookSize, key: sample.key, source: sample.source)
        return (info, grid)
    }

    /// Once every shard of the plan is in the folder (whichever worker wrote it), the index is
    /// made from the shards themselves, reading their JSON members and seeking past the arrays.
    /// Each worker tries when it ends, so the last to finish writes it.
    private func writeIndexIfComplete(_ plan: ShardPlan) throws {
        var index: [UInt8] = []
        for shard in plan.shards {
            let path = folder + "/" + shard.name
            guard AtomicFile.exists(path) else { return }
            guard let file = FileHandle(forReadingAtPath: path) else { throw CLIError(.io, "\(path): cannot open") }
            defer { try? file.close() }
            do {
                let size = Int(try file.seekToEnd())
                index += try ShardFile.indexLines(shardName: shard.name, size: size) { offset, count in
                    try file.seek(toOffset: UInt64(offset))
                    guard let data = try file.read(upToCount: count), data.count == count else { throw TarError.truncated }
                    return [UInt8](data)
                }
            } catch let error as TarError {
                throw CLIError(.corrupt, "\(path): \(error)")
            } catch let error as TokenArrayError {
                throw CLIError(.corrupt, "\(path): \(error)")
            } catch {
                throw CLIError(.io, "\(path): cannot read: \(error.localizedDescription)")
            }
        }
        try AtomicFile.write(index, to: folder + "/" + plan.indexName, overwrite: true)
    }

    /// Folders walked recursively (regular files with an image extension, hidden ones left out,
    /// in byte order of their paths relative to the folder), then files as given, then the list.
    private func collectInputs() throws -> [(path: String, source: String)] {
        let extensions = Set(FormatRegistry.standard.formats.filter(\.canRead).flatMap(\.extensions).map { $0.lowercased() })
        var inputs: [(path: String, source: String)] = []
        for input in command.inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
                throw CLIError(.usage, "\(input): cannot open: No such file or directory")
            }
            if isFolder.boolValue {
                let base = input.hasSuffix("/") ? String(input.dropLast()) : input
                inputs += try imagesBelow(base, extensions: extensions).map { (base + "/" + $0, $0) }
            } else {
                inputs.append((input, input))
            }
        }
        if let list = command.filesFrom {
            let bytes = try InputFile.read(list)
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
                let path = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
                if !path.isEmpty { inputs.append((path, path)) }
            }
        }
        return inputs
    }

    private func imagesBelow(_ folder: String, extensions: Set<String>) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw CLIError(.io, "\(folder): cannot read the folder")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            if name.hasPrefix(".") {
                if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { walker.skipDescendants() }
                continue
            }
            guard (walker.fileAttributes?[.type] as? FileAttributeType) == .typeRegular,
                  let ext = OutputNaming.extensionOf(name), extensions.contains(ext) else { continue }
            found.append(relative)
        }
        // Byte order, the same under every locale and file system.
        return found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
