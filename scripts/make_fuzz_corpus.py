#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (Sources/meanfield-fuzz) to Tests/FuzzCorpus/<target>/.

Small valid files (named ok-*, which the reader must accept) and near-valid ones (bad-*, one field
wrong, which it must refuse), so the fuzzer starts past the magic numbers and headers. Deterministic:
rerunning writes the same bytes. Inputs the fuzzer found are added by hand (finding-*: answered, read
or refused, without a crash), and `swift test` replays every file (FuzzCorpusTests).
"""
import gzip, json, os, struct, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FuzzCorpus")


def write(target, name, data):
    folder = os.path.join(root, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


# IDX: images [count, rows, columns] and labels [count], plain and gzip (mtime 0: same bytes).
images = idx([2, 3, 3], bytes(range(18)))
labels = idx([5], bytes([0, 1, 9, 3, 4]))
write("idx", "ok-images-2x3x3", images)
write("idx", "ok-labels-5", labels)
write("idx", "ok-images-2x3x3.gz", gzip.compress(images, mtime=0))
write("idx", "ok-labels-5.gz", gzip.compress(labels, mtime=0))
write("idx", "bad-images-truncated", images[:-4])
write("idx", "bad-labels-out-of-range", idx([3], bytes([0, 10, 255])))
write("idx", "bad-images-huge-header", idx([0xFFFFFFFF, 28, 28], b""))
write("idx", "bad-rank-4", idx([1, 1, 2, 2], bytes(4)))
write("idx", "bad-float-type", bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1) + bytes(4))

# CIFAR: one record of each layout (label bytes, then 3072 pixels), and near misses.
pixels = bytes((i * 7) % 256 for i in range(3072))
write("cifar", "ok-cifar10-1", bytes([3]) + pixels)
write("cifar", "ok-cifar100-1", bytes([7, 42]) + pixels)
write("cifar", "bad-cifar10-2-label-10", bytes([3]) + pixels + bytes([10]) + pixels)
write("cifar", "bad-truncated", bytes([3]) + pixels[:-1])
write("cifar", "bad-gzip", gzip.compress(bytes([3]) + pixels, mtime=0))


def safetensors(tensors, metadata=None, hashed=False):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    meta = dict(metadata or {})
    if hashed:
        # A well-formed content hash that does not match: the reader must refuse the file.
        meta["content_sha256"] = "0" * 64
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
f64 = struct.pack("<2d", 1.0, float("inf"))
write("safetensors", "ok-two-tensors", safetensors({"w": ("F32", [2, 2], f32), "b": ("F64", [2], f64)}))
write("safetensors", "ok-metadata", safetensors({"w": ("F32", [4], f32)}, {"format": "pt", "step": "3"}))
write("safetensors", "bad-hash", safetensors({"w": ("F32", [4], f32)}, hashed=True))
write("safetensors", "ok-empty-tensor", safetensors({"e": ("F32", [0, 3], b"")}))
write("safetensors", "bad-dtype-i8", safetensors({"w": ("I8", [4], bytes(4))}))
write("safetensors", "bad-shape-mismatch", safetensors({"w": ("F32", [3], f32)}))
write("safetensors", "bad-truncated", safetensors({"w": ("F32", [2, 2], f32)})[:-3])
fixtures = os.path.join(root, "..", "MeanFieldTests", "Fixtures")
for name in ["numpy-written.safetensors", "safetensors-package-written.safetensors"]:
    with open(os.path.join(fixtures, name), "rb") as f:
        write("safetensors", "ok-" + name, f.read())

# Config files: the first byte picks the format (0 TOML, 1 JSON, 2 YAML: ConfigFile.Format.allCases).
toml = b'heads = 4\nlayers = 2\nlr = 0.01\noptimizer = "adamw"\nbeta2 = 0.999\nsteps = 100\n'
write("config", "ok-basic.toml", b"\x00" + toml)
write("config", "bad-value.toml", b"\x00heads = 0\nlayers = [1, 2]\n")
write("config", "bad-table.toml", b"\x00[model]\nheads = 4\n")
write("config", "ok-basic.json", b'\x01{"heads": 4, "layers": 2, "lr": 0.01, "task": "icl-regression", "seed": 7}')
write("config", "bad-nested.json", b'\x01{"heads": {"a": [1, 2]}, "lr": null}')
write("config", "ok-cosine.yaml", b"\x02heads: 4\nlayers: 2\nlr: 1e-2\nschedule: cosine\nmin_lr: 0.001\nsteps: 50\n")
write("config", "ok-aliases.yaml", b"\x02heads: &a 4\nlayers: *a\nffn_units: *a\n")
write("config", "bad-aliased-list.yaml", b"\x02l: &l [1, 2]\nheads: *l\n")
write("config", "bad-control-character.toml", b"\x00heads = 4\n[\x02ex\n")
write("config", "bad-huge-number.yaml", b"\x02examples: 9223372036854775807\nsteps: 1e13\n")
