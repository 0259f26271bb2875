import VigilHDF5

/// Reading a detector from an HDF5 snapshot, checking every value a hostile file could get wrong.
struct DetectorContents {
    let root: HDF5Snapshot.Group
    let path: String

    /// Largest class count, embedding width and kNN k accepted.
    static let maximumClasses = 1 << 20, maximumDimension = 1 << 16, maximumCount = 1 << 40

    func fail(_ reason: String) -> DetectorError { .invalidFile(path: path, reason: reason) }

    func string(_ name: String, in group: HDF5Snapshot.Group? = nil) throws -> String {
        guard let value = try (group ?? root).stringAttribute(name) else { throw fail("missing attribute '\(name)'") }
        return value
    }

    /// A finite number.
    func number(_ name: String, in group: HDF5Snapshot.Group? = nil) throws -> Double {
        let text = try string(name, in: group)
        guard let value = Double(text), value.isFinite else { throw fail("attribute '\(name)' is not a finite number: '\(text.prefix(40))'") }
        return value
    }

    /// A decimal integer in `range`.
    func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int {
        let text = try string(name)
        guard let value = Int(text), range.contains(value) else {
            throw fail("attribute '\(name)' must be an integer in \(range.lowerBound)…\(range.upperBound), not '\(text.prefix(40))'")
        }
        return value
    }

    func doubles(_ name: String, _ shape: [Int]) throws -> [Double] {
        let dataset = try root.dataset(name)
        guard dataset.shape == shape else { throw fail("dataset '\(name)' has shape \(dataset.shape), expected \(shape)") }
        let values = try dataset.readDoubles()
        guard values.allSatisfy(\.isFinite) else { throw fail("dataset '\(name)' holds NaN or infinite values") }
        return values
    }

    func detector() throws -> Detector {
        guard root.hasAttribute("format"), try string("format") == DetectorFile.formatName else {
            throw fail("not a Vigil detector file (an HDF5 file without format = \(DetectorFile.formatName))")
        }
        let version = try string("format_version")
        guard version == DetectorFile.formatVersion || version == "1" else { throw fail("unsupported detector format version '\(version.prefix(40))'") }
        let c = try integer("class_count", 1...Self.maximumClasses), n = try integer("dimension", 1...Self.maximumDimension)
        let counts = try string("counts").split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            guard let count = Int(part), (1...Self.maximumCount).contains(count) else { throw fail("attribute 'counts' holds '\(part.prefix(40))', not a class size") }
            return count
        }
        guard counts.count == c else { throw fail("attribute 'counts' does not list \(c) classes") }
        let meansFlat = try doubles("means", [c, n])
        let training = try trainingEmbeddings(count: counts.reduce(0, +), dimension: n)
        let settings = ScorerSettings(
            knnK: try integer("knn_k", 1...max(1, training.map { $0.count / n } ?? Self.maximumClasses)),
            mahalanobisRidge: try nonNegative("mahalanobis_ridge"),
            energyTemperature: try positive("energy_temperature"), odinTemperature: try positive("odin_temperature"))
        var tpr: Double?
        if root.hasAttribute("calibration_tpr") {
            tpr = try number("calibration_tpr")
            guard tpr! > 0, tpr! <= 1 else { throw fail("attribute 'calibration_tpr' must be in (0, 1]") }
        }
        var detector = Detector(
            dimension: n, means: (0..<c).map { Array(meansFlat[($0 * n)..<(($0 + 1) * n)]) }, counts: counts,
            spread: try doubles("spread", [c]), covariance: try doubles("covariance", [n, n]),
            ridge: try nonNegative("ridge"), precision: try doubles("precision", [n, n]),
            normalizedTraining: training, settings: settings, thresholds: try thresholds(),
            calibrationTPR: tpr, model: try binding(version: version))
        if root.hasAttribute("classifier_sha256") { detector.classifierSHA256 = try hash("classifier_sha256") }
        return detector
    }

    private func trainingEmbeddings(count: Int, dimension n: Int) throws -> [Float]? {
        guard root.contains("training_embeddings") else { return nil }
        let dataset = try root.dataset("training_embeddings")
        guard dataset.shape == [count, n] else {
            throw fail("training_embeddings has shape \(dataset.shape), expected [\(count), \(n)] (the class counts' sum by the width)")
        }
        let values = try dataset.readFloats()
        guard values.allSatisfy(\.isFinite) else { throw fail("dataset 'training_embeddings' holds NaN or infinite values") }
        return values
    }

    private func thresholds() throws -> [String: Double] {
        guard root.contains("thresholds") else { return [:] }
        let group = try root.group("thresholds")
        var thresholds: [String: Double] = [:]
        for name in group.attributeNames() {
            guard Scorer(rawValue: name) != nil else { throw fail("threshold for an unknown scorer '\(name.prefix(40))'") }
            thresholds[name] = try number(name, in: group)
        }
        return thresholds
    }

    private func binding(version: String) throws -> ModelBinding? {
        guard root.hasAttribute("model_sha256") else { return nil }
        return ModelBinding(
            sha256: try hash("model_sha256"), inputName: try string("input_name"),
            outputName: try string("embedding_output"), preprocessing: try preprocessing(version: version))
    }

    private func hash(_ name: String) throws -> String {
        let value = try string(name)
        guard value.count == 64, value.allSatisfy({ $0.isHexDigit }) else { throw fail("attribute '\(name)' is not a SHA-256 in hex") }
        return value.lowercased()
    }

    func positive(_ name: String) throws -> Double {
        let value = try number(name)
        guard value > 0 else { throw fail("attribute '\(name)' must be positive") }
        return value
    }

    private func nonNegative(_ name: String) throws -> Double {
        let value = try number(name)
        guard value >= 0 else { throw fail("attribute '\(name)' must be ≥ 0") }
        return value
    }
}
