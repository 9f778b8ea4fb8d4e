"""The images of an image run, as the binary prepares them (`Sources/MeanFieldModels/Data`,
`Tasks/SyntheticImages.swift`, `Driver/ImageClassificationTask.swift`): the class-balanced subsets
(`subset`, `test_subset`), the per-channel normalisation fitted to the training subset, and the
batch order of every epoch (no augmentation).

`synthetic-images` is generated here from the seed; Fashion-MNIST and MNIST (IDX files, gzipped or
not) and CIFAR-10/100 (the binary archives) are read from the run's `data` folder, else the default
one (`/usr/share/datasets/fashion-mnist`, `/usr/share/datasets/mnist`), as the binary reads them.
"""
import gzip
import math
import os

import numpy as np

from .philox import Philox
from .tasks import run_dtype

SUBSET_STREAM = 0xD2 << 56
SHUFFLE_TAG = 0xD1 << 56
SYNTHETIC_SHAPE = (1, 8, 8)
SYNTHETIC_CLASSES = 4
_CENTRES = [(2, 2), (2, 5), (5, 2), (5, 5)]


def _rounded(value):
    """Swift's `rounded()`: to nearest, ties away from zero."""
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def synthetic_images(count, seed):
    """`SyntheticImages.make`: uint8 pixels [count, 1, 8, 8] and labels (index mod 4)."""
    H, W = SYNTHETIC_SHAPE[1:]
    pixels = np.zeros((count, 1, H, W), dtype=np.uint8)
    labels = np.arange(count) % SYNTHETIC_CLASSES
    for index in range(count):
        u = Philox(seed, index).uniform((4 + H * W,), dtype=np.float64).tolist()
        cy, cx = _CENTRES[labels[index]]
        y0, x0, brightness = cy + (u[0] * 2 - 1), cx + (u[1] * 2 - 1), 150 + 100 * u[2]
        for y in range(H):
            for x in range(W):
                d2 = (y - y0) * (y - y0) + (x - x0) * (x - x0)
                value = brightness * math.exp(-d2 / 3) + 40 * u[4 + y * W + x]
                pixels[index, 0, y, x] = max(0, min(255, _rounded(value)))
    return pixels, labels


def synthetic_splits(seed):
    """The synthetic-images training (1,000) and test (200) sets of a run's seed."""
    mask = (1 << 64) - 1
    return synthetic_images(1000, (seed + 1_000_003) & mask), synthetic_images(200, (seed + 2_000_003) & mask)


DEFAULT_FOLDERS = {"fashion-mnist": "/usr/share/datasets/fashion-mnist", "mnist": "/usr/share/datasets/mnist"}


def _idx(folder, base):
    """The array of IDX file `base` (`.gz`, plain, or `.idx` spelled with a dot) in `folder`."""
    dotted = base.replace("-idx", ".idx")
    for name in (base + ".gz", base, dotted + ".gz", dotted):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with (gzip.open if name.endswith(".gz") else open)(path, "rb") as handle:
                data = handle.read()
            rank = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)
    raise FileNotFoundError(f"{folder}: no {base}.gz (or {base}); pass the folder the run read (its config's `data`)")


def _cifar(folder, files, label_bytes):
    """Pixels [n, 3, 32, 32] and the (fine) labels of CIFAR binary files."""
    records = [np.fromfile(os.path.join(folder, f), dtype=np.uint8).reshape(-1, label_bytes + 3072) for f in files]
    data = np.concatenate(records)
    return data[:, label_bytes:].reshape(-1, 3, 32, 32), data[:, label_bytes - 1].astype(np.int64)


def read_splits(task, data=None):
    """((train pixels, labels), (test pixels, labels)) of an image task: uint8 [n, C, H, W], int64."""
    if task == "synthetic-images":
        raise ValueError("synthetic-images is generated from the seed: use synthetic_splits(seed)")
    folder = data or DEFAULT_FOLDERS.get(task)
    if folder is None:
        raise ValueError(f"task {task!r}: give the folder of its files (the run's `data` key)")
    if task in ("fashion-mnist", "mnist"):
        def split(prefix):
            images = _idx(folder, f"{prefix}-images-idx3-ubyte")
            return images[:, None, :, :], _idx(folder, f"{prefix}-labels-idx1-ubyte").astype(np.int64)
        return split("train"), split("t10k")
    subfolder, train, test, label_bytes = {
        "cifar-10": ("cifar-10-batches-bin", [f"data_batch_{i}.bin" for i in range(1, 6)], "test_batch.bin", 1),
        "cifar-100": ("cifar-100-binary", ["train.bin"], "test.bin", 2)}[task]
    if not os.path.isfile(os.path.join(folder, train[0])):
        folder = os.path.join(folder, subfolder)
    return _cifar(folder, train, label_bytes), _cifar(folder, [test], label_bytes)


def permutation(count, seed, stream):
    """`SeededShuffle.permutation`: Fisher–Yates from the back, one Philox block per draw."""
    random, order = Philox(seed, stream), list(range(count))
    for position in range(count - 1, 0, -1):
        other = random.below(position + 1)
        order[position], order[other] = order[other], order[position]
    return order


def class_balanced_subset(labels, size, seed, classes):
    """The indices (ascending) of the `--subset size` images: the first ⌈N/C⌉ or ⌊N/C⌋ of each class
    in the shuffle of stream 0xD2·2⁵⁶ (the first N mod C classes get one more)."""
    quota = [size // classes + (1 if c < size % classes else 0) for c in range(classes)]
    taken, chosen = [0] * classes, []
    for index in permutation(len(labels), seed, SUBSET_STREAM):
        label = int(labels[index])
        if taken[label] < quota[label]:
            taken[label] += 1
            chosen.append(index)
            if len(chosen) == size:
                break
    return sorted(chosen)


def fitted_normalization(pixels):
    """Per-channel mean and population std of pixels/255 (float64 from histograms, then float32)."""
    means, deviations = [], []
    for channel in range(pixels.shape[1]):
        histogram = np.bincount(pixels[:, channel].reshape(-1), minlength=256)
        total = float(histogram.sum())
        values = [byte / 255 for byte in range(256)]
        total_sum = 0.0
        for value, frequency in zip(values, histogram.tolist()):
            total_sum += value * frequency
        mean = total_sum / total
        squares = 0.0
        for value, frequency in zip(values, histogram.tolist()):
            squares += (value - mean) * (value - mean) * frequency
        means.append(np.float32(mean))
        deviations.append(np.float32(max(math.sqrt(squares / total), 1e-6)))
    return np.array(means, dtype=np.float32), np.array(deviations, dtype=np.float32)


def normalized(pixels, mean, std):
    """(p/255 − mean[c])/std[c] in float32, per channel (the loader's lookup table)."""
    table = (np.arange(256, dtype=np.float32)[None, :] / np.float32(255) - mean[:, None]) / std[:, None]
    channels = np.arange(pixels.shape[1])[None, :, None, None]
    return table[channels, pixels]


class ImageData:
    """The images of an image run (`splits`: the full sets as `read_splits` returns them; None reads
    or generates them): `train` and `test` (normalised images [n, C, H, W] in the run's
    precision, int labels), `mean`/`std` (the normalisation), `train_indices`/`test_indices` (the
    subsets in the full sets) and `batch(step)` (the training batch of step k: batch k mod S of epoch
    ⌊k/S⌋ + 1's shuffle; no augmentation, so runs with `augment` differ)."""

    def __init__(self, config, splits=None, dtype=None):
        task = config.get("task")
        if splits is None:
            splits = synthetic_splits(int(config.get("seed", 0))) if task == "synthetic-images" \
                else read_splits(task, config.get("data"))
        self.seed, self.dtype = int(config.get("seed", 0)), dtype or run_dtype(config)
        (train_pixels, train_labels), (test_pixels, test_labels) = splits
        classes = int(max(train_labels.max(), test_labels.max())) + 1
        subset, test_subset = config.get("subset", 0), config.get("test_subset", 0)
        self.train_indices = class_balanced_subset(train_labels, subset, self.seed, classes) if subset else list(range(len(train_labels)))
        self.test_indices = class_balanced_subset(test_labels, test_subset, self.seed, classes) if test_subset else list(range(len(test_labels)))
        train_pixels, self.train_labels = train_pixels[self.train_indices], np.asarray(train_labels)[self.train_indices]
        test_pixels, self.test_labels = test_pixels[self.test_indices], np.asarray(test_labels)[self.test_indices]
        self.mean, self.std = fitted_normalization(train_pixels)
        self.train = (normalized(train_pixels, self.mean, self.std).astype(self.dtype), self.train_labels)
        self.test = (normalized(test_pixels, self.mean, self.std).astype(self.dtype), self.test_labels)
        count = len(self.train_labels)
        batch = config.get("batch_size", 0)
        self.batch_size = count if batch == 0 else batch
        self.steps_per_epoch = max(count // self.batch_size, 1)
        self._order = None

    @classmethod
    def from_run(cls, run, splits=None):
        """The images of a `Run`."""
        return cls(run.config, splits)

    def batch(self, step):
        """(images, labels) of training step `step`."""
        epoch, number = step // self.steps_per_epoch + 1, step % self.steps_per_epoch
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, permutation(len(self.train_labels), self.seed, SHUFFLE_TAG | epoch))
        indices = self._order[1][number * self.batch_size:(number + 1) * self.batch_size]
        return self.train[0][indices], self.train_labels[indices]
