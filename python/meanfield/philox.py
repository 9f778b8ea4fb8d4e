"""MeanField's random streams (`Sources/MeanFieldCore/Random/PhiloxRandom.swift`), bit for bit.

Philox4x32-10 keyed by the 64-bit seed; the 128-bit counter is (block index, stream id). Uniforms:
float32 takes the top 24 bits of one word (4 values per block), float64 53 bits of two words (2 per
block). Normals: Box–Muller on consecutive uniform pairs, z₀ = √(−2 log(1 − u₁)) cos(2π u₂),
z₁ = √(−2 log(1 − u₁)) sin(2π u₂), with the C library's `log`/`cos`/`sin` (`logf`/`cosf`/`sinf` in
float32) as Swift calls them, and Swift's `Float.pi` (π rounded toward zero). Integers in a range
(the permutations of mini-batches) follow Swift's `RandomNumberGenerator.next(upperBound:)`
(Lemire's method), one block per 64-bit word.
"""
import ctypes
import ctypes.util
import math

import numpy as np

_MASK = 0xFFFFFFFF
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
#: Swift's `Float.pi`: π rounded toward zero (0x40490FDA), one ulp below NumPy's float32(π).
FLOAT_PI = np.frombuffer(np.uint32(0x40490FDA).tobytes(), dtype=np.float32)[0]


def philox_blocks(seed, stream, start, count):
    """Blocks `start` … `start + count − 1` of (seed, stream): a [count, 4] uint64 array of 32-bit words."""
    index = np.uint64(start) + np.arange(count, dtype=np.uint64)
    mask = np.uint64(_MASK)
    c0, c1 = index & mask, index >> np.uint64(32)
    c2 = np.full(count, stream & _MASK, dtype=np.uint64)
    c3 = np.full(count, (stream >> 32) & _MASK, dtype=np.uint64)
    k0, k1 = seed & _MASK, (seed >> 32) & _MASK
    m0, m1, shift = np.uint64(_M0), np.uint64(_M1), np.uint64(32)
    for _ in range(10):
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (p1 >> shift) ^ c1 ^ np.uint64(k0), p1 & mask, (p0 >> shift) ^ c3 ^ np.uint64(k1), p0 & mask
        k0, k1 = (k0 + _W0) & _MASK, (k1 + _W1) & _MASK
    return np.stack([c0, c1, c2, c3], axis=1)


def _libm():
    name = ctypes.util.find_library("m") or "libm.so.6"
    library = ctypes.CDLL(name)
    functions = {}
    for function in ("logf", "cosf", "sinf"):
        f = getattr(library, function)
        f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
        functions[function] = f
    return functions


_LIBM = None


def _map_float32(function, values):
    """`function` (logf, cosf, sinf) of the C library on each float32 value."""
    global _LIBM
    if _LIBM is None:
        _LIBM = _libm()
    f = _LIBM[function]
    return np.array([f(v) for v in values.tolist()], dtype=np.float32)


def _map_float64(function, values):
    """`function` (log, cos, sin) of the C library on each float64 value (Python's math calls it)."""
    f = getattr(math, function)
    return np.array([f(v) for v in values.tolist()], dtype=np.float64)


class Philox:
    """A generator `(seed, stream)` positioned at `block_offset`, drawing as `PhiloxRandom` does."""

    def __init__(self, seed, stream=0, block_offset=0):
        self.seed, self.stream, self.block_offset = int(seed), int(stream), int(block_offset)

    def _take(self, count, dtype):
        """`count` uniforms in [0, 1) of `dtype` from the next blocks (the blocks they use are consumed)."""
        per_block = 4 if dtype == np.float32 else 2
        blocks = (count + per_block - 1) // per_block
        words = philox_blocks(self.seed, self.stream, self.block_offset, blocks)
        self.block_offset += blocks
        if dtype == np.float32:
            unit = (words >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16_777_216.0)
        else:
            bits = ((words[:, 0::2] << np.uint64(21)) ^ (words[:, 1::2] >> np.uint64(11))) & np.uint64((1 << 53) - 1)
            unit = bits.astype(np.float64) * (1.0 / 9_007_199_254_740_992.0)
        return unit.reshape(-1)[:count]

    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
        """i.i.d. uniforms in [low, high) (`PhiloxRandom.uniform`)."""
        dtype = np.dtype(dtype).type
        count = int(np.prod(shape, dtype=np.int64))
        unit = self._take(count, dtype)
        low, high = dtype(low), dtype(high)
        largest = max(low, np.nextafter(high, dtype(-np.inf)))
        return np.minimum(low + (high - low) * unit, largest).astype(dtype).reshape(shape)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32):
        """i.i.d. N(mean, std²) by Box–Muller (`PhiloxRandom.normal`)."""
        dtype = np.dtype(dtype).type
        count = int(np.prod(shape, dtype=np.int64))
        pairs = (count + 1) // 2
        unit = self._take(2 * pairs, dtype)
        first, second = unit[0::2], unit[1::2]
        mapped = _map_float32 if dtype == np.float32 else _map_float64
        names = ("logf", "cosf", "sinf") if dtype == np.float32 else ("log", "cos", "sin")
        two_pi = dtype(2) * (FLOAT_PI if dtype == np.float32 else dtype(math.pi))
        radius = np.sqrt(dtype(-2) * mapped(names[0], dtype(1) - first))
        angle = two_pi * second
        scaled = dtype(std) * radius
        values = np.empty(2 * pairs, dtype=dtype)
        values[0::2] = dtype(mean) + scaled * mapped(names[1], angle)
        values[1::2] = dtype(mean) + scaled * mapped(names[2], angle)
        return values[:count].reshape(shape)

    def next_u64(self):
        """`next()`: one block, its first two words as a 64-bit integer (blocks computed 4,096 at a time)."""
        buffer = getattr(self, "_words", None)
        if buffer is None or not 0 <= self.block_offset - buffer[0] < len(buffer[1]):
            words = philox_blocks(self.seed, self.stream, self.block_offset, 4096)
            buffer = self._words = (self.block_offset, (words[:, 0] | (words[:, 1] << np.uint64(32))).tolist())
        value = buffer[1][self.block_offset - buffer[0]]
        self.block_offset += 1
        return value

    def below(self, upper):
        """`next(upperBound:)`: an integer in [0, upper) by Lemire's nearly divisionless method."""
        product = self.next_u64() * upper
        low = product & 0xFFFFFFFFFFFFFFFF
        if low < upper:
            threshold = ((1 << 64) - upper) % upper
            while low < threshold:
                product = self.next_u64() * upper
                low = product & 0xFFFFFFFFFFFFFFFF
        return product >> 64

    def shuffled(self, count):
        """`Array(0..<count).shuffled(using:)`: Swift's Fisher–Yates from the front."""
        order = list(range(count))
        amount, current = count, 0
        while amount > 1:
            offset = self.below(amount)
            amount -= 1
            order[current], order[current + offset] = order[current + offset], order[current]
            current += 1
        return order
