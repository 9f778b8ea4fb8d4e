#!/usr/bin/env python3
"""An independent safetensors reader/writer in NumPy (no `safetensors` package), used to check
MeanField's checkpoints (Sources/MeanFieldTraining/Checkpoints/SafeTensors.swift) from the outside.

Format: [u64 little-endian N][N bytes JSON header][data]; header maps names to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data) and "__metadata__" to a
string map.

  python3 scripts/safetensors_reference.py read FILE     # prints JSON: every tensor's dtype, shape, values; metadata
  python3 scripts/safetensors_reference.py write FILE    # writes the fixture read by Tests/MeanFieldTests/CheckpointTests.swift
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length].decode("utf-8"))
    data = blob[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = {"dtype": info["dtype"], "shape": list(array.shape),
                         "values": [float(v) for v in array.reshape(-1)]}
    return tensors, metadata


def write(path, tensors, metadata):
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.array(array, order="C")  # (ascontiguousarray would turn a 0-d array into 1-d)
        dtype = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}[array.dtype]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def fixture():
    """The fixture's tensors: values the Swift test checks exactly."""
    return {
        "weights": (np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1)),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "precise": np.array([[1.0 / 3.0, -2.5e-300], [np.pi, 1e300]], dtype=np.float64),
    }, {"written_by": "numpy", "step": "7"}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "write"):
        sys.exit(__doc__)
    if sys.argv[1] == "read":
        tensors, metadata = read(sys.argv[2])
        print(json.dumps({"tensors": tensors, "metadata": metadata}))
    else:
        write(sys.argv[2], *fixture())
