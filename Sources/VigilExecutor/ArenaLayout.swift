import VigilIR
import VigilOps

/// Where every value of a lowered model lives while it runs: constants, caller inputs, and buffers in
/// one arena, with views and in-place kernels sharing their input's buffer.
///
/// Buffers are placed once the whole schedule's lifetimes are known (greedy by size, as TFLite's
/// arena planner does): the largest buffer first, each at the best-fitting gap between the buffers
/// already placed that are alive at the same time. A free list that reuses and grows dead slots as the
/// schedule goes fragments on networks whose values grow step by step (DenseNet-121's concatenations
/// at batch 32: 1,030 MiB of slots; placed this way the whole process peaks at 357 MiB).
///
/// A Concat whose inputs are each one run of its output's bytes (nothing but ones before the axis: batch 1
/// in NCHW) gets its output's buffer when its first input is produced, and each input computed here and
/// used by no other Concat is written straight into its place there (a ``Storage/view(slot:offset:)``),
/// so that the Concat copies nothing (SqueezeNet's fire modules, Inception's branches). Concats that
/// each extend the one before (DenseNet's dense blocks) share the longest one's buffer: every feature is
/// written once, and each shorter Concat is a view of the buffer's first bytes.
struct ArenaLayout {
    let lowered: Planner.Lowered
    let graph: Graph
    let inputNames: [String]
    let inputValues: [String: Tensor]
    let memoryLimit: Int

    private var storage: [String: Storage] = [:]
    private var constants: [Tensor] = []
    private var constantIndex: [String: Int] = [:]
    /// Per buffer: its bytes, and the first and last step during which it holds a live value.
    private var buffers: [(bytes: Int, first: Int, last: Int)] = []
    /// Values written into a Concat's output: the Concat's output name, its bytes, and the value's byte offset.
    private var concatPlaces: [String: ConcatPlace] = [:]
    /// Concat outputs that are the first bytes of another Concat's output (its name and bytes, offset 0).
    private var concatViews: [String: ConcatPlace] = [:]
    /// The buffer of each such Concat's output, from the step that produces its first input.
    private var concatBuffers: [String: Int] = [:]

    init(lowered: Planner.Lowered, graph: Graph, inputNames: [String], inputValues: [String: Tensor], memoryLimit: Int) {
        self.lowered = lowered
        self.graph = graph
        self.inputNames = inputNames
        self.inputValues = inputValues
        self.memoryLimit = memoryLimit
    }

    /// The plan: steps with their storage, the constants, the buffers' places and every value's place.
    mutating func plan() throws(ExecutorError) -> ExecutionPlan {
        let lastUse = lastUses()
        (concatPlaces, concatViews) = Self.concatPlaces(lowered, graph: graph, inputNames: inputNames)
        for (i, name) in inputNames.enumerated() where inputValues[name] == nil { storage[name] = .input(i) }
        var steps: [Step] = []
        var scratchBytes = 0
        var live = Set<Int>()
        for (index, entry) in lowered.scheduled.enumerated() {
            steps.append(place(entry, at: index, lastUse: lastUse, live: &live))
            scratchBytes = max(scratchBytes, entry.kernel.scratchBytes)
            // What is alive at once bounds any placement from below: fail where it crosses the limit.
            let alive = live.reduce(0) { Self.add($0, buffers[$1].bytes) }
            if alive > memoryLimit - min(memoryLimit, scratchBytes) {
                throw .memoryLimit(node: entry.node.label, bytes: Self.add(alive, scratchBytes), limit: memoryLimit)
            }
            live = live.filter { buffers[$0].last > index }
        }
        let (offsets, arenaSize) = Self.place(buffers)
        if Self.add(arenaSize, scratchBytes) > memoryLimit {
            // Fragmentation took it over: name the step whose buffers first reach past the limit.
            var reach = [Int](repeating: 0, count: lowered.scheduled.count)
            for (b, buffer) in buffers.enumerated() { reach[buffer.first] = max(reach[buffer.first], Self.add(offsets[b], buffer.bytes)) }
            var end = 0, scratch = 0
            for (index, entry) in lowered.scheduled.enumerated() {
                scratch = max(scratch, entry.kernel.scratchBytes)
                end = max(end, reach[index])
                if Self.add(end, scratch) > memoryLimit {
                    throw .memoryLimit(node: entry.node.label, bytes: Self.add(arenaSize, scratchBytes), limit: memoryLimit)
                }
            }
        }
        var values: [String: (type: TensorType, storage: Storage)] = [:]
        for (name, facts) in lowered.facts {
            guard let type = facts.type else { continue }
            if let s = storage[name] ?? constantStorage(name) { values[name] = (type, s) }
        }
        for output in graph.outputs where values[output.name] == nil {
            throw .invalidGraph("graph output '\(output.name)' is never produced")
        }
        return ExecutionPlan(constants: constants, steps: steps, slotBytes: buffers.map(\.bytes), slotOffsets: offsets,
                             arenaSize: arenaSize, scratchBytes: scratchBytes, values: values, foldedOutputs: lowered.folded)
    }

    /// Offsets (multiples of 64) for buffers with the given sizes and lifetimes such that no two alive at
    /// the same step overlap, and the arena's size: largest first, each in the smallest gap that fits
    /// between the placed buffers alive with it, else above them all. Graphs of more than
    /// ``sizeOrderLimit`` buffers are placed in schedule order instead, comparing each buffer only with
    /// the placed ones still alive (size order compares every pair).
    static func place(_ buffers: [(bytes: Int, first: Int, last: Int)]) -> (offsets: [Int], size: Int) {
        let rounded = buffers.map { add(max($0.bytes, 1), 63) / 64 * 64 }
        let bySize = buffers.count <= sizeOrderLimit
        let order = bySize ? buffers.indices.sorted { rounded[$0] != rounded[$1] ? rounded[$0] > rounded[$1] : $0 < $1 }
                           : buffers.indices.sorted { buffers[$0].first != buffers[$1].first ? buffers[$0].first < buffers[$1].first : $0 < $1 }
        var offsets = [Int](repeating: 0, count: buffers.count)
        var placed: [Int] = []
        var size = 0
        for b in order {
            if !bySize { placed.removeAll { buffers[$0].last < buffers[b].first } }
            let overlapping = placed.filter { buffers[$0].first <= buffers[b].last && buffers[b].first <= buffers[$0].last }
                .sorted { offsets[$0] < offsets[$1] }
            var best: (offset: Int, gap: Int)?
            var end = 0
            for p in overlapping {
                let gap = offsets[p] - end
                if gap >= rounded[b] && (best == nil || gap < best!.gap) { best = (end, gap) }
                end = max(end, add(offsets[p], rounded[p]))
            }
            offsets[b] = best?.offset ?? end
            size = max(size, add(offsets[b], rounded[b]))
            placed.append(b)
        }
        return (offsets, size)
    }

    /// Buffers up to which ``place(_:)`` places the largest first.
    static let sizeOrderLimit = 8192

    /// `a + b`, saturating at `Int.max` (sizes of absurd shapes must fail the limit, not trap).
    static func add(_ a: Int, _ b: Int) -> Int { a > Int.max - b ? Int.max : a + b }

    /// The last step reading each value; graph outputs live to the end.
    private func lastUses() -> [String: Int] {
        var lastUse: [String: Int] = [:]
        for (index, entry) in lowered.scheduled.enumerated() {
            for name in entry.node.inputs where !name.isEmpty { lastUse[name] = index }
            for name in entry.node.outputs where !name.isEmpty && lastUse[name] == nil { lastUse[name] = index }
        }
        for output in graph.outputs { lastUse[output.name] = Int.max }
        return lastUse
    }

    /// Assigns storage to one step's inputs and outputs.
    private mutating func place(_ entry: Planner.Scheduled, at index: Int, lastUse: [String: Int], live: inout Set<Int>) -> Step {
        let node = entry.node
        var inputStorage: [Storage?] = []
        for name in node.inputs {
            if name.isEmpty { inputStorage.append(nil); continue }
            inputStorage.append(storage[name] ?? constantStorage(name))
        }
        var outputStorage: [Storage] = []
        for (j, name) in node.outputs.enumerated() {
            let type = entry.outputTypes[j]
            let bytes = type.dtype.storageBytes(count: checkedElementCount(type.shape.staticSizes!)!) ?? 0
            let last = name.isEmpty ? index : (lastUse[name] ?? index)
            var chosen: Storage?
            if let place = concatPlaces[name] ?? (j == 0 ? concatViews[name] : nil) {
                let b = concatBuffers[place.concat] ?? newBuffer(place.bytes, from: index, until: lastUse[place.concat] ?? index, live: &live)
                concatBuffers[place.concat] = b
                buffers[b].last = max(buffers[b].last, last)
                chosen = .view(slot: b, offset: place.offset)
            } else if j == 0, let b = concatBuffers[name] {
                chosen = .slot(b)
                buffers[b].last = max(buffers[b].last, last)
            } else if j == 0, let a = entry.kernel.aliasInput, let source = inputStorage[a] {
                chosen = source
                if let s = source.arenaSlot { buffers[s].last = max(buffers[s].last, last) }
            } else if j == 0, entry.kernel.inPlace, let source = inputStorage[0], case .slot(let s) = source,
                      buffers[s].last <= index, buffers[s].bytes >= bytes,
                      node.inputs.dropFirst().allSatisfy({ $0 != node.inputs[0] }) {
                chosen = source
                buffers[s].last = last
            }
            let final = chosen ?? .slot(newBuffer(bytes, from: index, until: last, live: &live))
            outputStorage.append(final)
            if !name.isEmpty { storage[name] = final }
        }
        return Step(label: node.label, opType: node.opType, outputNames: node.outputs, inputs: inputStorage,
                    outputs: outputStorage, outputTypes: entry.outputTypes, kernel: entry.kernel)
    }

    /// The inputs that can be written straight into their Concat's output, with their byte offsets there,
    /// and the Concats whose output can be the first bytes of another's (`views`). Concats along an axis
    /// with only ones before it whose inputs are a prefix of a longer Concat's inputs (DenseNet's dense
    /// blocks: each Concat takes the one before it plus one feature) form a chain whose longest member, the
    /// root, holds every input at its one place, the others being views of its first bytes. An input is
    /// placed when it is produced by a step of this plan (not by a view of another value), is not a graph
    /// input, output or constant, and every Concat that takes it (once) shares one root.
    static func concatPlaces(_ lowered: Planner.Lowered, graph: Graph, inputNames: [String])
        -> (places: [String: ConcatPlace], views: [String: ConcatPlace]) {
        var producers: [String: Planner.Scheduled] = [:]
        var concatUses: [String: Int] = [:]
        for entry in lowered.scheduled {
            for name in entry.node.outputs where !name.isEmpty { producers[name] = entry }
            if entry.node.opType == "Concat" { for name in entry.node.inputs where !name.isEmpty { concatUses[name, default: 0] += 1 } }
        }
        let outputs = Set(graph.outputs.map(\.name)), inputs = Set(inputNames)
        // The Concats whose inputs are each one run of the output's bytes, with their inputs' byte offsets.
        struct Candidate {
            let output: String, inputs: [String], offsets: [Int], total: Int, axis: Int
        }
        var candidates: [Candidate] = []
        for entry in lowered.scheduled where entry.node.opType == "Concat" && entry.node.outputs.count == 1 && !entry.node.outputs[0].isEmpty {
            let type = entry.outputTypes[0]
            guard let sizes = type.shape.staticSizes, let total = checkedElementCount(sizes).flatMap(type.dtype.storageBytes(count:)),
                  case .int(let axisValue) = entry.node.attribute("axis") else { continue }
            let axis = axisValue < 0 ? Int(axisValue) + sizes.count : Int(axisValue)
            guard axis >= 0 && axis < sizes.count && sizes[..<axis].allSatisfy({ $0 == 1 }) else { continue }
            var offsets: [Int] = [], offset = 0
            for name in entry.node.inputs {
                guard let type = lowered.facts[name]?.type, let shape = type.shape.staticSizes, let count = checkedElementCount(shape),
                      let bytes = type.dtype.storageBytes(count: count) else { break }
                offsets.append(offset)
                offset += bytes
            }
            // Inputs after one of unknown size have no known place.
            candidates.append(Candidate(output: entry.node.outputs[0], inputs: entry.node.inputs, offsets: offsets, total: total, axis: axis))
        }
        // Each candidate's root: the longest candidate along the same axis that starts with its inputs, when
        // every such candidate is a prefix of it (a chain, not branches); else itself.
        func starts(_ long: Candidate, with short: Candidate) -> Bool {
            long.axis == short.axis && long.inputs.count >= short.inputs.count && long.offsets.count >= short.offsets.count
                && short.offsets.count == short.inputs.count && Array(long.inputs.prefix(short.inputs.count)) == short.inputs
        }
        var root: [String: Int] = [:]
        for (i, c) in candidates.enumerated() {
            let longer = candidates.indices.filter { starts(candidates[$0], with: c) }
            let longest = longer.max { candidates[$0].inputs.count < candidates[$1].inputs.count } ?? i
            root[c.output] = longer.allSatisfy { starts(candidates[longest], with: candidates[$0]) } ? longest : i
        }
        var places: [String: ConcatPlace] = [:], views: [String: ConcatPlace] = [:]
        var roots: [String: Set<Int>] = [:], takers: [String: Int] = [:]
        for c in candidates {
            for name in c.inputs { roots[name, default: []].insert(root[c.output]!); takers[name, default: 0] += 1 }
        }
        for c in candidates {
            let r = candidates[root[c.output]!]
            if r.output != c.output, !outputs.contains(c.output) {
                views[c.output] = ConcatPlace(concat: r.output, bytes: r.total, offset: 0)
            }
            for (index, name) in c.inputs.enumerated() where index < r.offsets.count {
                if let producer = producers[name], producer.kernel.aliasInput == nil || producer.node.outputs.first != name,
                   roots[name]?.count == 1, concatUses[name] == takers[name], c.inputs.filter({ $0 == name }).count == 1,
                   !outputs.contains(name), !inputs.contains(name), lowered.facts[name]?.value == nil {
                    places[name] = ConcatPlace(concat: r.output, bytes: r.total, offset: r.offsets[index])
                }
            }
        }
        return (places, views)
    }

    /// Where a Concat input is written: the Concat's output (its name and bytes) and the byte offset there.
    struct ConcatPlace {
        let concat: String
        let bytes: Int, offset: Int
    }

    /// The constant storage of a value known as a constant, registered on first use.
    private mutating func constantStorage(_ name: String) -> Storage? {
        if let index = constantIndex[name] { return .constant(index) }
        guard let tensor = lowered.facts[name]?.value else { return nil }
        constantIndex[name] = constants.count
        constants.append(tensor)
        return .constant(constants.count - 1)
    }

    /// A new buffer of `bytes` alive from step `first` to step `last`.
    private mutating func newBuffer(_ bytes: Int, from first: Int, until last: Int, live: inout Set<Int>) -> Int {
        buffers.append((bytes, first, last))
        live.insert(buffers.count - 1)
        return buffers.count - 1
    }
}
