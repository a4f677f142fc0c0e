import Foundation

/// A word-level tokenizer trained on captions: lower-cased runs of letters and digits, one id
/// per word seen in training, id 0 for padding. Words it does not know are reported, never
/// silently dropped: `encode` returns them so the caller can name them in a warning.
public struct TextTokenizer: Codable, Equatable, Sendable {
    public static let padding: Int32 = 0

    /// The vocabulary, sorted; word i has id i + 1.
    public let words: [String]
    /// Tokens per caption: shorter ones are padded, longer ones cut.
    public let length: Int

    private var index: [String: Int32] {
        Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, Int32($0 + 1)) })
    }

    public init(words: [String], length: Int) {
        self.words = Array(Set(words)).sorted()
        self.length = length
    }

    /// The vocabulary of these captions (every word that occurs `minCount` times or more).
    public init(training captions: [String], length: Int = 40, minCount: Int = 1) {
        var counts: [String: Int] = [:]
        for c in captions { for w in TextTokenizer.split(c) { counts[w, default: 0] += 1 } }
        self.init(words: counts.filter { $0.value >= minCount }.map(\.key), length: length)
    }

    /// Ids 0..<vocabularySize (padding included).
    public var vocabularySize: Int { words.count + 1 }

    /// The words of a text: lower-cased runs of letters and digits.
    public static func split(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    public struct Encoded: Equatable, Sendable {
        /// `length` ids: the known words in order, then padding.
        public var ids: [Int32]
        /// Words not in the vocabulary, in the order they came (left out of `ids`).
        public var unknown: [String]
        /// Known words cut because the text had more than `length`.
        public var truncated: Int
    }

    public func encode(_ text: String) -> Encoded {
        let map = index
        var ids: [Int32] = [], unknown: [String] = []
        for w in TextTokenizer.split(text) {
            if let id = map[w] { ids.append(id) } else { unknown.append(w) }
        }
        let truncated = max(0, ids.count - length)
        ids = Array(ids.prefix(length)) + [Int32](repeating: TextTokenizer.padding, count: max(0, length - ids.count))
        return Encoded(ids: ids, unknown: unknown, truncated: truncated)
    }

    /// The empty caption: all padding, what classifier-free guidance's unconditional branch sees.
    public var empty: [Int32] { [Int32](repeating: TextTokenizer.padding, count: length) }

    public func decode(_ ids: [Int32]) -> String {
        ids.filter { $0 > 0 && Int($0) <= words.count }.map { words[Int($0) - 1] }.joined(separator: " ")
    }

    public var json: String { canonicalJSON(self) }

    public init(json: String) throws {
        let t = try JSONDecoder().decode(TextTokenizer.self, from: Data(json.utf8))
        guard (1...1024).contains(t.length), t.words.count < 65536 else { throw ModelError.badConfig("text tokenizer: bad length or vocabulary") }
        self = t
    }
}
