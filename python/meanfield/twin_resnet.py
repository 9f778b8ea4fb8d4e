"""A PyTorch twin of the mean-field ResNets (theory §4–5; `MeanFieldResNet.swift`): `model` resnet
(two-layer blocks) and rff-resnet (random-feature blocks), built from a checkpoint and its config.

Rows are samples, X ∈ R^{B×D}: X₀ = x Eᵀ + e, then per layer
    two-layer:       X ← X + (1/L^α)(1/M) σ(X W_ℓᵀ + b_ℓ) U_ℓ
    random features: X ← X + (1/L^α)(1/r) φ(X Ωᵀ + β) Θ_ℓ,   φ = √2 cos or ReLU,
output f = X_L Rᵀ + c. Ω [r, D] and β [r] are not in checkpoints: they are drawn from the seed
(Philox stream 3·2³², float64, then the run's precision). Regression risk R = ½·mean_b |f_b − y_b|²,
classification the mean cross-entropy; with `gamma0` the output is (f − f₀)/γ₀.

Requires torch.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from .philox import Philox
from .tasks import run_dtype
from ._twin_base import ACTIVATIONS, LEGACY_PARAMETRIZATION, Twin, as_input, detached

FEATURE_STREAM = 3 << 32


def resnet_shapes(config, inputs, outputs):
    """{name: shape} of a ResNet in the Swift store's order (`initialParameters`) and each tensor's init std."""
    D, M, L = config["hidden_dim"], config["units"], config["layers"]
    std = config.get("init_std") or 1 / math.sqrt(D)
    shapes = {"embedding.weight": ((D, inputs), 1 / math.sqrt(inputs)), "embedding.bias": ((D,), None)}
    for layer in range(L):
        if config["model"] == "resnet":
            shapes[f"layer{layer}.in"] = ((M, D), std)
            shapes[f"layer{layer}.bias"] = ((M,), std)
            shapes[f"layer{layer}.out"] = ((M, D), std)
        else:
            shapes[f"layer{layer}.out"] = ((M, D), None)
    shapes["readout.weight"] = ((outputs, D), 1 / math.sqrt(D))
    shapes["readout.bias"] = ((outputs,), None)
    return shapes


def resnet_initial_parameters(config, inputs, outputs, dtype=None):
    """θ₀ from the seed: a Philox stream per drawn tensor (1, 2, … in store order), zeros for e, c and Θ."""
    dtype = dtype or run_dtype(config)
    parameters, stream = {}, 1
    for name, (shape, std) in resnet_shapes(config, inputs, outputs).items():
        if std is None:
            parameters[name] = np.zeros(shape, dtype=dtype)
        else:
            parameters[name] = Philox(config.get("seed", 0), stream).normal(shape, std=std, dtype=dtype)
            stream += 1
    return parameters


def random_features(config):
    """Ω [r, D] ~ N(0, σ²) and β [r] (U[0, 2π) for cos, N(0, σ²) for ReLU), float64, σ = feature_scale or 1/√D."""
    D, r = config["hidden_dim"], config["units"]
    sigma = config.get("feature_scale") or 1 / math.sqrt(D)
    random = Philox(config.get("seed", 0), FEATURE_STREAM)
    omega = random.normal((r, D), std=sigma, dtype=np.float64)
    if config.get("feature_map", "cos") == "cos":
        phase = random.uniform((r,), low=0.0, high=2 * math.pi, dtype=np.float64)
    else:
        phase = random.normal((r,), std=sigma, dtype=np.float64)
    return omega, phase


class ResNetTwin(Twin):
    """The mean-field ResNet of a run's `config` with `parameters` ({name: array or tensor}, as in a
    checkpoint). `initial` (θ₀) is used with `gamma0` (None: regenerated from the seed)."""

    def __init__(self, config, parameters, parametrization=None, initial=None, dtype=None):
        super().__init__()
        if config.get("model") not in ("resnet", "rff-resnet"):
            raise ValueError(f"model {config.get('model')!r}: ResNetTwin builds resnet and rff-resnet only")
        self.config = dict(config)
        self.dtype = dtype or (torch.float64 if run_dtype(config) == np.float64 else torch.float32)
        self.parametrization = dict(parametrization or LEGACY_PARAMETRIZATION)
        self.layers, self.units = config["layers"], config["units"]
        self.alpha = config.get("residual_exponent", 1.0)
        self.inputs = parameters["embedding.weight"].shape[1]
        self.outputs = parameters["readout.weight"].shape[0]
        self.names = list(resnet_shapes(config, self.inputs, self.outputs))
        self._register(parameters)
        self.activation = ACTIVATIONS[config.get("activation", "relu")]
        if config["model"] == "rff-resnet":
            omega, phase = random_features(config)
            self.register_buffer("omega", detached(omega, self.dtype))
            self.register_buffer("phase", detached(phase, self.dtype))
        self.gamma0 = config.get("gamma0")
        self.initial = None
        if self.gamma0 is not None:
            if initial is None:
                initial = resnet_initial_parameters(config, self.inputs, self.outputs,
                                                    np.float64 if self.dtype == torch.float64 else np.float32)
            self.initial = ResNetTwin({**config, "gamma0": None}, initial, parametrization, dtype=self.dtype)
            self.initial.requires_grad_(False)

    def particles_per_layer(self, name):
        """M (units, or random features) for a block's tensors, None for the embedding and readout."""
        return self.units if name.startswith("layer") else None

    def states(self, inputs):
        """X₀, …, X_L ([B, D] each) for inputs [B, q] (images [B, C, H, W] are flattened, row-major)."""
        p = self.parameter
        inputs = as_input(inputs, self.dtype)
        X = inputs.reshape(inputs.shape[0], -1) @ p("embedding.weight").T + p("embedding.bias")
        states = [X]
        scale = (1 / self.layers ** self.alpha) / self.units
        for layer in range(self.layers):
            if self.config["model"] == "resnet":
                features = self.activation(X @ p(f"layer{layer}.in").T + p(f"layer{layer}.bias"))
            else:
                z = X @ self.omega.T + self.phase
                features = torch.cos(z) * math.sqrt(2.0) if self.config.get("feature_map", "cos") == "cos" else F.relu(z)
            X = X + features @ p(f"layer{layer}.out") * scale
            states.append(X)
        return states

    def forward(self, inputs):
        """f [B, C] = X_L Rᵀ + c, centred ((f − f₀)/γ₀) with `gamma0`."""
        output = self.states(inputs)[-1] @ self.parameter("readout.weight").T + self.parameter("readout.bias")
        if self.initial is not None:
            with torch.no_grad():
                offset = self.initial(inputs)
            output = (output - offset) * (1 / self.gamma0)
        return output

    def risk(self, inputs, targets):
        """½·mean_b |f_b − y_b|² for float targets [B, C]; mean cross-entropy for integer labels [B]."""
        outputs = self.forward(inputs)
        if isinstance(targets, np.ndarray) and targets.dtype.kind in "iu" or \
                isinstance(targets, torch.Tensor) and not targets.is_floating_point():
            return F.cross_entropy(outputs, torch.as_tensor(targets, dtype=torch.long))
        return ((outputs - as_input(targets, self.dtype)) ** 2).sum() * (0.5 / outputs.shape[0])
