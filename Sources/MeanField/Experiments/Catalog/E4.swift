extension Experiment {
    /// E4 (theory §6, claim C3): Vision Transformers on Fashion-MNIST — fitting a 2,000-image subset
    /// with the paper's capacity (docs/experiments.md, E4; was experiments/vit_capacity.sh), then the
    /// full training set with the default recipe. The subset rows pin the settings they were
    /// measured with (4×4 patches, α = 1, η = 4·10⁻³ for every parameter), so they do not move with
    /// the image defaults.
    static let e4 = Experiment(
        id: "E4", title: "Vision Transformers on Fashion-MNIST", claim: "claim C3 (theory §1.5, §6 E4)",
        shows: "The default ViT (M = 8, M′ = 256, L = 6) fits a class-balanced 2,000-image subset (training loss < 10⁻², accuracy ≥ 99.5%) "
            + "and smaller capacity on the same budget does not; then the default recipe on all 60,000 images (test accuracy).",
        figure: "M8-U256-L6/report.html: loss and accuracy per epoch (one report per row; python3 experiments/summarize_image_runs.py OUT/*/ prints the table); full-set/report.html",
        result: "default ViT: training accuracy ≥ 99.5% from epoch 30, loss 0.0014 at epoch 60; full set: 89.06% test accuracy after 20 epochs (one run; docs/experiments.md, E4)",
        quickTime: "1.2 min", fullTime: "2 hours",
        quick: [
            .train("M8-U256-L6", capacityRow(heads: 8, units: 256, layers: 6, subset: 500, epochs: 8)),
            .train("M1-U8-L2", capacityRow(heads: 1, units: 8, layers: 2, subset: 500, epochs: 8)),
        ],
        full: [(8, 256, 6), (4, 256, 6), (1, 256, 6), (8, 256, 1), (2, 16, 6), (1, 8, 2), (1, 4, 1)].map { heads, units, layers in
            .train("M\(heads)-U\(units)-L\(layers)", capacityRow(heads: heads, units: units, layers: layers, subset: 2000, epochs: 60))
        } + [.train("full-set", "--task fashion-mnist --epochs 20 --seed 0")])

    /// One row of the capacity table: the same data, epochs, batch, η and schedule for every capacity.
    static func capacityRow(heads: Int, units: Int, layers: Int, subset: Int, epochs: Int) -> String {
        "--task fashion-mnist --subset \(subset) --test-subset \(subset) --epochs \(epochs) --seed 0 --patch 4 --residual-exponent 1 "
            + "--lr 0.004 --ordinary-lr-scale 1 --heads \(heads) --ffn-units \(units) --layers \(layers)"
    }
}
