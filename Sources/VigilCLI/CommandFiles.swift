import Foundation
import VigilFiles

/// The files this run of `vigil` reads, which none of its outputs may replace, and the checks on
/// its output paths.
///
/// Every reader call in the commands records what it reads here (the model, its external data
/// files, Keras configs, `.npy`/`.npz` inputs, references, detectors); every writer is given this
/// set. Commands also call ``checkOutputs(_:inputs:)`` first, so that a bad output path is refused
/// before any work is done.
enum CommandFiles {
    /// The inputs read so far.
    static let inputs = InputFiles()

    /// Refuses, before anything is read or computed, output paths that are symlinks, not regular
    /// files, or the same file as one of the input paths named on the command line.
    static func checkOutputs(_ outputs: [String?], inputs paths: [String?]) throws {
        let named = inputs.union(InputFiles(paths.compactMap { $0 }))
        do {
            try OutputFile.checkDestinations(outputs.compactMap { $0 }, protecting: named)
        } catch {
            throw CommandFailure(error.description)
        }
    }

    /// Records a file read outside the readers (hashed, listed, …).
    static func record(_ path: String) { inputs.add(path) }

    /// A writer failure as a one-line command failure.
    static func failure(_ error: OutputError) -> CommandFailure { CommandFailure(error.description) }
}
