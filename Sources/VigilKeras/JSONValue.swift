import Foundation

/// A parsed JSON value (Keras configs are JSON).
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses JSON text.
    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self, let value = object[key], value != .null { return value }
        return nil
    }

    var string: String? { if case .string(let value) = self { return value } else { return nil } }
    var double: Double? { if case .number(let value) = self { return value } else { return nil } }
    var int: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }
    var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    var array: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let value) = self { return value } else { return nil } }

    /// An int, or the ints of an array (nulls become `nil`).
    var optionalInts: [Int?]? {
        if let value = int { return [value] }
        return array?.map { $0.int }
    }

    /// An int or an array of ints.
    var ints: [Int]? {
        guard let values = optionalInts, !values.contains(where: { $0 == nil }) else { return nil }
        return values.map { $0! }
    }

    /// A number or an array of numbers.
    var doubles: [Double]? {
        if let value = double { return [value] }
        guard let values = array?.map(\.double), !values.contains(where: { $0 == nil }) else { return nil }
        return values.map { $0! }
    }
}
