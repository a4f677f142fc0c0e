import ImageIO
import JPEGFormat
import PNGFormat
import PluginLoader

extension FormatRegistry {
    /// The image formats vqz reads and writes. The one place the list is kept: a new format
    /// plugin is added here and every command (and `vqz formats`) sees it. External plugins
    /// (docs/PLUGINS.md) come after the built-in formats, so a built-in one wins when both
    /// recognize the same bytes or name.
    public static let standard = FormatRegistry(
        formats: [PNMFormat(), PNGFormat(), JPEGFormat()] + PluginCatalog.standard.formats.map { $0 as any ImageFormat })
}
