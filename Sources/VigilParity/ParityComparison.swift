import VigilIR

/// How two tensors differ, as `vigil parity` reports it.
///
/// An element fails when |a − b| > atol + rtol·|b|, where b is the reference. NaN matches only
/// NaN; an infinity matches only the same infinity. Relative error is |a − b| / |b|, infinite
/// when b is 0 and a is not. String tensors must be equal element by element.
public struct ParityComparison: Sendable, Equatable {
    /// Number of elements compared.
    public var elements: Int
    public var maxAbsoluteError: Double
    public var maxRelativeError: Double
    /// Mean absolute error over the elements that are finite in both tensors.
    public var meanAbsoluteError: Double
    /// Elements outside tolerance (NaN/Inf mismatches included).
    public var mismatches: Int
    /// NaN or infinity in one tensor where the other has something else.
    public var nonFiniteMismatches: Int
    /// Flat index, actual and expected value of the element closest to (or furthest past) its tolerance.
    public var worst: (index: Int, actual: Double, expected: Double)?
    /// Set when the tensors cannot be compared at all (dtype or shape differ).
    public var incompatibility: String?

    public var passed: Bool { incompatibility == nil && mismatches == 0 }

    public static func == (lhs: ParityComparison, rhs: ParityComparison) -> Bool {
        lhs.elements == rhs.elements && lhs.maxAbsoluteError == rhs.maxAbsoluteError
            && lhs.maxRelativeError == rhs.maxRelativeError && lhs.meanAbsoluteError == rhs.meanAbsoluteError
            && lhs.mismatches == rhs.mismatches && lhs.nonFiniteMismatches == rhs.nonFiniteMismatches
            && lhs.worst?.index == rhs.worst?.index && lhs.incompatibility == rhs.incompatibility
    }

    /// Compares `actual` with the reference `expected`.
    public static func compare(_ actual: Tensor, _ expected: Tensor, atol: Double, rtol: Double) -> ParityComparison {
        var result = ParityComparison(
            elements: 0, maxAbsoluteError: 0, maxRelativeError: 0, meanAbsoluteError: 0, mismatches: 0,
            nonFiniteMismatches: 0, worst: nil, incompatibility: nil)
        guard actual.shape == expected.shape else {
            result.incompatibility = "shape \(actual.shape) but the reference is \(expected.shape)"
            return result
        }
        if let a = actual.strings, let b = expected.strings {
            // Strings compare exactly; the numeric error fields stay 0.
            result.elements = a.count
            for index in a.indices where a[index] != b[index] {
                result.mismatches += 1
                if result.worst == nil { result.worst = (index, .nan, .nan) }
            }
            return result
        }
        guard let a = actual.numericValues, let b = expected.numericValues else {
            result.incompatibility = "cannot compare \(actual.dtype) with \(expected.dtype)"
            return result
        }
        result.elements = a.count
        var sum = 0.0
        var worstExcess = -Double.infinity
        var finiteCount = 0
        for index in a.indices {
            let x = a[index], y = b[index]
            let excess: Double
            if !x.isFinite || !y.isFinite {
                guard !((x.isNaN && y.isNaN) || x == y) else { continue }
                result.mismatches += 1
                result.nonFiniteMismatches += 1
                result.maxAbsoluteError = .infinity
                result.maxRelativeError = .infinity
                excess = .infinity
            } else {
                let difference = abs(x - y)
                sum += difference
                finiteCount += 1
                result.maxAbsoluteError = max(result.maxAbsoluteError, difference)
                let relative = y == 0 ? (difference == 0 ? 0 : .infinity) : difference / abs(y)
                result.maxRelativeError = max(result.maxRelativeError, relative)
                excess = difference - (atol + rtol * abs(y))
                if excess > 0 { result.mismatches += 1 }
            }
            if excess > worstExcess {
                worstExcess = excess
                result.worst = (index, x, y)
            }
        }
        result.meanAbsoluteError = finiteCount == 0 ? 0 : sum / Double(finiteCount)
        return result
    }
}

extension Tensor {
    /// Elements as Double for real, integer and bool types; `nil` for others.
    public var numericValues: [Double]? {
        switch dtype {
        case .float32: scalars(as: Float.self).map(Double.init)
        case .float64: scalars(as: Double.self)
        case .float16: scalars(as: UInt16.self).map(halfBitsToDouble)
        case .bfloat16: scalars(as: UInt16.self).map { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .int8: scalars(as: Int8.self).map(Double.init)
        case .int16: scalars(as: Int16.self).map(Double.init)
        case .int32: scalars(as: Int32.self).map(Double.init)
        case .int64: scalars(as: Int64.self).map(Double.init)
        case .uint8, .bool: scalars(as: UInt8.self).map(Double.init)
        case .uint16: scalars(as: UInt16.self).map(Double.init)
        case .uint32: scalars(as: UInt32.self).map(Double.init)
        case .uint64: scalars(as: UInt64.self).map(Double.init)
        case .int4, .uint4, .int2, .uint2: packedIntegers?.map(Double.init)
        default: nil
        }
    }
}

/// IEEE 754 binary16 bits as Double.
func halfBitsToDouble(_ bits: UInt16) -> Double {
    let sign: Double = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1f)
    let fraction = Double(bits & 0x3ff)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
