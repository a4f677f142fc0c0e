import CVQZPlugin
import Foundation

/// Finds plugin libraries, opens them and checks their tables (docs/PLUGINS.md). Every
/// failure becomes a `PluginLoadProblem`; nothing here throws or stops the program.
public enum PluginLoader {
    /// The default folder's name, beside the executable.
    public static let defaultFolderName = "vqz-plugins"

    /// `VQZ_PLUGIN_PATH`'s folders in order (empty entries ignored), then the default folder.
    public static func searchFolders(pathVariable: String?, executablePath: String?) -> [PluginFolder] {
        var folders = (pathVariable ?? "").split(separator: ":").map { PluginFolder(path: String($0), isExplicit: true) }
        if let executablePath {
            let beside = URL(fileURLWithPath: executablePath).deletingLastPathComponent().appendingPathComponent(defaultFolderName)
            folders.append(PluginFolder(path: beside.path, isExplicit: false))
        }
        return folders
    }

    /// This process's executable, symbolic links resolved (so that a vqz linked into
    /// ~/bin still finds the plugins installed beside the real binary).
    public static func executablePath() -> String? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return Bundle.main.executablePath.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
    }

    /// Loads every `*.so` (`*.dylib` on macOS) of the folders, in folder order and by name
    /// within a folder. A library reached twice (through two folders or a link) loads once;
    /// a second format of the same name is skipped, so the first folder wins.
    public static func load(folders: [PluginFolder]) -> PluginCatalog {
        var catalog = PluginCatalog(folders: folders.map(\.path))
        var loaded: [String: String] = [:]  // real path of each library seen -> the format name
        for folder in folders {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
                if folder.isExplicit { catalog.problems.append(PluginLoadProblem(path: folder.path, reason: "no such folder (from VQZ_PLUGIN_PATH)")) }
                continue
            }
            guard isFolder.boolValue else {
                catalog.problems.append(PluginLoadProblem(path: folder.path, reason: "not a folder (VQZ_PLUGIN_PATH lists folders)"))
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            } catch {
                catalog.problems.append(PluginLoadProblem(path: folder.path, reason: "cannot list the folder"))
                continue
            }
            for name in names.sorted() where name.hasSuffix(".so") || name.hasSuffix(".dylib") {
                let path = URL(fileURLWithPath: folder.path).appendingPathComponent(name).path
                let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                if loaded[real] != nil { continue }
                switch loadLibrary(at: path) {
                case .success(let format):
                    loaded[real] = format.name
                    if let first = catalog.formats.first(where: { $0.name.lowercased() == format.name.lowercased() }) {
                        catalog.problems.append(PluginLoadProblem(
                            path: path, reason: "a format named \(format.name) is already loaded from \(first.libraryPath)"))
                    } else {
                        catalog.formats.append(format)
                    }
                case .failure(let problem):
                    loaded[real] = ""
                    catalog.problems.append(problem)
                }
            }
        }
        return catalog
    }

    /// Opens one library, finds its entry symbol and checks the table it returns. A library
    /// that fails a check stays mapped: unloading code that may have registered anything
    /// (Swift metadata, atexit handlers) is not safe, and the cost is a few pages.
    public static func loadLibrary(at path: String) -> Result<PluginFormat, PluginLoadProblem> {
        func problem(_ reason: String) -> Result<PluginFormat, PluginLoadProblem> {
            .failure(PluginLoadProblem(path: path, reason: reason))
        }
        // RTLD_LOCAL: two plugins may define the same helper names without clashing.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let detail = dlerror().map { String(cString: $0) } ?? "unknown error"
            // dlerror starts with the path, which the problem already names.
            return problem("cannot load the library: " + (detail.hasPrefix(path + ": ") ? String(detail.dropFirst(path.count + 2)) : detail))
        }
        guard let symbol = dlsym(handle, VQZ_PLUGIN_ENTRY_SYMBOL) else {
            return problem("no \(VQZ_PLUGIN_ENTRY_SYMBOL) symbol (not a vqz format plugin, or one for another ABI version)")
        }
        typealias Entry = @convention(c) () -> UnsafePointer<vqz_format_plugin>?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let table = entry() else { return problem("\(VQZ_PLUGIN_ENTRY_SYMBOL) returned no table") }
        if let reason = PluginFormat.problem(with: table) { return problem(reason) }
        return .success(PluginFormat(table: table, libraryPath: path))
    }
}
