import ArgumentParser
import ImageIO
import PluginLoader
import StandardFormats
import VQZ

/// `vqz formats`: the image formats this build reads and writes.
struct FormatsCommand: ParsableCommand, VerboseDescribed {
    static let verboseHelp = "Also print the folders searched for plugins."
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "List the image formats vqz reads and writes."
    )

    @OptionGroup var verbosity: VerbosityOptions<Self>

    func run() throws {
        let console = verbosity.console
        let formats = FormatRegistry.standard.formats
        // External plugins that could not be used: warned about here, where users look
        // when a format is missing; the other commands skip them silently.
        console.note("plugin folders: " + PluginCatalog.standard.folders.joined(separator: ":"))
        for problem in PluginCatalog.standard.problems { console.warn(problem.path, "plugin skipped: " + problem.reason) }
        let nameWidth = max(6, formats.map(\.name.count).max() ?? 0)
        let extWidth = max(10, formats.map { $0.extensions.joined(separator: ",").count }.max() ?? 0)
        func row(_ name: String, _ rw: String, _ ext: String, _ summary: String) -> String {
            pad(name, nameWidth) + "  " + pad(rw, 5) + "  " + pad(ext, extWidth) + "  " + summary
        }
        print(row("FORMAT", "R/W", "EXTENSIONS", "DESCRIPTION"))
        for f in formats {
            let rw = (f.canRead ? "r" : "-") + (f.canWrite ? "w" : "-")
            var summary = f.summary
            if let plugin = f as? PluginFormat {
                summary = "plugin: " + summary + (verbosity.verbose ? " (" + plugin.libraryPath + ")" : "")
            }
            print(row(f.name, rw, f.extensions.joined(separator: ","), summary))
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - s.count))
    }
}
