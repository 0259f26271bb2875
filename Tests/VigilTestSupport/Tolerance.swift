import VigilIR
import XCTest

/// Compares values elementwise: an element fails when |a − b| > atol + rtol·|b| (NaN must match NaN,
/// infinities must match exactly). On failure it reports the count of failing elements and the worst one.
public func assertClose(
    _ actual: [Double], _ expected: [Double], atol: Double, rtol: Double, _ context: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("\(context): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var failures = 0
    var worst: (index: Int, excess: Double)?
    for index in actual.indices {
        let a = actual[index], b = expected[index]
        if a.isNaN || b.isNaN {
            if a.isNaN != b.isNaN { failures += 1; worst = worst ?? (index, .infinity) }
            continue
        }
        if a.isInfinite || b.isInfinite {
            if a != b { failures += 1; worst = (index, .infinity) }
            continue
        }
        let excess = abs(a - b) - (atol + rtol * abs(b))
        if excess > 0 {
            failures += 1
            if worst == nil || excess > worst!.excess { worst = (index, excess) }
        }
    }
    if let worst {
        XCTFail(
            "\(context): \(failures) of \(actual.count) elements outside atol \(atol) + rtol \(rtol); worst at [\(worst.index)]: got \(actual[worst.index]), expected \(expected[worst.index])",
            file: file, line: line)
    }
}

extension Tensor {
    /// The elements as Double, for numeric comparison of any real, integer or bool tensor.
    public var doubleValues: [Double] {
        switch dtype {
        case .float32: scalars(as: Float.self).map(Double.init)
        case .float64: scalars(as: Double.self)
        case .int8: scalars(as: Int8.self).map(Double.init)
        case .int16: scalars(as: Int16.self).map(Double.init)
        case .int32: scalars(as: Int32.self).map(Double.init)
        case .int64: scalars(as: Int64.self).map(Double.init)
        case .uint8, .bool: scalars(as: UInt8.self).map(Double.init)
        case .uint16: scalars(as: UInt16.self).map(Double.init)
        case .uint32: scalars(as: UInt32.self).map(Double.init)
        case .uint64: scalars(as: UInt64.self).map(Double.init)
        case .float16: scalars(as: UInt16.self).map { halfToDouble($0) }
        case .bfloat16: scalars(as: UInt16.self).map { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .int4, .uint4, .int2, .uint2: packedIntegers!.map(Double.init)
        default: preconditionFailure("doubleValues: unsupported dtype \(dtype)")
        }
    }
}

/// IEEE 754 half-precision bits to Double, written out so that it does not depend on Float16 support.
public func halfToDouble(_ bits: UInt16) -> Double {
    let sign: Double = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1f)
    let fraction = Double(bits & 0x3ff)
    switch exponent {
    case 0: return sign * fraction * pow(2, -24)
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * pow(2, Double(exponent - 15))
    }
}

/// Asserts two tensors have the same type and shape and close values.
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, atol: Double, rtol: Double, _ context: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.dtype, expected.dtype, "\(context): dtype", file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, "\(context): shape", file: file, line: line)
    guard actual.dtype == expected.dtype, actual.shape == expected.shape else { return }
    assertClose(actual.doubleValues, expected.doubleValues, atol: atol, rtol: rtol, context, file: file, line: line)
}
