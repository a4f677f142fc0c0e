import Foundation

/// Token grids in the forms ML pipelines read.
public enum TokenExport {
    private struct Document: Encodable {
        var width: Int
        var height: Int
        var model: String
        var levels: [[UInt16]]
    }

    /// {"height":H,"levels":[[...],...],"model":"...","width":W} with row-major tokens, and a
    /// newline. JSONEncoder escapes the model name, whatever it holds.
    public static func json(_ grid: TokenGrid, model: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(width: grid.width, height: grid.height, model: model, levels: grid.levels))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// NumPy .npy version 1.0: magic, header length, a Python-dict header padded to 64 bytes,
    /// then little-endian uint16 data of shape (levels, height, width).
    public static func npy(_ grid: TokenGrid) -> [UInt8] {
        var header = "{'descr': '<u2', 'fortran_order': False, 'shape': (\(grid.levels.count), \(grid.height), \(grid.width)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xff), UInt8(n >> 8)]
        out += Array(header.utf8)
        for level in grid.levels { for t in level { out += [UInt8(t & 0xff), UInt8(t >> 8)] } }
        return out
    }
}
