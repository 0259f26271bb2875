import Foundation

/// A line chart as inline SVG: labelled axes with ticks and grid lines, series told apart by colour
/// and by line style, for the HTML report (no scripts, no external files).
struct SVGChart {
    /// How a series is drawn; the palette is Okabe and Ito's, safe for colour-blind readers, and every
    /// series also has its own dash pattern.
    struct Style {
        var color: String
        var dash: String
        var width: Double = 2

        static let palette: [Style] = [
            Style(color: "#0072B2", dash: ""),               // blue, solid
            Style(color: "#D55E00", dash: "7 4"),            // vermillion, dashed
            Style(color: "#009E73", dash: "2 3"),            // bluish green, dotted
            Style(color: "#CC79A7", dash: "9 3 2 3"),        // reddish purple, dash-dot
            Style(color: "#E69F00", dash: "12 5"),           // orange, long dash
            Style(color: "#56B4E9", dash: "4 2 4 2 1 2"),    // sky blue, dash-dash-dot
            Style(color: "#000000", dash: "1 2"),            // black, fine dots
        ]

        static func series(_ index: Int) -> Style { palette[index % palette.count] }

        var svgAttributes: String {
            "stroke=\"\(color)\" stroke-width=\"\(width)\"" + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")
        }

        /// A short line in this style, for legends.
        var sample: String {
            "<svg class=\"swatch\" width=\"34\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"33\" y2=\"5\" \(svgAttributes)/></svg>"
        }
    }

    struct Axis {
        var low: Double
        var high: Double
        var label: String
        var ticks: [Double]

        init(low: Double, high: Double, label: String, ticks: [Double]? = nil) {
            self.low = low
            self.high = high > low ? high : low + 1
            self.label = label
            self.ticks = ticks ?? SVGChart.niceTicks(low, self.high)
        }
    }

    var x: Axis
    var y: Axis
    var width = 440.0
    var height = 300.0
    let left = 64.0, right = 30.0, top = 14.0, bottom = 50.0
    /// Drawn in order, over the grid.
    private(set) var content = ""

    init(x: Axis, y: Axis, width: Double = 440, height: Double = 300) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
    func px(_ value: Double) -> Double { left + (value - x.low) / (x.high - x.low) * plotWidth }
    func py(_ value: Double) -> Double { top + plotHeight - (value - y.low) / (y.high - y.low) * plotHeight }

    /// A polyline through data points, thinned to points at least half a pixel apart.
    mutating func line(_ points: [(Double, Double)], style: Style, title: String) {
        var kept: [(Double, Double)] = []
        for (i, point) in points.enumerated() {
            let p = (px(point.0), py(point.1))
            if let last = kept.last, i != points.count - 1, abs(p.0 - last.0) < 0.5 && abs(p.1 - last.1) < 0.5 { continue }
            kept.append(p)
        }
        let text = kept.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        content += "<polyline fill=\"none\" \(style.svgAttributes) stroke-linejoin=\"round\" points=\"\(text)\"><title>\(Self.escape(title))</title></polyline>\n"
    }

    /// A marker (circle) at a data point.
    mutating func marker(at point: (Double, Double), style: Style, title: String) {
        content += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"white\" stroke=\"%@\" stroke-width=\"2\"><title>%@</title></circle>\n",
                          px(point.0), py(point.1), style.color, Self.escape(title))
    }

    /// A vertical line at data x with a label at its top.
    mutating func verticalLine(at value: Double, label: String, dash: String = "5 3") {
        let x = px(value)
        content += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.5\" stroke-dasharray=\"%@\"/>\n",
                          x, top, x, top + plotHeight, dash)
        let anchor = x > left + plotWidth * 0.7 ? "end" : "start"
        let dx = anchor == "end" ? -4.0 : 4.0
        content += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" class=\"note\">%@</text>\n", x + dx, top + 12, anchor, Self.escape(label))
    }

    /// Raw SVG drawn over the grid (in pixel coordinates).
    mutating func raw(_ svg: String) { content += svg }

    /// The chart: frame, grid, ticks and tick labels, axis labels, then the content.
    func render(label: String) -> String {
        var svg = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%@\">\n",
                         width, height, width, height, Self.escape(label))
        let xStep = x.ticks.count > 1 ? x.ticks[1] - x.ticks[0] : 1, yStep = y.ticks.count > 1 ? y.ticks[1] - y.ticks[0] : 1
        for tick in x.ticks {
            let p = px(tick)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", p, top, p, top + plotHeight)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>", p, top + plotHeight, p, top + plotHeight + 5)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>\n", p, top + plotHeight + 18, Self.tickLabel(tick, step: xStep))
        }
        for tick in y.ticks {
            let p = py(tick)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", left, p, left + plotWidth, p)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>", left - 5, p, left, p)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>\n", left - 8, p + 4, Self.tickLabel(tick, step: yStep))
        }
        svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", left, top, plotWidth, plotHeight)
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">%@</text>\n",
                      left + plotWidth / 2, height - 8, Self.escape(x.label))
        svg += String(format: "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" class=\"axis\">%@</text>\n",
                      top + plotHeight / 2, Self.escape(y.label))
        svg += "<g clip-path=\"none\">\n" + content + "</g>\n"
        return svg + "</svg>\n"
    }

    /// About `count` round ticks (1, 2, 2.5 or 5 × 10^k apart) covering [low, high].
    static func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let raw = (high - low) / Double(count)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    /// A tick value with as many decimals as its step needs.
    static func tickLabel(_ value: Double, step: Double) -> String {
        let magnitude = max(abs(value), abs(step))
        if magnitude >= 1e5 || (magnitude < 1e-3 && magnitude > 0) { return String(format: "%.2g", value) }
        var decimals = max(0, Int((-log10(abs(step))).rounded(.up)))
        if abs((step * pow(10, Double(decimals))).rounded() - step * pow(10, Double(decimals))) > 1e-6 { decimals += 1 }
        return String(format: "%.\(min(decimals, 6))f", value).replacingOccurrences(of: "-", with: "−")
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
