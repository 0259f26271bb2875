// The runtime's API speaks in the IR's types (`Tensor`, `DType`, `Shape`, `Model`), so importing
// VigilRuntime imports them too.
@_exported import VigilIR
