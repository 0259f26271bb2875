/// One dimension of a tensor type: a known size, a named symbol such as a batch dim `N`, or unknown.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)
    case unknown

    /// The size when it is known.
    public var value: Int? {
        if case .fixed(let size) = self { return size }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let size): String(size)
        case .symbolic(let name): name
        case .unknown: "?"
        }
    }
}

/// The shape of a tensor type: a list of dims, any of which may be symbolic.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }

    /// A fully known shape.
    public init(static sizes: [Int]) { self.dims = sizes.map(Dim.fixed) }

    public init(arrayLiteral elements: Dim...) { self.dims = elements }

    public var rank: Int { dims.count }

    /// The sizes when every dim is known.
    public var staticSizes: [Int]? {
        var sizes: [Int] = []
        sizes.reserveCapacity(dims.count)
        for dim in dims {
            guard let size = dim.value else { return nil }
            sizes.append(size)
        }
        return sizes
    }

    /// The symbols this shape mentions, in order.
    public var symbols: [String] {
        dims.compactMap { if case .symbolic(let name) = $0 { return name } else { return nil } }
    }

    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }
}

/// Element count of a static shape, or `nil` when a size is negative or the product overflows `Int`.
public func checkedElementCount(_ sizes: [Int]) -> Int? {
    var count = 1
    for size in sizes {
        guard size >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { return nil }
        count = product
    }
    return count
}
