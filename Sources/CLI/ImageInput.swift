import ImageIO
import StandardFormats

extension InputFile {
    /// The image at `path` ("-": standard input), its format found by its bytes; an error names
    /// the file: "MASK: cannot open: ...".
    static func image(_ path: String) throws -> Image {
        do { return try FormatRegistry.standard.decode(try read(path, recognise: recogniseImage)) } catch {
            throw CLIError(ErrorReport.status(of: error), "\(displayName(path)): \(ErrorReport.message(of: error))")
        }
    }
}
