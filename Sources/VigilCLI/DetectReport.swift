import Foundation
import VigilDetector

/// The self-contained HTML report of `vigil detect evaluate`: provenance, one sortable metrics table
/// per scorer, ROC curves and score histograms as inline SVG with labelled axes, the calibrated
/// thresholds drawn, a colour-blind-safe palette with a line style per set; one file, no network.
enum DetectReport {
    struct Row {
        var set: String
        var scorer: Scorer
        var metrics: DetectionMetrics
    }

    /// Where every number in the report comes from.
    struct Provenance {
        struct File {
            var role: String
            var path: String
            var sha256: String
        }

        var files: [File]
        var preprocessing: String
        var detector: String
        var version: String
        var date: String
    }

    static func html(
        title: String, inName: String, setNames: [String], scorers: [Scorer], scores: [Scorer: [[Double]]],
        thresholds: [String: Double], table: [Row], provenance: Provenance, warnings: [String] = []
    ) -> String {
        var body = "<header><h1>\(esc(title))</h1>\n<p class=\"lead\">In-distribution is the positive class; every score is higher = more "
            + "out-of-distribution, and a sample is accepted as in-distribution when its score is at most the threshold. "
            + "Click a column heading to sort a table.</p></header>\n"
        for warning in warnings { body += "<p class=\"warning\"><strong>Warning:</strong> \(esc(warning))</p>\n" }
        body += provenanceHTML(provenance)
        body += "<section><h2>All scorers</h2>\n" + tableHTML(table, showScorer: true) + "</section>\n"
        for scorer in scorers {
            guard let perSet = scores[scorer] else { continue }
            let rows = table.filter { $0.scorer == scorer }
            let threshold = thresholds[scorer.rawValue]
            body += "<section class=\"scorer\" id=\"\(scorer.rawValue)\"><h2>\(scorer.rawValue)</h2>\n"
            body += "<p class=\"what\">\(esc(describe(scorer)))"
            body += threshold.map { ". Calibrated threshold: \(format($0))" } ?? ". No calibrated threshold in the detector"
            body += ".</p>\n" + tableHTML(rows, showScorer: false)
            body += "<div class=\"charts\">\n"
            body += rocFigure(perSet: perSet, names: setNames, rows: rows, threshold: threshold)
            body += histogramFigure(values: perSet, names: [inName] + setNames, threshold: threshold)
            body += "</div></section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title))</title>
            <style>\(style)</style></head><body>
            \(body)<script>\(sortScript)</script>
            </body></html>

            """
    }

    static func describe(_ scorer: Scorer) -> String {
        switch scorer {
        case .meanDistance: "Squared Euclidean distance from the embedding to the nearest class mean (Masana et al. 2018)"
        case .mahalanobis: "Mahalanobis distance to the nearest class mean under the tied covariance"
        case .knn: "Distance from the normalized embedding to its k-th nearest normalized training embedding"
        case .maxSoftmax: "Negative maximum softmax probability of the classifier (Hendrycks and Gimpel 2017)"
        case .maxLogit: "Negative maximum logit of the classifier"
        case .energy: "Negative free energy, −T·logsumexp(z/T), of the classifier's logits (Liu et al. 2020)"
        case .odin: "Negative maximum of the temperature-scaled softmax (ODIN, T = 1000, no input perturbation)"
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.6g", value) }

    // MARK: Provenance and tables

    static func provenanceHTML(_ p: Provenance) -> String {
        var html = "<section class=\"provenance\"><h2>Provenance</h2>\n<dl>"
        html += "<dt>Written by</dt><dd>Vigil \(esc(p.version)) on \(esc(p.date))</dd>"
        html += "<dt>Detector</dt><dd>\(esc(p.detector))</dd>"
        html += "<dt>Preprocessing</dt><dd>network input = (x · scale − mean) / std: \(esc(p.preprocessing))</dd></dl>\n"
        html += "<table class=\"files\"><thead><tr><th>role</th><th>file</th><th>SHA-256</th></tr></thead><tbody>\n"
        for file in p.files {
            html += "<tr><td>\(esc(file.role))</td><td class=\"path\">\(esc(file.path))</td><td class=\"hash\">\(esc(file.sha256))</td></tr>\n"
        }
        return html + "</tbody></table></section>\n"
    }

    /// A sortable table of metrics; the best value of each column is marked.
    static func tableHTML(_ rows: [Row], showScorer: Bool) -> String {
        let columns: [(String, Bool, (DetectionMetrics) -> Double)] = [
            ("FPR at 95% TPR", false, \.fprAt95TPR), ("detection error", false, \.detectionError), ("AUROC", true, \.auroc),
            ("AUPR-In", true, \.auprIn), ("AUPR-Out", true, \.auprOut),
        ]
        var html = "<table class=\"sortable metrics\"><thead><tr><th scope=\"col\">set</th>"
        if showScorer { html += "<th scope=\"col\">scorer</th>" }
        for (name, higherIsBetter, _) in columns {
            html += "<th scope=\"col\" class=\"num\" title=\"\(higherIsBetter ? "higher" : "lower") is better\">\(name) \(higherIsBetter ? "↑" : "↓")</th>"
        }
        html += "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr><td>\(esc(row.set))</td>" + (showScorer ? "<td>\(row.scorer.rawValue)</td>" : "")
            for (_, higherIsBetter, value) in columns {
                let v = value(row.metrics)
                let peers = rows.filter { $0.set == row.set }.map { value($0.metrics) }
                let best = showScorer && peers.count > 1 && v == (higherIsBetter ? peers.max() : peers.min())
                html += "<td class=\"num\(best ? " best" : "")\" data-v=\"\(v)\">\(String(format: "%.4f", v))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n" + (showScorer ? "<p class=\"note\">Bold: the best scorer for that set.</p>\n" : "")
    }

    // MARK: Charts

    /// ROC curves (in-distribution positive) of every OOD set, the calibrated threshold marked on each.
    static func rocFigure(perSet: [[Double]], names: [String], rows: [Row], threshold: Double?) -> String {
        let ticks = stride(from: 0, through: 1.0001, by: 0.2).map { $0 }
        var chart = SVGChart(x: .init(low: 0, high: 1, label: "FPR: fraction of the OOD set accepted", ticks: ticks),
                             y: .init(low: 0, high: 1, label: "TPR: fraction of in-distribution accepted", ticks: ticks), width: 540, height: 400)
        chart.raw(String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"chance\"/>\n", chart.px(0), chart.py(0), chart.px(1), chart.py(1)))
        chart.raw(String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"level\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"note\">TPR 0.95</text>\n",
                         chart.px(0), chart.py(0.95), chart.px(1), chart.py(0.95), chart.px(1) - 4, chart.py(0.95) + 13))
        var legend = "<table class=\"legend\"><thead><tr><th>OOD set</th><th class=\"num\">AUROC</th><th class=\"num\">FPR@95</th>"
            + (threshold == nil ? "" : "<th class=\"num\">TPR at ○</th><th class=\"num\">FPR at ○</th>") + "</tr></thead><tbody>\n"
        for (index, name) in names.enumerated() {
            let style = SVGChart.Style.series(index + 1)
            let curve = ROC.curve(positive: perSet[0].map { -$0 }, negative: perSet[index + 1].map { -$0 })
            let metrics = rows.first { $0.set == name }?.metrics
            let summary = metrics.map { String(format: "AUROC %.4f, FPR@95 %.4f", $0.auroc, $0.fprAt95TPR) } ?? ""
            chart.line(Array(zip(curve.fpr, curve.tpr)), style: style, title: "\(name): \(summary)")
            legend += "<tr><td>\(style.sample)<b>\(esc(name))</b></td>"
                + (metrics.map { String(format: "<td class=\"num\">%.4f</td><td class=\"num\">%.4f</td>", $0.auroc, $0.fprAt95TPR) } ?? "<td></td><td></td>")
            if let threshold {
                let tpr = fraction(perSet[0], atMost: threshold), fpr = fraction(perSet[index + 1], atMost: threshold)
                chart.marker(at: (fpr, tpr), style: style, title: "\(name) at the calibrated threshold: TPR \(format(tpr)), FPR \(format(fpr))")
                legend += String(format: "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>", tpr, fpr)
            }
            legend += "</tr>\n"
        }
        let caption = "ROC curves: each OOD set against the in-distribution test set; the grey diagonal is chance"
            + (threshold == nil ? "." : "; circles (○) mark the calibrated threshold, with the TPR and FPR it gives on these sets.")
        return "<figure>" + chart.render(label: "ROC curves") + legend + "</tbody></table><figcaption>\(esc(caption))</figcaption></figure>\n"
    }

    static func fraction(_ values: [Double], atMost threshold: Double) -> Double {
        Double(values.filter { $0 <= threshold }.count) / Double(max(values.count, 1))
    }

    /// Histograms of every set's scores on shared bins. When a few scores lie far out, the bins span the
    /// 1st to 99th percentile and the rest are counted in marked overflow bins at either end (nothing is
    /// dropped silently); the calibrated threshold is drawn.
    static func histogramFigure(values: [[Double]], names: [String], threshold: Double?) -> String {
        let binning = Binning(values.flatMap { $0 })
        guard let binning else { return "<figure><p>No finite scores to draw.</p></figure>\n" }
        let fractions = values.map { binning.fractions($0) }
        let top = max(fractions.flatMap { $0.inner + [$0.under, $0.over] }.max() ?? 0, 1e-9) * 1.08
        let w = binning.width
        var (low, high) = binning.overflow ? (binning.low - 3 * w, binning.high + 3 * w) : (binning.low, binning.high)
        var ticks = SVGChart.niceTicks(binning.low, binning.high)
        if binning.overflow {
            ticks = ticks.filter { $0 >= binning.low - 1e-12 && $0 <= binning.high + 1e-12 }
        } else if ticks.count > 1 {
            // Without overflow bins the axis runs from tick to tick around the scores.
            let step = ticks[1] - ticks[0]
            (low, high) = ((binning.low / step).rounded(.down) * step, (binning.high / step).rounded(.up) * step)
            ticks = SVGChart.niceTicks(low, high).filter { $0 >= low - 1e-12 && $0 <= high + 1e-12 }
        }
        var chart = SVGChart(x: .init(low: low, high: high, label: "score (higher = more out-of-distribution)", ticks: ticks),
                             y: .init(low: 0, high: top, label: "fraction of the set per bin"), width: 540, height: 400)
        if binning.overflow { drawOverflowZones(&chart, binning: binning, top: top) }
        var legend = "<table class=\"legend\"><thead><tr><th>set</th><th class=\"num\">scores</th>"
            + (binning.overflow ? "<th class=\"num\">below</th><th class=\"num\">above</th>" : "") + "</tr></thead><tbody>\n"
        for (index, f) in fractions.enumerated() {
            let style = SVGChart.Style.series(index)
            var points: [(Double, Double)] = [(binning.low, 0)]
            for (b, value) in f.inner.enumerated() {
                points += [(binning.low + Double(b) * w, value), (binning.low + Double(b + 1) * w, value)]
            }
            points.append((binning.high, 0))
            chart.line(points, style: style, title: names[index])
            if binning.overflow {
                chart.line([(binning.low - 3 * w, 0), (binning.low - 3 * w, f.under), (binning.low - w, f.under), (binning.low - w, 0)], style: style,
                           title: "\(names[index]): \(format(f.under * 100))% below \(format(binning.low))")
                chart.line([(binning.high + w, 0), (binning.high + w, f.over), (binning.high + 3 * w, f.over), (binning.high + 3 * w, 0)], style: style,
                           title: "\(names[index]): \(format(f.over * 100))% above \(format(binning.high))")
            }
            legend += "<tr><td>\(style.sample)<b>\(esc(names[index]))</b></td><td class=\"num\">\(grouped(values[index].count))"
                + (f.nonFinite > 0 ? " (\(f.nonFinite) not finite, not drawn)" : "") + "</td>"
                + (binning.overflow ? String(format: "<td class=\"num\">%.1f%%</td><td class=\"num\">%.1f%%</td>", f.under * 100, f.over * 100) : "")
                + "</tr>\n"
        }
        if let threshold {
            let side = threshold < binning.low ? " (in the low overflow bin)" : threshold > binning.high ? " (in the high overflow bin)" : ""
            chart.verticalLine(at: min(max(threshold, low), high), label: "threshold \(format(threshold))\(side)")
        }
        var caption = String(format: "%d bins of width %@ from %@ to %@", binning.bins, format(w), format(binning.low), format(binning.high))
        caption += binning.overflow
            ? "; scores outside that range (beyond the 1st and 99th percentiles of all sets) are counted in the shaded end bins."
            : ", spanning every score."
        if threshold != nil { caption += " The dashed line is the calibrated threshold." }
        return "<figure>" + chart.render(label: "score histograms") + legend + "</tbody></table><figcaption>\(esc(caption))</figcaption></figure>\n"
    }

    /// The shaded end zones of the overflow bins, labelled with the range they hold.
    static func drawOverflowZones(_ chart: inout SVGChart, binning: Binning, top: Double) {
        let w = binning.width
        let zones = [(binning.low - 3 * w, "< " + String(format: "%.3g", binning.low), "start"),
                     (binning.high + w, "> " + String(format: "%.3g", binning.high), "end")]
        for (from, label, anchor) in zones {
            chart.raw(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"overflow\"/>", chart.px(from), chart.py(top),
                             chart.px(from + 2 * w) - chart.px(from), chart.py(0) - chart.py(top)))
            let x = anchor == "start" ? chart.px(from) : chart.px(from + 2 * w)
            chart.raw(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" class=\"note\">%@</text>\n",
                             x, chart.py(0) + 31, anchor, SVGChart.escape(label)))
        }
    }

    /// Shared histogram bins: the full range of the scores, or their 1st–99th percentiles with
    /// overflow bins when the extremes lie far out.
    struct Binning {
        var low: Double
        var high: Double
        var bins = 40
        var overflow: Bool
        var width: Double { (high - low) / Double(bins) }

        init?(_ values: [Double]) {
            let all = values.filter(\.isFinite).sorted()
            guard let first = all.first, let last = all.last else { return nil }
            let p1 = all[Int(Double(all.count - 1) * 0.01)], p99 = all[Int(Double(all.count - 1) * 0.99)]
            if last - first <= 1.5 * (p99 - p1) || p99 <= p1 {
                (low, high, overflow) = (first, last > first ? last : first + 1, false)
            } else {
                (low, high, overflow) = (p1, p99, true)
            }
        }

        /// Fraction of `values` in each bin, below and above the range, and how many are not finite.
        func fractions(_ values: [Double]) -> (inner: [Double], under: Double, over: Double, nonFinite: Int) {
            var counts = [Double](repeating: 0, count: bins)
            var under = 0.0, over = 0.0, nonFinite = 0
            for v in values {
                guard v.isFinite else { nonFinite += 1; continue }
                if v < low { under += 1 } else if v > high { over += 1 } else { counts[min(bins - 1, Int((v - low) / width))] += 1 }
            }
            let n = Double(max(values.count, 1))
            return (counts.map { $0 / n }, under / n, over / n, nonFinite)
        }
    }

    static func esc(_ s: String) -> String { SVGChart.escape(s) }

    static let style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1180px; color: #1a1a1a; padding: 0 1em; }
        h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.25em; margin: 1.6em 0 .4em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
        .lead, .what, .note, figcaption { color: #444; } .warning { background: #fff3cd; border: 1px solid #e0b000; padding: 6px 10px; } .note { font-size: .85em; }
        table { border-collapse: collapse; margin: .4em 0; font-size: .92em; }
        td, th { border: 1px solid #ccc; padding: 3px 9px; text-align: left; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.best { font-weight: 700; } th { background: #f3f3f3; }
        table.sortable th { cursor: pointer; user-select: none; } table.sortable th:hover { background: #e6eef6; }
        table.sortable th[aria-sort=ascending]::after { content: " ▲"; } table.sortable th[aria-sort=descending]::after { content: " ▼"; }
        .provenance dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; margin: .4em 0; } .provenance dt { font-weight: 600; }
        .provenance dd { margin: 0; } td.hash { font-family: ui-monospace, monospace; font-size: .8em; } td.path { font-family: ui-monospace, monospace; font-size: .85em; }
        .charts { display: flex; flex-wrap: wrap; gap: 1.5em; } figure { margin: .6em 0; max-width: 550px; }
        figcaption { font-size: .85em; margin-top: .3em; } table.legend { font-size: .85em; margin: .2em 0 .2em 64px; }
        table.legend td, table.legend th { border: none; padding: 1px 8px 1px 0; } table.legend th { background: none; color: #555; font-weight: 600; }
        svg.swatch { vertical-align: middle; margin-right: .4em; }
        svg.chart text { font-size: 11px; fill: #222; } svg.chart text.axis { font-size: 12px; } svg.chart text.note { font-size: 10.5px; fill: #333; }
        svg.chart .grid { stroke: #e8e8e8; } svg.chart .tick { stroke: #555; } svg.chart .frame { fill: none; stroke: #555; }
        svg.chart .chance { stroke: #aaa; stroke-dasharray: 3 3; } svg.chart .level { stroke: #bbb; stroke-dasharray: 1 3; }
        svg.chart .overflow { fill: #f1f1f1; stroke: #ccc; }
        """

    /// Sorts a table by the clicked column (numbers by value), toggling the direction.
    static let sortScript = """
        document.querySelectorAll("table.sortable").forEach(function (table) {
          var heads = table.tHead.rows[0].cells;
          Array.prototype.forEach.call(heads, function (th, column) {
            th.addEventListener("click", function () {
              var ascending = th.getAttribute("aria-sort") !== "ascending";
              Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
              th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
              var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
              rows.sort(function (a, b) {
                var x = a.cells[column], y = b.cells[column];
                var vx = x.dataset.v !== undefined ? parseFloat(x.dataset.v) : x.textContent;
                var vy = y.dataset.v !== undefined ? parseFloat(y.dataset.v) : y.textContent;
                var c = typeof vx === "number" ? vx - vy : vx.localeCompare(vy);
                return ascending ? c : -c;
              });
              rows.forEach(function (r) { body.appendChild(r); });
            });
          });
        });
        """
}
