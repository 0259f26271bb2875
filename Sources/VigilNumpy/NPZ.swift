import Foundation
import VigilIR
import ZIPFoundation

/// NumPy `.npz` archives: a zip file of `.npy` members, stored or deflated, keyed by member name
/// without the `.npy` suffix.
public enum NPZ {
    /// Largest accepted ratio of uncompressed to compressed size for a member (zip-bomb guard).
    static let maximumCompressionRatio: Int64 = 1100

    /// Reads every array of an archive, keyed by name, in archive order.
    public static func read(at path: String) throws(NumpyError) -> [(name: String, tensor: Tensor)] {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw NumpyError(file: path, reason: "not a readable .npz (zip) archive: \(ZIPErrorText.describe(error))")
        }
        var arrays: [(name: String, tensor: Tensor)] = []
        for entry in archive where entry.type == .file {
            let member = entry.path
            guard member.hasSuffix(".npy") else { continue }
            let size = Int64(entry.uncompressedSize)
            guard size <= max(Int64(entry.compressedSize), 1) * maximumCompressionRatio else {
                throw NumpyError(file: "\(path):\(member)", reason: "claims \(size) bytes from \(entry.compressedSize) compressed; refusing a likely zip bomb")
            }
            var data = Data()
            do {
                _ = try archive.extract(entry) { chunk in
                    guard Int64(data.count + chunk.count) <= size else { throw NumpyError(file: path, reason: "member larger than declared") }
                    data.append(chunk)
                }
            } catch let error as NumpyError {
                throw error
            } catch {
                throw NumpyError(file: "\(path):\(member)", reason: "cannot extract: \(ZIPErrorText.describe(error))")
            }
            let tensor = try NPY.decode(data, file: "\(path):\(member)")
            arrays.append((String(member.dropLast(4)), tensor))
        }
        return arrays
    }

    /// Writes arrays to an uncompressed archive atomically (temporary file, then rename).
    public static func write(_ arrays: [(name: String, tensor: Tensor)], to path: String) throws(NumpyError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            for (name, tensor) in arrays {
                let data: Data
                do { data = try NPY.encode(tensor) } catch { throw NumpyError(file: path, reason: "array '\(name)': \(error.reason)") }
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            try AtomicWrite.rename(temporary, to: url)
        } catch let error as NumpyError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw NumpyError(file: path, reason: "cannot write: \(error)")
        }
    }
}
