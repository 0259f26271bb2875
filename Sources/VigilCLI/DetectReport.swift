import Foundation
import VigilDetector

/// The self-contained HTML report of `vigil detect evaluate`: the metrics table, ROC curves and
/// score histograms as inline SVG (no scripts, no external files).
enum DetectReport {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    static func html(
        title: String, inName: String, setNames: [String], scorers: [Scorer], scores: [Scorer: [[Double]]],
        table: [(set: String, scorer: Scorer, metrics: DetectionMetrics)], warnings: [String] = []
    ) -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        for warning in warnings { body += "<p class=\"warning\"><strong>Warning:</strong> \(escape(warning))</p>\n" }
        body += "<p>In-distribution is the positive class; scores are higher = more out-of-distribution.</p>\n"
        body += "<table><tr><th>set</th><th>scorer</th><th>FPR at 95% TPR</th><th>detection error</th><th>AUROC</th><th>AUPR-In</th><th>AUPR-Out</th></tr>\n"
        for row in table {
            let m = row.metrics
            body += "<tr><td>\(escape(row.set))</td><td>\(row.scorer.rawValue)</td>"
                + [m.fprAt95TPR, m.detectionError, m.auroc, m.auprIn, m.auprOut].map { String(format: "<td>%.4f</td>", $0) }.joined()
                + "</tr>\n"
        }
        body += "</table>\n"
        for scorer in scorers {
            guard let perSet = scores[scorer] else { continue }
            body += "<h2>\(scorer.rawValue)</h2>\n<div class=\"row\">\n"
            let curves = setNames.indices.map { i in
                ROC.curve(positive: perSet[0].map { -$0 }, negative: perSet[i + 1].map { -$0 })
            }
            body += rocSVG(curves: curves, names: setNames)
            body += histogramSVG(values: perSet, names: [inName] + setNames)
            body += "</div>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            td:nth-child(-n+2), th { text-align: left; } .warning { background: #fff3cd; border: 1px solid #e0b000; padding: 6px 10px; } .row { display: flex; gap: 2em; flex-wrap: wrap; }
            svg text { font-size: 11px; }
            </style></head><body>
            \(body)</body></html>

            """
    }

    /// ROC curves (FPR on x, TPR on y) for each OOD set against the in-distribution set.
    static func rocSVG(curves: [(fpr: [Double], tpr: [Double])], names: [String]) -> String {
        let size = 300.0, pad = 40.0
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size + 2 * pad))\" height=\"\(Int(size + 2 * pad))\">"
        svg += "<text x=\"\(pad)\" y=\"15\">ROC (in-distribution positive)</text>"
        svg += "<rect x=\"\(pad)\" y=\"\(pad)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(pad)\" y1=\"\(pad + size)\" x2=\"\(pad + size)\" y2=\"\(pad)\" stroke=\"#ccc\" stroke-dasharray=\"4\"/>"
        svg += "<text x=\"\(pad + size / 2 - 10)\" y=\"\(pad + size + 28)\">FPR</text><text x=\"5\" y=\"\(pad + size / 2)\">TPR</text>"
        svg += "<text x=\"\(pad - 4)\" y=\"\(pad + size + 14)\">0</text><text x=\"\(pad + size - 4)\" y=\"\(pad + size + 14)\">1</text>"
        svg += "<text x=\"\(pad - 14)\" y=\"\(pad + 4)\">1</text>"
        for (index, curve) in curves.enumerated() {
            let i = index + 1  // colour 0 is the in-distribution set in the histograms
            let points = zip(curve.fpr, curve.tpr).map { String(format: "%.1f,%.1f", pad + $0 * size, pad + size - $1 * size) }
            svg += "<polyline fill=\"none\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            svg += "<text x=\"\(pad + size - 90)\" y=\"\(pad + size - 10 - Double(curves.count - i) * 14)\" fill=\"\(colors[i % colors.count])\">\(escape(names[index]))</text>"
        }
        return svg + "</svg>\n"
    }

    /// Histograms of the scores of every set (normalized to density), on shared bins between the 1st and 99th percentile.
    static func histogramSVG(values: [[Double]], names: [String]) -> String {
        let width = 420.0, height = 300.0, pad = 40.0, bins = 40
        let all = values.flatMap { $0 }.filter(\.isFinite).sorted()
        guard !all.isEmpty else { return "" }
        let low = all[Int(Double(all.count - 1) * 0.01)], high = all[Int(Double(all.count - 1) * 0.99)]
        let span = high > low ? high - low : 1
        let histograms = values.map { set -> [Double] in
            var counts = [Double](repeating: 0, count: bins)
            for v in set where v.isFinite {
                let b = min(bins - 1, max(0, Int((v - low) / span * Double(bins))))
                counts[b] += 1
            }
            return counts.map { $0 / Double(max(set.count, 1)) }
        }
        let top = max(histograms.flatMap { $0 }.max() ?? 1, 1e-12)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + 2 * pad))\" height=\"\(Int(height + 2 * pad))\">"
        svg += "<text x=\"\(pad)\" y=\"15\">score histograms (fraction of each set per bin)</text>"
        svg += "<rect x=\"\(pad)\" y=\"\(pad)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#888\"/>"
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">%.4g</text>", pad, pad + height + 16, low)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.4g</text>", pad + width, pad + height + 16, high)
        for (i, h) in histograms.enumerated() {
            var points = ["\(pad),\(pad + height)"]
            for (b, value) in h.enumerated() {
                let x0 = pad + Double(b) / Double(bins) * width, x1 = pad + Double(b + 1) / Double(bins) * width
                let y = pad + height - value / top * height
                points.append(String(format: "%.1f,%.1f %.1f,%.1f", x0, y, x1, y))
            }
            points.append("\(pad + width),\(pad + height)")
            svg += "<polyline fill=\"none\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            svg += "<text x=\"\(pad + width - 100)\" y=\"\(pad + 14 + Double(i) * 14)\" fill=\"\(colors[i % colors.count])\">\(escape(names[i]))</text>"
        }
        return svg + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
