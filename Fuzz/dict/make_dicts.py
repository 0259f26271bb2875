"""Writes the libFuzzer dictionaries in this folder (run by hand: python3 Fuzz/dict/make_dicts.py)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def esc(b):
    return '"' + ''.join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else '\\x%02x' % c for c in b) + '"'


def tag(field, wire):
    v, out = (field << 3) | wire, b''
    while True:
        if v < 0x80:
            return out + bytes([v])
        out += bytes([v & 0x7f | 0x80])
        v >>= 7


def write(name, comment, words):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(f"# {comment}\n")
        for i, b in enumerate(words):
            f.write(f"kw{i}={esc(b)}\n")


# Protobuf tags of fields 1-25 in every wire type ONNX uses (varint, fixed64, length-delimited, fixed32).
onnx = [tag(f, w) for f in range(1, 26) for w in (0, 1, 2, 5)] + [
    b"Conv", b"Gemm", b"MatMul", b"Relu", b"Add", b"Reshape", b"Slice", b"Range", b"Resize", b"Pad", b"Expand", b"Tile",
    b"Concat", b"Transpose", b"Constant", b"If", b"Loop", b"Cast", b"Shape", b"Gather", b"external_data", b"location",
    b"offset", b"length", b"checksum", b"weights.bin", b"model.onnx.data", b"../", b"/etc/passwd", b"ai.onnx.ml",
    b"ai.vigil", b"kernel_shape", b"pads", b"strides", b"axes", b"perm", b"value",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\x00\x00\xc0\x7f"]
hdf5 = [b"\x89HDF\r\n\x1a\n", b"OHDR", b"OCHK", b"TREE", b"HEAP", b"SNOD", b"GCOL", b"FRHP", b"FHDB", b"FHIB", b"BTHD",
        b"BTIN", b"BTLF", b"FSHD", b"FSSE", b"EAHD", b"EAIB", b"EADB", b"FAHD", b"FADB", b"SMTB", b"SMLI",
        b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\x00\x00\x00\x00\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x01\x00\x00",
        b"model_config", b"model_weights", b"layer_names", b"weight_names", b"keras_version", b"backend",
        b"optimizer_weights", b"layers", b"vars", b"kernel", b"bias", b"kernel:0", b"class_name", b"config",
        b"Sequential", b"Functional", b"Dense", b"Conv2D", b"InputLayer", b"batch_shape", b"inbound_nodes", b"units",
        b"format", b"vigil-detector", b"format_version", b"class_count", b"dimension", b"counts", b"knn_k", b"means",
        b"precision", b"covariance", b"spread", b"training_embeddings", b"thresholds", b"nan", b"1e400",
        b"9223372036854775807", b"-0"]
zips = [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08", b"\x01\x00",
        b"\xff\xff\xff\xff", b"\x14\x00", b"\x2d\x00", b"\x08\x00", b"\x00\x08", b"config.json", b"metadata.json",
        b"model.weights.h5", b"a.npy", b"../", b"/", b"\x93NUMPY", b"'descr'", b"'shape'", b"'fortran_order'"] + hdf5[:8]
npy = [b"\x93NUMPY", b"\x01\x00", b"\x02\x00", b"\x03\x00", b"{", b"}", b"'descr'", b"'fortran_order'", b"'shape'",
       b"True", b"False", b"'<f4'", b"'>f8'", b"'|u1'", b"'<i8'", b"'<c8'", b"'O'", b"(", b")", b",", b": ", b"L",
       b"9223372036854775807", b"4294967296", b"\"descr\""]
write("onnx.dict", "protobuf tags of fields 1-25 in each wire type, ONNX op and key names, extreme varints", onnx)
write("hdf5.dict", "HDF5 signatures (superblock, object headers, B-trees, heaps), undefined addresses, Keras and detector names", hdf5)
write("zip.dict", "zip record signatures, zip64 markers, member names, .npy and HDF5 signatures", zips)
write("npy.dict", ".npy magic, versions, header keys and values", npy)
