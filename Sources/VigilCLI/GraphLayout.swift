/// A layered (Sugiyama-style) top-to-bottom layout of a directed acyclic graph of boxes: layers by
/// longest path, dummy points on edges that span several layers, barycentre ordering to reduce
/// crossings, then x positions pulled towards each box's neighbours without overlap.
struct GraphLayout {
    struct Box {
        var width: Double
        var height: Double
    }

    /// Box centres and layer of every box, in input order.
    private(set) var x: [Double] = []
    private(set) var y: [Double] = []
    private(set) var layer: [Int] = []
    /// Per edge (in input order): the points it passes through, source bottom to target top.
    private(set) var routes: [[(Double, Double)]] = []
    private(set) var width = 0.0
    private(set) var height = 0.0

    static let gapX = 28.0, gapY = 58.0, dummyWidth = 12.0, margin = 24.0

    /// - Parameters:
    ///   - edges: (from, to) box indices; `boxes` must be listed so that every edge goes forward (a
    ///     topological order); a backward edge is drawn but does not affect layers.
    ///   - anchored: the boxes that start the graph (its inputs); boxes that depend on none of them are
    ///     placed just above their first consumer. Empty: every box counts as anchored.
    init(boxes: [Box], edges: [(Int, Int)], anchored: Set<Int> = []) {
        let n = boxes.count
        layer = [Int](repeating: 0, count: n)
        for (from, to) in edges.sorted(by: { $0.1 < $1.1 }) where from < to { layer[to] = max(layer[to], layer[from] + 1) }
        // Boxes that do not depend on an anchored box (constants and what is computed from them alone)
        // sit just above their first consumer, not at the top with long edges down.
        var live = [Bool](repeating: anchored.isEmpty, count: n)
        for v in anchored where v < n { live[v] = true }
        var successors = [[Int]](repeating: [], count: n)
        for (from, to) in edges.sorted(by: { $0.0 < $1.0 }) where from < to {
            if live[from] { live[to] = true }
            successors[from].append(to)
        }
        for v in stride(from: n - 1, through: 0, by: -1) where !live[v] && !successors[v].isEmpty {
            layer[v] = max(layer[v], successors[v].map { layer[$0] }.min()! - 1)
        }
        // Vertices: boxes, then dummies on long edges.
        var widths = boxes.map(\.width)
        var vertexLayer = layer
        var chains: [[Int]] = []
        var up = [[Int]](repeating: [], count: n), down = [[Int]](repeating: [], count: n)
        for (from, to) in edges {
            var chain = [from]
            if from < to {
                for l in stride(from: layer[from] + 1, to: layer[to], by: 1) {
                    widths.append(Self.dummyWidth)
                    vertexLayer.append(l)
                    up.append([])
                    down.append([])
                    chain.append(widths.count - 1)
                }
            }
            chain.append(to)
            for (a, b) in zip(chain, chain.dropFirst()) where vertexLayer[a] < vertexLayer[b] {
                down[a].append(b)
                up[b].append(a)
            }
            chains.append(chain)
        }
        let layers = Self.order(vertexLayer: vertexLayer, up: up, down: down)
        let xs = Self.place(layers: layers, widths: widths, up: up, down: down)
        var layerY: [Double] = []
        var top = Self.margin
        for members in layers {
            let tallest = members.map { $0 < n ? boxes[$0].height : 0 }.max() ?? 0
            layerY.append(top + tallest / 2)
            top += tallest + Self.gapY
        }
        let left = (0..<widths.count).map { xs[$0] - widths[$0] / 2 }.min() ?? 0
        let right = (0..<widths.count).map { xs[$0] + widths[$0] / 2 }.max() ?? 0
        x = (0..<n).map { xs[$0] - left + Self.margin }
        y = (0..<n).map { layerY[layer[$0]] }
        width = right - left + 2 * Self.margin
        height = top - Self.gapY + Self.margin
        routes = chains.map { chain in
            Self.simplify(chain.enumerated().map { index, v -> (Double, Double) in
                let cx = xs[v] - left + Self.margin, cy = layerY[vertexLayer[v]]
                if v < n, index == 0 { return (cx, cy + boxes[v].height / 2) }
                if v < n { return (cx, cy - boxes[v].height / 2) }
                return (cx, cy)
            })
        }
    }

    /// The route without the points that lie within 2 px of the line through their neighbours
    /// (Ramer–Douglas–Peucker), so that an edge across many layers is a few curves, not hundreds.
    static func simplify(_ points: [(Double, Double)], tolerance: Double = 2) -> [(Double, Double)] {
        guard points.count > 2 else { return points }
        var keep = [Bool](repeating: false, count: points.count)
        keep[0] = true
        keep[points.count - 1] = true
        var stack = [(0, points.count - 1)]
        while let (a, b) = stack.popLast() {
            guard b > a + 1 else { continue }
            let (ax, ay) = points[a], (bx, by) = points[b]
            let length = max(((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).squareRoot(), 1e-9)
            var farthest = a, distance = 0.0
            for i in (a + 1)..<b {
                let d = abs((by - ay) * points[i].0 - (bx - ax) * points[i].1 + bx * ay - by * ax) / length
                if d > distance { (farthest, distance) = (i, d) }
            }
            if distance > tolerance {
                keep[farthest] = true
                stack += [(a, farthest), (farthest, b)]
            }
        }
        return points.indices.filter { keep[$0] }.map { points[$0] }
    }

    /// Vertices per layer, ordered by repeated barycentre sweeps (down, then up).
    static func order(vertexLayer: [Int], up: [[Int]], down: [[Int]]) -> [[Int]] {
        var layers = [[Int]](repeating: [], count: (vertexLayer.max() ?? 0) + 1)
        for (v, l) in vertexLayer.enumerated() { layers[l].append(v) }
        var position = [Double](repeating: 0, count: vertexLayer.count)
        func index() { for members in layers { for (i, v) in members.enumerated() { position[v] = Double(i) } } }
        index()
        for sweep in 0..<8 {
            let downward = sweep % 2 == 0
            for l in downward ? Array(layers.indices.dropFirst()) : Array(layers.indices.dropLast().reversed()) {
                let keyed = layers[l].map { v -> (Int, Double) in
                    let neighbours = downward ? up[v] : down[v]
                    guard !neighbours.isEmpty else { return (v, position[v]) }
                    return (v, neighbours.map { position[$0] }.reduce(0, +) / Double(neighbours.count))
                }
                layers[l] = keyed.sorted { ($0.1, position[$0.0]) < ($1.1, position[$1.0]) }.map(\.0)
                for (i, v) in layers[l].enumerated() { position[v] = Double(i) }
            }
        }
        return layers
    }

    /// x centres: each layer packed in order, then pulled towards neighbours' mean x, keeping order and gaps.
    static func place(layers: [[Int]], widths: [Double], up: [[Int]], down: [[Int]]) -> [Double] {
        var x = [Double](repeating: 0, count: widths.count)
        for members in layers {
            var cursor = 0.0
            for v in members {
                x[v] = cursor + widths[v] / 2
                cursor += widths[v] + gapX
            }
            let shift = cursor / 2
            for v in members { x[v] -= shift }
        }
        for round in 0..<12 {
            let downward = round % 2 == 0
            for l in downward ? Array(layers.indices) : Array(layers.indices.reversed()) {
                let members = layers[l]
                var wanted = members.map { v -> Double in
                    let neighbours = up[v] + down[v]
                    return neighbours.isEmpty ? x[v] : neighbours.map { x[$0] }.reduce(0, +) / Double(neighbours.count)
                }
                // Keep the order with gaps by pushing right, then shift back by the mean push.
                let ideal = wanted
                for i in wanted.indices.dropFirst() {
                    wanted[i] = max(wanted[i], wanted[i - 1] + (widths[members[i - 1]] + widths[members[i]]) / 2 + gapX)
                }
                let shift = zip(wanted, ideal).map { $0 - $1 }.reduce(0, +) / Double(max(members.count, 1))
                for (i, v) in members.enumerated() { x[v] = wanted[i] - shift }
            }
        }
        return x
    }
}
