"""A PyTorch twin of the mean-field Transformer (theory §1.2–1.3; `MeanFieldTransformer.swift`) and of
the Vision Transformer built on it (`VisionTransformer.swift`), from a checkpoint and its config,
with the checkpoint's own parameter names and layouts.

Tokens are columns: H ∈ R^{B×D×n}. Layer ℓ maps
    H ← H + (1/L^α)·(1/M) Σ_j W_OV,j H A_j(H)                    (merged heads; factored: O_j V_j H A_j)
    H ← H + (1/L^α)·(1/M′) Σ_j a_j σ(b_jᵀ H + c_j)
with A_j the score map (softmax over keys, linear, or ReLU/n) of S_j = Hᵀ W_KQ,j H / τ
(factored: (K_j H)ᵀ(Q_j H)/(τ√d_h)), each half-step reading layer-normalised tokens with `pre_norm`,
and 1/M replaced by 1/√M or 1 under `head_scaling` sqrt / one. The regression readout is ŷ =
H^{(L)}[d, N] (row d of the last token), R = ½·mean(ŷ − y)²; with `gamma0` the output is the
centred (f − f₀)/γ₀, f₀ the output at the run's initial parameters (theory §1.7).

Image tasks (the ViT): images [B, C, H, W] are cut into p×p patches (row-major over the grid, entry
(ch, dy, dx) at ch·p·p + dy·p + dx), tokens[:, f + i] = E·patch_i + e + P[:, f + i] (with a class
token, f = 1 and tokens[:, 0] = classToken + P[:, 0]), and logits = W·pool(H^{(L)}) + b (mean over
tokens, or the class token); R is the mean cross-entropy.

Requires torch (`pip install torch`).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from ._twin_base import ACTIVATIONS, LEGACY_PARAMETRIZATION, Twin, as_input
from .philox import Philox
from .tasks import run_dtype



IMAGE_TASKS = ("fashion-mnist", "mnist", "cifar-10", "cifar-100", "synthetic-images")
#: Channels, height, width and classes of each image task.
IMAGE_SHAPES = {"fashion-mnist": (1, 28, 28, 10), "mnist": (1, 28, 28, 10), "cifar-10": (3, 32, 32, 10),
                "cifar-100": (3, 32, 32, 100), "synthetic-images": (1, 8, 8, 4)}


def _embedding_shapes(config):
    """{name: (shape, std, stream)} of a ViT's embedding (streams 2³² + k; std None: zeros)."""
    C, H, W, _ = IMAGE_SHAPES[config["task"]]
    p, D = config["patch"], config["token_dim"]
    tokens = (H // p) * (W // p) + (1 if config.get("class_token") else 0)
    shapes = {"embedding.patch.weight": ((D, C * p * p), 1 / math.sqrt(C * p * p), 0),
              "embedding.patch.bias": ((D,), None, None),
              "embedding.position": ((D, tokens), 0.02, 1)}
    if config.get("class_token"):
        shapes["embedding.classToken"] = ((D,), 0.02, 2)
    return shapes


def parameter_names(config):
    """The model's parameter names in the Swift store's order (`initialParameters`): a ViT's
    embedding first, then the Transformer's particles, then a classifier's readout."""
    image = config.get("task") in IMAGE_TASKS
    names = list(_embedding_shapes(config)) if image else []
    for layer in range(config["layers"]):
        prefix = f"layer{layer}."
        if config.get("attention", "merged") == "merged":
            names += [prefix + "attention.keyQuery", prefix + "attention.outputValue"]
        else:
            names += [prefix + "attention." + part for part in ("query", "key", "value", "output")]
        if config.get("ffn_units", 0) > 0:
            names += [prefix + "ffn.in", prefix + "ffn.bias", prefix + "ffn.out"]
    if image:
        names += ["readout.weight", "readout.bias"]
    return names


def _shapes(config):
    """{name: shape} of the Transformer's particles."""
    D = config.get("token_dim") or config["input_dim"] + 1
    M, units, width = config["heads"], config.get("ffn_units", 0), config.get("head_dim") or D
    shapes = {}
    for name in parameter_names(config):
        if not name.startswith("layer"):
            continue
        part = name.split(".", 1)[1]
        shapes[name] = {"attention.keyQuery": (M, D, D), "attention.outputValue": (M, D, D),
                        "attention.query": (M, width, D), "attention.key": (M, width, D),
                        "attention.value": (M, width, D), "attention.output": (M, D, width),
                        "ffn.in": (units, D), "ffn.bias": (units,), "ffn.out": (units, D)}[part]
    return shapes


def initial_parameters(config, dtype=None):
    """θ₀ of a run, regenerated from its seed: one Philox stream per tensor (1, 2, … in store
    order), N(0, init_std²) entry-wise, in the run's precision — the step-0 checkpoint, bit for bit."""
    dtype = dtype or run_dtype(config)
    seed = config.get("seed", 0)
    D = config.get("token_dim") or config["input_dim"] + 1
    std = config.get("init_std") or 1 / math.sqrt(D)
    parameters = {}
    if config.get("task") in IMAGE_TASKS:
        for name, (shape, deviation, stream) in _embedding_shapes(config).items():
            parameters[name] = np.zeros(shape, dtype=dtype) if deviation is None else \
                Philox(seed, (1 << 32) + stream).normal(shape, std=deviation, dtype=dtype)
    for index, (name, shape) in enumerate(_shapes(config).items()):
        parameters[name] = Philox(seed, 1 + index).normal(shape, std=std, dtype=dtype)
    if config.get("task") in IMAGE_TASKS:
        classes = IMAGE_SHAPES[config["task"]][3]
        parameters["readout.weight"] = np.zeros((classes, D), dtype=dtype)
        parameters["readout.bias"] = np.zeros((classes,), dtype=dtype)
    return parameters


class TransformerTwin(Twin):
    """The mean-field Transformer of a run's `config` (config.json's keys) with `parameters`
    ({name: array or tensor}, as in a checkpoint). `parametrization` (the checkpoint's) sets the
    head average; `initial` (θ₀, same form) turns on the centred output when the config has `gamma0`.
    Parameters are `torch.nn.Parameter`s, named as in the checkpoint (`twin.parameter(name)`)."""

    def __init__(self, config, parameters, parametrization=None, initial=None, dtype=None):
        super().__init__()
        if config.get("model", "transformer") != "transformer":
            raise ValueError(f"model {config.get('model')!r}: TransformerTwin builds the mean-field Transformer only")
        self.config = dict(config)
        self.dtype = dtype or (torch.float64 if run_dtype(config) == np.float64 else torch.float32)
        self.parametrization = dict(parametrization or LEGACY_PARAMETRIZATION)
        c = self.config
        self.dimension = c.get("token_dim") or c["input_dim"] + 1
        self.layers, self.heads, self.units = c["layers"], c["heads"], c.get("ffn_units", 0)
        self.attention = c.get("attention", "merged")
        self.head_dim = c.get("head_dim") or self.dimension
        self.temperature = c.get("temperature", 1.0)
        self.alpha = c.get("residual_exponent", 1.0)
        self.score = c.get("score", "softmax")
        self.activation = ACTIVATIONS[c.get("activation", "relu")]
        self.pre_norm = c.get("pre_norm", False)
        self.label_row = c.get("input_dim", self.dimension - 1)
        self.gamma0 = c.get("gamma0")
        self.image = c.get("task") in IMAGE_TASKS
        self.class_token = bool(c.get("class_token")) and self.image
        self.patch = c.get("patch", 1)
        self.names = parameter_names(c)
        self._register(parameters)
        self.initial = None
        if self.gamma0 is not None:
            if initial is None:
                initial = initial_parameters(c, np.float64 if self.dtype == torch.float64 else np.float32)
            self.initial = TransformerTwin({**c, "gamma0": None}, initial, parametrization, dtype=self.dtype)
            self.initial.requires_grad_(False)

    # Factors (docs/run-format.md "Flow scales"; Parametrization.swift).

    @property
    def residual_step(self):
        """1/L^α."""
        return 1 / self.layers ** self.alpha

    @property
    def head_divisor(self):
        """M, √M or 1 (`head_scaling`)."""
        scaling = self.config.get("head_scaling", self.parametrization.get("head_scaling", "mean-field"))
        return {"mean-field": self.heads, "sqrt": math.sqrt(self.heads), "one": 1.0}[scaling]

    def particles_per_layer(self, name):
        """M (heads) for attention tensors, M′ (units) for feed-forward ones, None for the others."""
        if not name.startswith("layer"):
            return None
        return self.heads if ".attention." in name else self.units

    # The model.

    @staticmethod
    def _normalized(H):
        """Layer norm of each token (column) over D, no affine part, ε = 1e-5."""
        return F.layer_norm(H.transpose(1, 2), (H.shape[1],), eps=1e-5).transpose(1, 2)

    def _attention(self, X, layer):
        n = X.shape[2]
        Xb = X.unsqueeze(1)                                                     # [B, 1, D, n]
        p = lambda part: self.parameter(f"layer{layer}.attention.{part}")
        if self.attention == "merged":
            scores = Xb.transpose(2, 3) @ (p("keyQuery") @ Xb)                  # [B, M, n, n] = Xᵀ W_KQ X
            values = p("outputValue") @ Xb                                      # [B, M, D, n]
            scale = 1 / self.temperature
        else:
            scores = (p("key") @ Xb).transpose(2, 3) @ (p("query") @ Xb)       # (K X)ᵀ (Q X)
            values = p("output") @ (p("value") @ Xb)                            # O V X
            scale = 1 / (self.temperature * math.sqrt(self.head_dim))
        scaled = scores * scale
        if self.score == "softmax":
            weights = torch.softmax(scaled, dim=2)                              # over keys i, per query column j
        elif self.score == "linear":
            weights = scaled
        else:
            weights = F.relu(scaled) * (1 / n)
        return (values @ weights).sum(dim=1) * (1 / self.head_divisor)

    def _feed_forward(self, X, layer):
        p = lambda part: self.parameter(f"layer{layer}.ffn.{part}")
        pre = p("in") @ X + p("bias").unsqueeze(1)                              # [B, M′, n]
        return p("out").transpose(0, 1) @ self.activation(pre) * (1 / self.units)

    def states(self, tokens):
        """H^{(0)} = tokens, …, H^{(L)} ([B, D, n] each)."""
        H = as_input(tokens, self.dtype)
        states, step = [H], self.residual_step
        for layer in range(self.layers):
            H = H + self._attention(self._normalized(H) if self.pre_norm else H, layer) * step
            if self.units > 0:
                H = H + self._feed_forward(self._normalized(H) if self.pre_norm else H, layer) * step
            states.append(H)
        return states

    def forward(self, tokens):
        """H^{(L)} for tokens [B, D, n]."""
        return self.states(tokens)[-1]

    def embed(self, images):
        """The ViT's tokens [B, D, n] of images [B, C, H, W]."""
        x = as_input(images, self.dtype)
        B, C, H, W = x.shape
        p = self.patch
        patches = x.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5).reshape(B, (H // p) * (W // p), C * p * p)
        tokens = (patches @ self.parameter("embedding.patch.weight").T + self.parameter("embedding.patch.bias")).transpose(1, 2)
        if self.class_token:
            token = self.parameter("embedding.classToken").reshape(1, -1, 1).expand(B, -1, 1)
            tokens = torch.cat([token, tokens], dim=2)
        return tokens + self.parameter("embedding.position")

    def predict(self, inputs):
        """Regression: ŷ [B] = H^{(L)}[d, last token] of tokens [B, D, n]; image tasks: the logits
        [B, C] of images [B, C, H, W]. Centred ((f − f₀)/γ₀) with `gamma0`."""
        if self.image:
            output = self.forward(self.embed(inputs))
            pooled = output[:, :, 0] if self.class_token else output.mean(dim=2)
            output = pooled @ self.parameter("readout.weight").T + self.parameter("readout.bias")
        else:
            output = self.forward(inputs)[:, self.label_row, -1]
        if self.initial is not None:
            with torch.no_grad():
                offset = self.initial.predict(inputs)
            output = (output - offset) * (1 / self.gamma0)
        return output

    def risk(self, inputs, targets):
        """R (a 0-d tensor, differentiable): ½·mean(ŷ − y)² (regression), the mean cross-entropy of
        integer labels (image tasks)."""
        if self.image:
            return F.cross_entropy(self.predict(inputs), torch.as_tensor(np.asarray(targets), dtype=torch.long))
        return ((self.predict(inputs) - as_input(targets, self.dtype)) ** 2).mean() * 0.5
