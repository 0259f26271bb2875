import VigilIR
import VigilOps

/// Where every value of a lowered model lives while it runs: constants, caller inputs, and arena
/// slots assigned by liveness (a dead value's slot is reused, best fit first), with views and
/// in-place kernels sharing their input's storage.
struct ArenaLayout {
    let lowered: Planner.Lowered
    let graph: Graph
    let inputNames: [String]
    let inputValues: [String: Tensor]
    let memoryLimit: Int

    private var storage: [String: Storage] = [:]
    private var constants: [Tensor] = []
    private var constantIndex: [String: Int] = [:]
    private var slotBytes: [Int] = []
    private var slotLast: [Int] = []
    private var live = Set<Int>()
    private var free: [Int] = []

    init(lowered: Planner.Lowered, graph: Graph, inputNames: [String], inputValues: [String: Tensor], memoryLimit: Int) {
        self.lowered = lowered
        self.graph = graph
        self.inputNames = inputNames
        self.inputValues = inputValues
        self.memoryLimit = memoryLimit
    }

    /// The plan: steps with their storage, the constants, the slot sizes and every value's place.
    mutating func plan() throws(ExecutorError) -> ExecutionPlan {
        let lastUse = lastUses()
        for (i, name) in inputNames.enumerated() where inputValues[name] == nil { storage[name] = .input(i) }
        var steps: [Step] = []
        var scratchBytes = 0
        for (index, entry) in lowered.scheduled.enumerated() {
            steps.append(place(entry, at: index, lastUse: lastUse))
            scratchBytes = max(scratchBytes, entry.kernel.scratchBytes)
            // The arena and scratch only grow: check the running total where it crosses the limit.
            let total = slotBytes.reduce(0) { $0 > Int.max - $1 ? Int.max : $0 + $1 }
            if total > memoryLimit - min(memoryLimit, scratchBytes) {
                throw .memoryLimit(node: entry.node.label, bytes: total > Int.max - scratchBytes ? Int.max : total + scratchBytes, limit: memoryLimit)
            }
            for s in live where slotLast[s] <= index {
                live.remove(s)
                free.append(s)
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
        return ExecutionPlan(constants: constants, steps: steps, slotBytes: slotBytes, scratchBytes: scratchBytes,
                             values: values, foldedOutputs: lowered.folded)
    }

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
    private mutating func place(_ entry: Planner.Scheduled, at index: Int, lastUse: [String: Int]) -> Step {
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
            if j == 0, let a = entry.kernel.aliasInput, let source = inputStorage[a] {
                chosen = source
                if case .slot(let s) = source { slotLast[s] = max(slotLast[s], last) }
            } else if j == 0, entry.kernel.inPlace, let source = inputStorage[0], case .slot(let s) = source,
                      slotLast[s] <= index, slotBytes[s] >= bytes,
                      node.inputs.dropFirst().allSatisfy({ $0 != node.inputs[0] }) {
                chosen = source
                slotLast[s] = last
            }
            let final = chosen ?? .slot(allocate(bytes, until: last))
            outputStorage.append(final)
            if !name.isEmpty { storage[name] = final }
        }
        return Step(label: node.label, opType: node.opType, outputNames: node.outputs, inputs: inputStorage,
                    outputs: outputStorage, outputTypes: entry.outputTypes, kernel: entry.kernel)
    }

    /// The constant storage of a value known as a constant, registered on first use.
    private mutating func constantStorage(_ name: String) -> Storage? {
        if let index = constantIndex[name] { return .constant(index) }
        guard let tensor = lowered.facts[name]?.value else { return nil }
        constantIndex[name] = constants.count
        constants.append(tensor)
        return .constant(constants.count - 1)
    }

    /// A slot of at least `bytes` live until step `last`: the best-fitting free slot, else the largest
    /// free slot grown, else a new one.
    private mutating func allocate(_ bytes: Int, until last: Int) -> Int {
        var best: Int?
        for s in free where slotBytes[s] >= bytes && (best == nil || slotBytes[s] < slotBytes[best!]) { best = s }
        if best == nil, let largest = free.max(by: { slotBytes[$0] < slotBytes[$1] }) {
            best = largest
            slotBytes[largest] = bytes
        }
        let slot: Int
        if let best {
            slot = best
            free.removeAll { $0 == best }
            slotLast[slot] = last
        } else {
            slot = slotBytes.count
            slotBytes.append(bytes)
            slotLast.append(last)
        }
        live.insert(slot)
        return slot
    }
}
