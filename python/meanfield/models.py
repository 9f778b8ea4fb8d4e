"""The twin and the data of any run, by its config: `twin_from_checkpoint` and `run_data`."""
from .tasks import RegressionData, TeacherRegressionData


def twin_from_checkpoint(checkpoint, initial=None):
    """The PyTorch twin of a checkpoint's model: `TransformerTwin` (model transformer: in-context
    regression, or the ViT of an image task) or `ResNetTwin` (resnet, rff-resnet). Needs torch."""
    if checkpoint.config.get("model", "transformer") == "transformer":
        from .twin import TransformerTwin
        return TransformerTwin.from_checkpoint(checkpoint, initial)
    from .twin_resnet import ResNetTwin
    return ResNetTwin.from_checkpoint(checkpoint, initial)


def run_data(run, splits=None):
    """The regenerated data of a run: `RegressionData` (icl-regression), `TeacherRegressionData`, or
    `ImageData` (image tasks; `splits`: the dataset's arrays, except for synthetic-images)."""
    task = run.config.get("task", "icl-regression")
    if task == "icl-regression":
        return RegressionData.from_run(run)
    if task == "teacher-regression":
        return TeacherRegressionData.from_run(run)
    from .images import ImageData
    return ImageData.from_run(run, splits)
