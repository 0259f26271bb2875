/// A value in a `.npy` header dict.
enum HeaderValue: Equatable {
    case string(String)
    case bool(Bool)
    /// A tuple of non-negative integers (the shape).
    case tuple([Int])
    /// A non-negative integer (not a valid value for any of numpy's keys).
    case integer(Int)
}

/// A strict parser for the Python dict literal of a `.npy` header: string keys; values that are
/// strings, `True`/`False`, non-negative integers or tuples of them. Anything else fails (`nil`).
struct HeaderParser {
    let text: [Unicode.Scalar]
    var index = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    /// The whole header: one dict, then only whitespace.
    mutating func dictionary() -> [(key: String, value: HeaderValue)]? {
        skipSpace()
        guard take("{") else { return nil }
        var entries: [(key: String, value: HeaderValue)] = []
        while true {
            skipSpace()
            if take("}") { break }
            guard let key = string() else { return nil }
            skipSpace()
            guard take(":") else { return nil }
            skipSpace()
            guard let value = value() else { return nil }
            entries.append((key, value))
            skipSpace()
            if take(",") { continue }
            skipSpace()
            guard take("}") else { return nil }
            break
        }
        skipSpace()
        return index == text.count ? entries : nil
    }

    private mutating func value() -> HeaderValue? {
        if let string = string() { return .string(string) }
        if take("True") { return .bool(true) }
        if take("False") { return .bool(false) }
        if let number = integer() { return .integer(number) }
        guard take("(") else { return nil }
        var sizes: [Int] = []
        while true {
            skipSpace()
            if take(")") { return .tuple(sizes) }
            guard let size = integer() else { return nil }
            sizes.append(size)
            skipSpace()
            if take(",") { continue }
            skipSpace()
            return take(")") ? .tuple(sizes) : nil
        }
    }

    /// A quoted string without escapes ('…' or "…").
    private mutating func string() -> String? {
        guard index < text.count, text[index] == "'" || text[index] == "\"" else { return nil }
        let quote = text[index]
        var end = index + 1
        while end < text.count, text[end] != quote {
            if text[end] == "\\" { return nil }
            end += 1
        }
        guard end < text.count else { return nil }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: text[(index + 1)..<end])
        index = end + 1
        return String(result)
    }

    /// Decimal digits (Python 2's `L` suffix allowed), at most 18 of them.
    private mutating func integer() -> Int? {
        var digits = 0, value = 0
        while index < text.count, (48...57).contains(text[index].value) {
            guard digits < 18 else { return nil }
            value = value * 10 + Int(text[index].value - 48)
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        _ = take("L")
        return value
    }

    private mutating func take(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        guard index + scalars.count <= text.count, Array(text[index..<index + scalars.count]) == scalars else { return false }
        index += scalars.count
        return true
    }

    private mutating func skipSpace() {
        while index < text.count, text[index] == " " || text[index] == "\n" || text[index] == "\t" || text[index] == "\r" { index += 1 }
    }
}
