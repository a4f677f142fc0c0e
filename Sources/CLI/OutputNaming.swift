/// Where an output goes when the user names none: beside the input, gzip's rule.
enum OutputNaming {
    static let containerExtension = "vqz"

    /// "photo.png" -> "photo.png.vqz": appending keeps the original extension for the way back.
    static func compressed(for input: String) -> String {
        input + "." + containerExtension
    }

    /// "photo.png.vqz" -> "photo.png"; "photo.vqz" -> "photo.<defaultExtension>"; the same for
    /// ".npz" and ".npy". When
    /// `forcedExtension` is given (from --format) and the stripped name lacks one of
    /// `forcedExtensions`, it is appended: "photo.png.vqz" with --format jpeg -> "photo.png.jpg".
    /// Throws when the input does not end in ".vqz": the user must choose a name with -o or -c.
    static func decompressed(for input: String, imageExtensions: Set<String>, defaultExtension: String = "png",
                             forced: (preferred: String, all: Set<String>)? = nil) throws -> String {
        let file = input.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? input
        // Token arrays (.npy, .npz) decode too, and are named the same way.
        guard let suffix = ["." + containerExtension, ".npz", ".npy"].first(where: { input.lowercased().hasSuffix($0) }),
              file.count > suffix.count else {
            throw CLIError(.usage, "cannot name the output: the name does not end in .\(containerExtension) (use -o or -c)")
        }
        let base = String(input.dropLast(suffix.count))
        let ext = extensionOf(base)
        if let forced {
            return ext.map { forced.all.contains($0) } == true ? base : base + "." + forced.preferred
        }
        return ext.map { imageExtensions.contains($0) } == true ? base : base + "." + defaultExtension
    }

    /// The lower-cased extension of a path's last component, nil when there is none.
    static func extensionOf(_ path: String) -> String? {
        let file = path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return nil }
        let ext = file[file.index(after: dot)...]
        return ext.isEmpty ? nil : ext.lowercased()
    }
}
