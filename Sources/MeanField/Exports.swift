// `import MeanField` brings in the whole library: the layers below are re-exported, so the
// command-line tool and the tests see models, engines, data, the training driver and run folders
// through this one module (docs/architecture.md, "Targets").
@_exported import MeanFieldModels
@_exported import MeanFieldTraining
@_exported import MeanFieldProvenance
