"""The twin and the data of any run, by its config: `twin_from_checkpoint` and `run_data`."""
from .tasks import RegressionData, TeacherRegressionData


def twin_from_checkpoint(checkpoint, initial=None):
    """The PyTorch twin of a checkpoint's model: `TransformerTwin` (model transformer, in-context
    regression) or `ResNetTwin` (resnet, rff-resnet). Needs torch."""
    model = checkpoint.config.get("model", "transformer")
    task = checkpoint.config.get("task", "icl-regression")
    if model == "transformer":
        if task != "icl-regression":
            raise ValueError(f"task {task!r}: the Vision Transformer has no twin yet (in-context regression only)")
        from .twin import TransformerTwin
        return TransformerTwin.from_checkpoint(checkpoint, initial)
    from .twin_resnet import ResNetTwin
    return ResNetTwin.from_checkpoint(checkpoint, initial)


def run_data(run):
    """The regenerated data of a run: `RegressionData` (icl-regression) or `TeacherRegressionData`."""
    task = run.config.get("task", "icl-regression")
    if task == "icl-regression":
        return RegressionData.from_run(run)
    if task == "teacher-regression":
        return TeacherRegressionData.from_run(run)
    raise ValueError(f"task {task!r}: meanfield.tasks regenerates icl-regression and teacher-regression data, not image subsets")
