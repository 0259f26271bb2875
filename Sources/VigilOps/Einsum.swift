import VigilIR

/// Einsum: an equation such as `bij,bjk->bik` over the inputs' axes. `...` stands for the same
/// broadcast leading axes in every term; without `->` the output holds the ellipsis axes, then the
/// labels that appear once, in alphabetical order.
public enum Einsum {
    static var descriptors: [OpDescriptor] {
        [OpDescriptor("Einsum", inputs: 1...Int.max, since: 12, attributes: [.required("equation", .string)], infer: infer)]
    }

    /// A parsed equation, resolved against the inputs' ranks: every axis is a label (an integer;
    /// ellipsis axes get labels of their own).
    public struct Equation: Sendable, Equatable {
        /// Labels of each input's axes.
        public var inputs: [[Int]]
        /// Labels of the output's axes.
        public var output: [Int]
        /// Labels summed over (in some input, not in the output).
        public var summed: [Int]

        /// Parses `equation` for inputs of the given ranks.
        public init(_ equation: String, ranks: [Int], error: (String) -> OpError) throws(OpError) {
            let text = equation.filter { !$0.isWhitespace }
            let parts = text.components(separatedBy: "->")
            guard parts.count <= 2 else { throw error("the equation '\(equation)' has more than one '->'") }
            let terms = parts[0].components(separatedBy: ",")
            guard terms.count == ranks.count else { throw error("the equation '\(equation)' has \(terms.count) operands for \(ranks.count) inputs") }
            var ellipsisRank = 0
            var termLetters: [[Int]] = [], extras: [Int] = []
            for (term, rank) in zip(terms, ranks) {
                let letters = try Self.letters(term, equation: equation, error: error)
                let hasEllipsis = term.contains("...")
                let extra = rank - letters.count
                guard hasEllipsis ? extra >= 0 : extra == 0 else {
                    throw error("operand '\(term)' of '\(equation)' does not fit an input of rank \(rank)")
                }
                ellipsisRank = max(ellipsisRank, extra)
                termLetters.append(letters)
                extras.append(extra)
            }
            var parsed: [[Int]] = []
            for (index, term) in terms.enumerated() {
                parsed.append(Self.expand(term, letters: termLetters[index], ellipsisAxes: extras[index], of: ellipsisRank))
            }
            inputs = parsed
            let ellipsisLabels = (0..<ellipsisRank).map { 1000 + $0 }
            if parts.count == 2 {
                let letters = try Self.letters(parts[1], equation: equation, error: error)
                guard Set(letters).count == letters.count else { throw error("the output of '\(equation)' repeats a label") }
                let all = Set(parsed.joined())
                for label in letters where !all.contains(label) { throw error("the output label '\(Character(UnicodeScalar(label)!))' of '\(equation)' is in no operand") }
                output = parts[1].contains("...") ? Self.expand(parts[1], letters: letters, ellipsisAxes: ellipsisRank, of: ellipsisRank) : letters
            } else {
                var counts: [Int: Int] = [:]
                for label in parsed.joined() where label < 1000 { counts[label, default: 0] += 1 }
                output = ellipsisLabels + counts.filter { $0.value == 1 }.keys.sorted()
            }
            summed = Array(Set(parsed.joined()).subtracting(output)).sorted()
        }

        /// The letters of a term (ellipsis removed), as Unicode scalar values.
        static func letters(_ term: String, equation: String, error: (String) -> OpError) throws(OpError) -> [Int] {
            let stripped = term.replacingOccurrences(of: "...", with: "")
            var labels: [Int] = []
            for scalar in stripped.unicodeScalars {
                guard (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") else {
                    throw error("'\(equation)' has the invalid label '\(scalar)'")
                }
                labels.append(Int(scalar.value))
            }
            return labels
        }

        /// A term's labels with its ellipsis expanded to the last `ellipsisAxes` of the `total` ellipsis
        /// labels (aligned to the right, as broadcasting aligns them).
        static func expand(_ term: String, letters: [Int], ellipsisAxes: Int, of total: Int) -> [Int] {
            guard let range = term.range(of: "...") else { return letters }
            let before = term[..<range.lowerBound].unicodeScalars.count
            return Array(letters[..<before]) + ((total - ellipsisAxes)..<total).map { 1000 + $0 } + Array(letters[before...])
        }

        /// Each label's size (broadcasting sizes of 1 against others), or an error on a mismatch.
        public func sizes(_ shapes: [[Dim]], error: (String) -> OpError) throws(OpError) -> [Int: Dim] {
            var sizes: [Int: Dim] = [:]
            for (labels, dims) in zip(inputs, shapes) {
                for (label, dim) in zip(labels, dims) {
                    guard let known = sizes[label] else { sizes[label] = dim; continue }
                    guard let merged = broadcastDims(known, dim) else {
                        throw error("label sizes disagree: \(known) vs \(dim)")
                    }
                    // Repeated letters (not ellipsis axes) must match exactly.
                    if label < 1000, let a = known.value, let b = dim.value, a != b { throw error("label sizes disagree: \(a) vs \(b)") }
                    sizes[label] = merged
                }
            }
            return sizes
        }
    }

    static func infer(_ c: OpContext) throws(OpError) -> [InferredOutput] {
        let dtype = try c.sameType(Array(c.node.inputs.indices))
        guard TypeSets.numeric.contains(dtype) else { throw c.error("unsupported type \(dtype)") }
        var shapes: [[Dim]] = []
        for i in c.node.inputs.indices { shapes.append(try c.input(i).shape.dims) }
        let equation = try Equation(try c.string("equation"), ranks: shapes.map(\.count)) { c.error($0, subject: "equation") }
        let sizes = try equation.sizes(shapes) { c.error($0, subject: "equation") }
        return [InferredOutput(TensorType(dtype, Shape(equation.output.map { sizes[$0] ?? .unknown })))]
    }
}
