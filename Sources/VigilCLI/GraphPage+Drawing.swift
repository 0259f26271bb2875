import Foundation
import VigilIR
import VigilParity
import VigilVerifier

/// The SVG and the page around it.
extension GraphPage {
    /// ColorBrewer's YlOrRd (sequential, colour-blind safe), light = small error.
    static let errorColors = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]
    /// Error decades of the scale: ≤1e-8 … ≥1e-1.
    static let errorDecades = -8...(-1)

    /// The fill of a node whose largest absolute error is `error`.
    static func errorColor(_ error: Double) -> String {
        guard error.isFinite else { return errorColors.last! }
        guard error > 0 else { return errorColors[0] }
        let decade = Int(log10(error).rounded(.up))
        let index = min(max(decade - errorDecades.lowerBound, 0), errorColors.count - 1)
        return errorColors[index]
    }

    static func drawing(items: [Item], boxes: [GraphLayout.Box], edges: [Edge], layout: GraphLayout, parity: Bool) -> String {
        var svg = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"graph\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
                         layout.width, layout.height, layout.width, layout.height)
        svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            + "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker></defs>\n<g class=\"edges\">\n"
        for (index, edge) in edges.enumerated() {
            let route = layout.routes[index]
            var d = String(format: "M%.1f,%.1f", route[0].0, route[0].1)
            for (a, b) in zip(route, route.dropFirst()) {
                let dy = (b.1 - a.1) / 2
                d += String(format: " C%.1f,%.1f %.1f,%.1f %.1f,%.1f", a.0, a.1 + dy, b.0, b.1 - dy, b.0, b.1)
            }
            svg += "<path d=\"\(d)\" class=\"edge\" marker-end=\"url(#arrow)\"><title>\(esc(edge.tooltip))</title></path>\n"
            if edge.labelled && !edge.label.isEmpty {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"shape\">%@</text>\n", route[0].0 + 5, route[0].1 + 13, esc(edge.label))
            }
        }
        svg += "</g>\n<g class=\"nodes\">\n"
        for (index, item) in items.enumerated() {
            svg += box(item, index: index, size: boxes[index], x: layout.x[index], y: layout.y[index], parity: parity)
        }
        return svg + "</g></svg>\n"
    }

    static func box(_ item: Item, index: Int, size: GraphLayout.Box, x: Double, y: Double, parity: Bool) -> String {
        let left = x - size.width / 2, top = y - size.height / 2
        var classes = ["box", "\(item.kind)"]
        var fill = item.kind == .node ? "#ffffff" : "#eef3f8"
        var tooltip = item.tooltip
        if let c = item.comparison {
            fill = errorColor(c.maxAbsoluteError)
            classes.append(c.passed ? "pass" : "fail")
            tooltip += "\n\(c.passed ? "within tolerance" : "OUTSIDE tolerance"): max abs \(ParityReport.number(c.maxAbsoluteError)), max rel \(ParityReport.number(c.maxRelativeError)), \(c.mismatches) of \(c.elements) elements outside (value\(item.comparedValues.count > 1 ? "s" : "") \(item.comparedValues.joined(separator: ", ")))"
        } else if item.kind == .node && parity {
            classes.append("uncompared")
            tooltip += "\nnot compared (no reference for its outputs)"
        }
        if item.firstDivergence { classes.append("first") }
        let worst = item.diagnostics.map(\.severity).max()
        if let worst { classes.append("diag-\(worst.rawValue)") }
        for d in item.diagnostics { tooltip += "\n\(d.severity.rawValue) \(d.code.rawValue): \(d.message)" }
        let dark = ["#e31a1c", "#b10026", "#fc4e2a"].contains(fill)
        var svg = "<g class=\"\(classes.joined(separator: " "))\" id=\"item\(index)\"\(item.name.map { " data-name=\"\(esc($0))\"" } ?? "")><title>\(esc(tooltip))</title>"
        svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" fill=\"%@\"/>", left, top, size.width, size.height, fill)
        for (i, line) in item.lines.enumerated() {
            let cls = i == 0 ? "op" : (item.kind == .node && i == 1 ? "name" : "detail")
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"%@%@\">%@</text>", x, top + 17 + Double(i) * 14.5,
                          cls, dark ? " light" : "", esc(line))
        }
        if let worst {
            let symbol = worst == .error ? "!" : worst == .warning ? "▲" : "i"
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" class=\"badge badge-%@\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"badge-text\">%@</text>",
                          left + size.width - 2, top + 2, worst.rawValue, left + size.width - 2, top + 6, symbol)
        }
        if let c = item.comparison, !c.passed {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"cross%@\">✗</text>", left + 5, top + 15, dark ? " light" : "")
        }
        if item.firstDivergence {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"first-label\">▼ first divergence</text>", x, top - 9)
        }
        return svg + "</g>\n"
    }

    static func page(model: Model, file: String, svg: String, items: [Item], diagnostics: [Diagnostic], parity: ParityReport?) -> String {
        let title = parity == nil ? "Graph of \(file)" : "Parity of \(file), layer by layer"
        var header = "<h1>\(esc(title))</h1>\n<p class=\"facts\">"
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        header += "\(grouped(model.graph.nodeCount)) nodes · \(grouped(model.parameterCount)) parameters"
            + " · opsets \(esc(model.opsetImports.map { "\(Domain.display($0.domain)) \($0.version)" }.joined(separator: ", ")))"
            + (producer.isEmpty ? "" : " · produced by \(esc(producer))") + "</p>\n"
        if let parity {
            let compared = items.filter { $0.comparison != nil }.count
            header += "<p class=\"facts\">Reference \(esc(parity.reference)) · atol \(parity.atol), rtol \(parity.rtol) · \(compared) nodes compared · "
            if let first = parity.firstDivergence {
                header += "<b>first divergence: node #\(first.index) '\(esc(first.node))' (\(esc(first.opType)))</b>, max abs \(ParityReport.number(first.comparison.maxAbsoluteError))"
            } else {
                header += "<b>every compared value within tolerance</b>"
            }
            header += "</p>\n"
        }
        let counts = Dictionary(grouping: diagnostics, by: \.severity).mapValues(\.count)
        header += "<p class=\"facts\">vigil check: " + (diagnostics.isEmpty ? "no diagnostics" : Severity.allCases.reversed().compactMap { s in
            counts[s].map { "\($0) \(s.rawValue)\($0 == 1 ? "" : "s")" } }.joined(separator: ", ")) + "</p>\n"
        var body = header + legend(parity: parity)
        body += "<div class=\"toolbar\"><button data-zoom=\"1.25\">zoom in</button><button data-zoom=\"0.8\">zoom out</button><button data-zoom=\"fit\">fit width</button><button data-zoom=\"1\">actual size</button></div>\n"
        body += "<div id=\"canvas\">\n\(svg)</div>\n"
        body += diagnosticsTable(diagnostics)
        if let parity { body += parityTable(parity) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title))</title><style>\(style)</style></head><body>
            \(body)
            <p class="note">Written by Vigil \(Vigil.configuration.version) on \(ISO8601DateFormatter().string(from: Date())). Hover a box or an edge for details.</p>
            <script>\(script)\n\(DetectReport.sortScript)</script></body></html>

            """
    }

    static func legend(parity: ParityReport?) -> String {
        var html = "<div class=\"legend\">"
        if parity != nil {
            html += "<span class=\"key\">max abs error against the reference:</span>"
            for (i, color) in errorColors.enumerated() {
                let decade = errorDecades.lowerBound + i
                let label = i == 0 ? "≤1e\(decade)" : i == errorColors.count - 1 ? ">1e\(decade - 1)" : "≤1e\(decade)"
                html += "<span class=\"swatch\" style=\"background:\(color)\"></span><span class=\"tick\">\(label)</span>"
            }
            html += "<span class=\"key\"><span class=\"sample fail\">✗</span> outside tolerance</span>"
            html += "<span class=\"key\"><span class=\"sample first\"></span> first diverging node</span>"
            html += "<span class=\"key\"><span class=\"sample uncompared\"></span> not compared</span>"
        }
        html += "<span class=\"key\"><span class=\"dot badge-error\">!</span> error <span class=\"dot badge-warning\">▲</span> warning <span class=\"dot badge-note\">i</span> note from vigil check</span>"
        return html + "</div>\n"
    }

    static func diagnosticsTable(_ diagnostics: [Diagnostic]) -> String {
        guard !diagnostics.isEmpty else { return "" }
        var html = "<h2>Diagnostics (vigil check)</h2>\n<table class=\"sortable\"><thead><tr><th>severity</th><th>code</th><th>where</th><th>message</th></tr></thead><tbody>\n"
        for d in diagnostics {
            html += "<tr\(d.location.nodeName.map { " data-node=\"\(esc($0))\"" } ?? "")><td>\(d.severity.rawValue)</td><td>\(d.code.rawValue)</td><td>\(esc(d.location.description))</td><td>\(esc(d.message))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func parityTable(_ parity: ParityReport) -> String {
        var html = "<h2>Compared values</h2>\n<table class=\"sortable\"><thead><tr><th>#</th><th>node</th><th>op</th><th>value</th><th class=\"num\">max abs</th><th class=\"num\">max rel</th><th class=\"num\">mismatches</th><th>result</th></tr></thead><tbody>\n"
        for layer in parity.layers ?? [] {
            let c = layer.comparison
            html += "<tr data-node=\"\(esc(layer.node))\"\(layer.value == parity.firstDivergence?.value ? " class=\"first-row\"" : "")><td data-v=\"\(layer.index)\">\(layer.index)</td><td>\(esc(layer.node))</td><td>\(esc(layer.opType))</td><td>\(esc(layer.value))</td>"
            html += "<td class=\"num\" data-v=\"\(c.maxAbsoluteError.isFinite ? c.maxAbsoluteError : 1e308)\">\(ParityReport.number(c.maxAbsoluteError))</td>"
            html += "<td class=\"num\" data-v=\"\(c.maxRelativeError.isFinite ? c.maxRelativeError : 1e308)\">\(ParityReport.number(c.maxRelativeError))</td>"
            html += "<td class=\"num\" data-v=\"\(c.mismatches)\">\(c.mismatches) / \(c.elements)</td><td>\(c.passed ? "pass" : "FAIL")</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static let style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2em; color: #1a1a1a; }
        h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.15em; margin-top: 1.5em; } .facts { margin: .2em 0; color: #333; } .note { color: #555; font-size: .85em; }
        .legend { display: flex; flex-wrap: wrap; align-items: center; gap: .3em .6em; margin: .6em 0; font-size: .85em; }
        .legend .swatch { display: inline-block; width: 22px; height: 14px; border: 1px solid #999; } .legend .tick { margin-right: .3em; }
        .legend .key { margin-left: .8em; } .sample { display: inline-block; width: 22px; height: 14px; border-radius: 3px; vertical-align: middle; text-align: center; font-size: 12px; line-height: 14px; }
        .sample.fail { border: 2.5px solid #000; } .sample.first { border: 3px dashed #0072B2; } .sample.uncompared { border: 1.5px dashed #999; }
        .dot { display: inline-block; width: 16px; height: 16px; border-radius: 8px; color: #fff; text-align: center; font-weight: 700; font-size: 11px; line-height: 16px; }
        .toolbar button { font: inherit; margin-right: .3em; }
        #canvas { overflow: auto; border: 1px solid #ddd; background: #fafafa; margin-top: .4em; max-height: 88vh; }
        #canvas svg { display: block; margin: 0 auto; }
        #graph .edge { fill: none; stroke: #777; stroke-width: 1.3; } #graph text { font-size: 11.5px; fill: #1a1a1a; }
        #graph text.op { font-weight: 700; font-size: 12.5px; } #graph text.name { fill: #444; } #graph text.detail { fill: #555; font-size: 10.5px; }
        #graph text.light { fill: #fff; } #graph text.shape { font-size: 10px; fill: #2b5d8a; paint-order: stroke; stroke: #fafafa; stroke-width: 3px; }
        #graph .box rect { stroke: #5a6b7b; stroke-width: 1.2; } #graph .box.input rect, #graph .box.output rect { stroke-dasharray: 4 2; }
        #graph .box.fail rect { stroke: #000; stroke-width: 2.8; } #graph .box.first rect { stroke: #0072B2; stroke-width: 4; stroke-dasharray: 8 4; }
        #graph .box.diag-error rect { stroke: #c00; stroke-width: 2.4; } #graph .box.diag-warning rect { stroke: #b36b00; stroke-width: 2; }
        #graph .box.highlight rect { stroke: #0072B2; stroke-width: 4; }
        #graph .badge, .dot.badge-error { fill: #c00; background: #c00; } #graph .badge-warning, .dot.badge-warning { fill: #b36b00; background: #b36b00; }
        #graph .badge-note, .dot.badge-note { fill: #0072B2; background: #0072B2; } #graph .badge-text { fill: #fff; font-weight: 700; font-size: 11px; }
        #graph .cross { font-size: 14px; font-weight: 700; fill: #000; } #graph .cross.light { fill: #fff; } #graph .first-label { font-weight: 700; fill: #0072B2; font-size: 12px; paint-order: stroke; stroke: #fafafa; stroke-width: 4px; }
        table { border-collapse: collapse; font-size: .88em; } td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
        th { background: #f3f3f3; cursor: pointer; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } tr.first-row { background: #dcecf8; font-weight: 600; }
        table.sortable th[aria-sort=ascending]::after { content: " ▲"; } table.sortable th[aria-sort=descending]::after { content: " ▼"; }
        tbody tr { cursor: default; }
        """

    /// Zoom buttons, a fit-to-width start for wide graphs, scrolling to the first divergence, and
    /// table rows that highlight their node.
    static let script = """
        (function () {
          var svg = document.getElementById("graph"), canvas = document.getElementById("canvas");
          var w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height, scale = 1;
          function zoom(s) { scale = s; svg.setAttribute("width", w * s); svg.setAttribute("height", h * s); }
          function fit() { zoom(Math.min(1, (canvas.clientWidth - 4) / w)); }
          document.querySelectorAll("button[data-zoom]").forEach(function (b) {
            b.addEventListener("click", function () { var z = b.dataset.zoom; if (z === "fit") fit(); else zoom(z === "1" ? 1 : scale * parseFloat(z)); });
          });
          if (w > canvas.clientWidth) fit();
          // Scroll the drawing (not the page) so that a node is in the middle of it.
          function reveal(node) {
            var r = node.getBoundingClientRect(), c = canvas.getBoundingClientRect();
            canvas.scrollTop += r.top - c.top - (canvas.clientHeight - r.height) / 2;
            canvas.scrollLeft += r.left - c.left - (canvas.clientWidth - r.width) / 2;
          }
          var first = svg.querySelector(".box.first");
          if (first) reveal(first);
          document.querySelectorAll("tr").forEach(function (row) {
            row.addEventListener("click", function () {
              if (!row.dataset.node) return;
              svg.querySelectorAll(".highlight").forEach(function (e) { e.classList.remove("highlight"); });
              var node = svg.querySelector('[data-name="' + CSS.escape(row.dataset.node) + '"]');
              if (node) { node.classList.add("highlight"); reveal(node); canvas.scrollIntoView({ block: "nearest" }); }
            });
          });
        })();
        """
}
