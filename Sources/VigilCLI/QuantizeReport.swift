import Foundation
import VigilQuantizer

/// What `vigil quantize` prints: what was quantized, how, the parity with the float model, and the file.
struct QuantizeReport {
    let model: String
    let output: String
    let options: QuantizationOptions
    let outcome: Quantizer.Outcome
    let calibrationSamples: Int?
    let validationSamples: Int?
    let validationFiles: [String]
    let maxError: Double?
    var bytes: Int?
    var floatBytes: Int?

    /// One line: the form written (also stored in the model's metadata as `vigil:quantization`).
    var summary: String {
        let nodes = "\(outcome.quantized.count) of \(outcome.quantized.count + outcome.skipped.count + outcome.autoExcluded.count) Conv/Gemm/MatMul nodes"
        if options.weightsOnly {
            return "\(nodes): int8 weights per output channel, activations quantized at run time (dynamic, uint8)"
        }
        return "\(nodes): int8 weights per output channel, \(options.activationType) activations per tensor (QDQ), \(options.method) calibration on \(calibrationSamples ?? 0) samples"
    }

    /// Nodes left in float, with the reason.
    var keptInFloat: [(name: String, reason: String)] {
        outcome.skipped + outcome.autoExcluded.map { ($0.name, "--auto-exclude (largest output error \(ParityReport.number($0.maxError)) before)") }
    }

    var text: String {
        var lines = ["quantized \(model): \(summary)"]
        if !keptInFloat.isEmpty {
            lines.append("  kept in float: " + keptInFloat.map { "\($0.name) (\($0.reason))" }.joined(separator: ", "))
        }
        if outcome.parity.isEmpty {
            lines.append("  parity: not measured (no validation samples)")
        } else {
            let on = validationFiles.joined(separator: ", ")
            lines.append("  against the float model on \(validationSamples ?? 0) samples (\(on))" + (maxError.map { ", budget: max abs error \(ParityReport.number($0))" } ?? "") + ":")
            lines.append("    " + "output".padding(24) + "max abs".padding(12) + "mean abs".padding(12) + "cosine mean".padding(13) + "cosine min".padding(12) + "top-1")
            for p in outcome.parity {
                let top1 = p.top1Agreement.map { String(format: "%.2f%% (%d/%d)", 100 * $0, p.top1Agreeing ?? 0, p.samples) } ?? "-"
                lines.append("    " + p.output.padding(24) + ParityReport.number(p.maxAbsoluteError).padding(12) + ParityReport.number(p.meanAbsoluteError).padding(12)
                             + String(format: "%.6f", p.meanCosine).padding(13) + String(format: "%.6f", p.minCosine).padding(12) + top1)
            }
        }
        if let bytes {
            var line = "wrote \(output) (\(byteString(bytes))"
            if let floatBytes, floatBytes > 0 { line += String(format: ", %.1f%% of the float model's %@", 100 * Double(bytes) / Double(floatBytes), byteString(floatBytes)) }
            lines.append(line + ")")
        }
        return lines.joined(separator: "\n")
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "model": model, "mode": options.weightsOnly ? "weights-only" : "static",
            "activation_type": options.weightsOnly ? "uint8" : options.activationType.rawValue,
            "method": options.weightsOnly ? NSNullValue.null : options.method.description,
            "calibration_samples": calibrationSamples ?? 0, "validation_samples": outcome.parity.isEmpty ? 0 : (validationSamples ?? 0),
            "quantized": outcome.quantized.map(\.name),
            "kept_float": keptInFloat.map { ["name": $0.name, "reason": $0.reason] },
            "auto_excluded": outcome.autoExcluded.map { ["name": $0.name, "max_error_before": JSONOutput.number($0.maxError)] as [String: Any] },
            "outputs": outcome.parity.map { p -> [String: Any] in
                ["output": p.output, "samples": p.samples, "max_abs": JSONOutput.number(p.maxAbsoluteError), "mean_abs": JSONOutput.number(p.meanAbsoluteError),
                 "mean_cosine": JSONOutput.number(p.meanCosine), "min_cosine": JSONOutput.number(p.minCosine),
                 "top1_agreement": p.top1Agreement.map { $0 as Any } ?? NSNullValue.null]
            },
            "max_error": maxError.map { $0 as Any } ?? NSNullValue.null, "within_budget": outcome.withinBudget,
        ]
        if let bytes {
            object["output"] = output
            object["bytes"] = bytes
            object["float_bytes"] = floatBytes ?? 0
        }
        return object
    }
}
