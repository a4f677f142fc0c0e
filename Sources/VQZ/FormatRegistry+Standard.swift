import ImageIO
import JPEGFormat
import PNGFormat

extension FormatRegistry {
    /// The image formats vqz reads and writes. The one place the list is kept: a new format
    /// plugin is added here and every command (and `vqz formats`) sees it.
    public static let standard = FormatRegistry(formats: [PNMFormat(), PNGFormat(), JPEGFormat()])
}
