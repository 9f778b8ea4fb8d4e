"""Read MeanField run and sweep folders (docs/run-format.md), regenerate the data the runs saw
(`meanfield.tasks`), and evaluate their checkpoints with a PyTorch twin of the model
(`meanfield.twin`, needs torch). See docs/python.md."""
from ._format import SUPPORTED_FORMATS, RunFormatError
from .runs import Checkpoint, Run, load_run, read_checkpoint
from .sweeps import Sweep, load_sweep

__all__ = ["SUPPORTED_FORMATS", "RunFormatError", "Checkpoint", "Run", "Sweep", "load_run", "load_sweep", "read_checkpoint"]
__version__ = "0.1.0"
