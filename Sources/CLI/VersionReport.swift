import VQZ

/// What `vqz --version` prints: the release, the container version it writes, and each bundled
/// model with the digests that name it elsewhere.
enum VersionReport {
    /// The release; ArgumentParser lists `--version` in `vqz --help` from it.
    static let release = "0.1.0"

    /// The digests are FNV-1a 128 of a weights file. A tokenizer has two: its own, which .vqz
    /// files record (`vqz info`), and that of the tokens it makes, which priors record (`vqz
    /// train`); they differ when only the decoder was retrained, since the tokens stayed the same.
    static func text() throws -> String {
        let models = try BundledModelSummary.all()
        let width = (models.map(\.file.count).max() ?? 0) + 2
        var lines = ["vqz \(release) (writes .vqz format version \(VQZFile.formatVersion))", "bundled models:"]
        for m in models {
            let pad = String(repeating: " ", count: width - m.file.count)
            lines.append("  \(m.file)\(pad)\(m.name)  digest \(m.digest.digestHex)")
            if let t = m.tokens {
                let role = m.file.hasPrefix("tokenizer") ? "makes the tokens of" : "for the tokens of"
                lines.append("  " + String(repeating: " ", count: width) + "\(role) \(t.name)  digest \(t.digestHex)")
            }
        }
        lines += [
            "A .vqz file names the tokenizer that decodes it by the first digest ('vqz info' shows it).",
            "Priors and text models name the tokens they were trained on ('vqz train' shows it): a",
            "tokenizer whose decoder alone was retrained keeps the tokens, and so that digest, of its parent.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
