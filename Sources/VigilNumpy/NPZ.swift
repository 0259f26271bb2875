import Foundation
import VigilFiles
import VigilIR

/// NumPy `.npz` archives: a zip file of `.npy` members, stored or deflated, keyed by member name
/// without the `.npy` suffix.
///
/// Reading treats the archive as hostile (`ZipInput`): members are checked against their
/// declared sizes and CRC-32, may not expand more than 1100:1, and all of them together stay within
/// a byte budget (by default 96 MiB, or 64× the archive's size for larger archives).
public enum NPZ {
    /// Reads every array of an archive, keyed by name, in archive order.
    /// - Parameters:
    ///   - path: the archive.
    ///   - inputs: when given, the archive is added to it.
    ///   - budget: the most bytes all members may expand to (default: `ZipInput.defaultBudget(archiveSize:)`).
    public static func read(
        at path: String, recordingInputsIn inputs: InputFiles? = nil, budget: Int? = nil
    ) throws(NumpyError) -> [(name: String, tensor: Tensor)] {
        let archive: ZipInput
        do { archive = try ZipInput(path: path, budget: budget) } catch {
            throw NumpyError(file: error.file, reason: error.reason.replacingOccurrences(of: "not a readable zip archive", with: "not a readable .npz (zip) archive"))
        }
        inputs?.add(path)
        var arrays: [(name: String, tensor: Tensor)] = []
        var names = Set<String>()
        for member in archive.members where member.isFile && member.name.hasSuffix(".npy") {
            let name = String(member.name.dropLast(4))
            guard names.insert(name).inserted else { throw NumpyError(file: path, reason: "holds two arrays named '\(name)'") }
            let data: Data
            do { data = try archive.data(of: member.name)! } catch { throw NumpyError(file: error.file, reason: error.reason) }
            arrays.append((name, try NPY.decode(data, file: "\(path):\(member.name)")))
        }
        return arrays
    }

    /// Writes arrays to an uncompressed archive through `OutputFile` (whole or not at all,
    /// never over a symlink, a non-regular file or one of `inputs`).
    public static func write(
        _ arrays: [(name: String, tensor: Tensor)], to path: String, protecting inputs: InputFiles = InputFiles()
    ) throws(NumpyError) {
        func fail(_ error: OutputError) -> NumpyError { NumpyError(file: error.path, reason: error.reason) }
        let archive: ZipOutput
        do { archive = try ZipOutput(path, protecting: inputs) } catch { throw fail(error) }
        for (name, tensor) in arrays {
            let data: Data
            do { data = try NPY.encode(tensor) } catch { throw NumpyError(file: path, reason: "array '\(name)': \(error.reason)") }
            do { try archive.add(name + ".npy", data) } catch { throw fail(error) }
        }
        do { try archive.commit() } catch { throw fail(error) }
    }
}
