"""What every PyTorch twin shares: parameters under their checkpoint names, the flow scales and
decay factors of docs/run-format.md ("Flow scales"), Q, and autograd gradients. Requires torch."""
import numpy as np
import torch
import torch.nn.functional as F

#: σ of the feed-forward units and ResNet blocks (gelu: the exact, erf form).
ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "silu": F.silu}
#: The conventions of a checkpoint without `parametrization` metadata.
LEGACY_PARAMETRIZATION = {"decay": "after-velocity", "flow_scale": "layers-times-width", "head_scaling": "mean-field", "time": "rate"}


def detached(value, dtype):
    """A detached copy of an array or tensor in `dtype` (parameters)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(dtype).clone()
    return torch.from_numpy(np.ascontiguousarray(value)).to(dtype)


def as_input(value, dtype):
    """An array as a tensor in `dtype`; a tensor converted, keeping its autograd graph (inputs)."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype)
    return torch.from_numpy(np.ascontiguousarray(value)).to(dtype)


class Twin(torch.nn.Module):
    """A model with `names` (checkpoint order), `config`, `parametrization`, `layers`, `alpha` and
    `dtype`; subclasses give `particles_per_layer(name)` (M of a particle tensor, None otherwise)."""

    def _register(self, parameters):
        missing = [n for n in self.names if n not in parameters]
        if missing:
            raise ValueError(f"the parameters lack {', '.join(missing)}: not a checkpoint of this config")
        self._parameters_by_name = torch.nn.ParameterDict(
            {n.replace(".", "__"): torch.nn.Parameter(detached(parameters[n], self.dtype)) for n in self.names})

    @classmethod
    def from_checkpoint(cls, checkpoint, initial=None):
        """The twin of a `Checkpoint` (its config and parametrization metadata); `initial`: θ₀ for
        `gamma0` runs (None: regenerated from the seed)."""
        return cls(checkpoint.config, checkpoint.parameters, checkpoint.metadata.get("parametrization"), initial)

    def parameter(self, name):
        """The `torch.nn.Parameter` of checkpoint name `name`."""
        return self._parameters_by_name[name.replace(".", "__")]

    def flow_scale(self, name):
        """s: L^(2α−1)·M for particles (L·M under the legacy rule), 1 for embeddings and readouts."""
        width = self.particles_per_layer(name)
        if width is None:
            return 1.0
        if self.parametrization["flow_scale"] == "depth-balanced":
            return self.layers ** (2 * self.alpha - 1) * width
        return float(self.layers * width)

    def decay_factor(self, name):
        """c of the decay λ·c·θ: L^(2α−2) for particles (1 under the legacy rule), 1 for the others."""
        if self.particles_per_layer(name) is None or self.parametrization["flow_scale"] != "depth-balanced":
            return 1.0
        return self.layers ** (2 * self.alpha - 2)

    def objective(self, risk):
        """Q = R + (λ/2)·Σ_θ (c/s)|θ|² with the run's `weight_decay` λ."""
        decay = self.config.get("weight_decay", 0.0)
        penalty = sum((self.parameter(n).detach().double() ** 2).sum().item() / self.flow_scale(n) * self.decay_factor(n)
                      for n in self.names)
        return float(risk) + decay / 2 * penalty

    def risk_and_gradients(self, inputs, targets):
        """R (a float) and ∇R ({name: tensor}, autograd)."""
        self.zero_grad(set_to_none=True)
        risk = self.risk(inputs, targets)
        risk.backward()
        return risk.item(), {n: self.parameter(n).grad.detach().clone() for n in self.names}
