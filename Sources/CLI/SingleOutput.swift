import Foundation
import ImageIO
import StandardFormats

/// The output rules of the commands that write one result (or a few named alike) rather than one
/// per input: `inpaint`, `reconstruct`, `generate`, `tokens`. Checked before any work, so a
/// refused output costs nothing.
enum SingleOutput {
    /// Throws unless `targets` can be written: binary data goes to a terminal ("-") only with
    /// -f, an existing file is replaced only with -f, and never the input itself (the same file
    /// under any name) or a folder.
    static func check(_ targets: [String], input: String? = nil, force: Bool) throws {
        if targets == ["-"] {
            try refuseTerminal(force: force)
        } else {
            for target in targets { try AtomicFile.checkOutput(target, input: input, overwrite: force) }
        }
    }

    /// zstd's rule: binary data is not written to a terminal without -f.
    static func refuseTerminal(force: Bool) throws {
        if isatty(STDOUT_FILENO) != 0 && !force {
            throw CLIError(.usage, "refusing to write binary data to a terminal (use -o FILE, a pipe or -f)")
        }
    }

    /// Writes `bytes` to `target`, standard output for "-", a file atomically otherwise.
    static func write(_ bytes: [UInt8], to target: String, force: Bool, console: Console) throws {
        if target == "-" {
            try AtomicFile.writeAll(bytes, to: STDOUT_FILENO, name: "standard output")
        } else {
            try AtomicFile.write(bytes, to: target, overwrite: force)
            console.note("wrote \(target)")
        }
    }

    /// Writes `image` in the format `target`'s extension names, PNG to a pipe or for an
    /// extension no writer knows.
    static func write(_ image: Image, to target: String, force: Bool, console: Console) throws {
        let registry = FormatRegistry.standard
        let format = target == "-" ? nil : registry.format(forPath: target).flatMap { $0.canWrite ? $0 : nil }
        try write(try (format ?? registry.format(named: "png")!).encode(image, options: EncodeOptions()), to: target, force: force, console: console)
    }
}
