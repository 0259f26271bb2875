import VigilBLAS
import XCTest

/// Vigil's vectorized arithmetic over contiguous runs against scalar references, on every instruction set.
final class VectorMathTests: XCTestCase {
    /// Per-channel scale and shift (BatchNormalization's kernel): planes of 1 to 70 floats (vector
    /// bodies, unrolled steps and masked tails), a plane range starting mid-batch, in place, with NaN and
    /// infinity passing through; against x · a + b in double precision, rounded once.
    func testScaleShiftPlanesMatchesTheDefinition() {
        PackedGEMMTests.forEachInstructionSet { isa in
            for size in [1, 7, 16, 17, 33, 64, 70] {
                let channels = 3, planes = 2 * channels
                var x = BLASTests.values(planes * size, seed: UInt64(size))
                x[0] = .nan
                x[x.count - 1] = .infinity
                let scale = BLASTests.values(channels, seed: 91), shift = BLASTests.values(channels, seed: 92)
                var y = [Float](repeating: -7, count: x.count)
                let begin = 1
                VectorMath.scaleShiftPlanes(x, &y, planes: begin..<planes, size: size, channels: channels, scale: scale, shift: shift)
                for i in 0..<x.count {
                    let p = i / size, c = p % channels
                    guard p >= begin else { XCTAssertEqual(y[i], -7, "\(isa): plane \(p) is outside the range"); continue }
                    let want = Float(Double(x[i]) * Double(scale[c]) + Double(shift[c]))
                    if want.isNaN { XCTAssertTrue(y[i].isNaN, "\(isa) size \(size) at \(i)"); continue }
                    XCTAssertEqual(y[i], want, "\(isa) size \(size) at \(i)")
                }
                var whole = [Float](repeating: 0, count: x.count), inPlace = x
                VectorMath.scaleShiftPlanes(x, &whole, planes: 0..<planes, size: size, channels: channels, scale: scale, shift: shift)
                inPlace.withUnsafeMutableBufferPointer { b in
                    VectorMath.scaleShiftPlanes(b.baseAddress!, b.baseAddress!, planes: 0..<planes, size: size, channels: channels, scale: scale, shift: shift)
                }
                XCTAssertEqual(inPlace.map(\.bitPattern), whole.map(\.bitPattern), "\(isa) size \(size): in place")
            }
        }
    }
}
