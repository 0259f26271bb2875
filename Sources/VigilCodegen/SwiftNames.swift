/// Turning a model's value names (`input.1`, `0`, `images:0`, `conv_W`) into idiomatic Swift
/// identifiers, and checking user-given names.
public enum SwiftNames {
    /// Swift's reserved words: a value named like one is escaped with backticks.
    public static let keywords: Set<String> = [
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate", "func", "import",
        "init", "inout", "internal", "let", "nonisolated", "open", "operator", "private", "precedencegroup", "protocol",
        "public", "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
        "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try",
        "_", "Type", "Protocol", "some", "any", "async",
    ]

    /// Words that backticks do not make usable as a member or parameter name; they get a `Value` suffix.
    static let unusable: Set<String> = ["self", "Self", "super", "init", "deinit", "subscript", "Type", "Protocol", "_"]

    /// Whether `name` is a plain Swift identifier made of ASCII letters, digits and underscores,
    /// not starting with a digit, and not a reserved word.
    public static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" } && !keywords.contains(name)
    }

    /// A lowerCamelCase identifier for a value name: the ASCII letters and digits, split into words
    /// wherever something else stands (`input.1` → `input1`, `images:0` → `images0`, `conv_W` →
    /// `convW`, `RGBImage` → `rgbImage`). A name without letters or starting with a digit is prefixed
    /// with `role` (`0` → `input0`); an empty result is `role`. Reserved words stay as they are (see ``escaped(_:)``).
    public static func lowerCamel(_ raw: String, role: String) -> String {
        let words = raw.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.map(String.init)
        guard let head = words.first else { return role }
        var result = lowerFirstWord(head)
        for word in words.dropFirst() { result += word.prefix(1).uppercased() + word.dropFirst() }
        if let first = result.unicodeScalars.first, first.isASCIIDigit { result = role + result }
        return unusable.contains(result) ? result + "Value" : result
    }

    /// The identifier with backticks when it is a reserved word, as declarations and references need it.
    public static func escaped(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// `X` → `x`, `RGB` → `rgb`, `RGBImage` → `rgbImage`, `Conv` → `conv`, `outFloat32` unchanged.
    static func lowerFirstWord(_ word: String) -> String {
        let characters = Array(word)
        let upper = characters.prefix { $0.isUppercase }.count
        switch upper {
        case 0: return word
        case characters.count: return word.lowercased()
        case 1: return characters[0].lowercased() + String(characters.dropFirst())
        default: return String(characters[..<(upper - 1)]).lowercased() + String(characters[(upper - 1)...])
        }
    }
}

/// Unique identifiers within one scope: the first claim of a name gets it, later ones get `_2`, `_3`, ….
public struct IdentifierScope {
    private var used: Set<String>

    /// A scope in which `reserved` are already taken.
    public init(reserved: Set<String> = []) {
        used = reserved
    }

    /// `base`, or `base_2`, `base_3`, … when taken; the result is taken from now on.
    public mutating func claim(_ base: String) -> String {
        var candidate = base
        var suffix = 2
        while used.contains(candidate) {
            candidate = "\(base)_\(suffix)"
            suffix += 1
        }
        used.insert(candidate)
        return candidate
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
