// How a block's R = B·n token rows are cut into tiles that stay in a core's second-level cache
// while one tile's GEMMs and element-wise work run back to back (the feed-forward: FusedFeedForward;
// the factored attention: FusedAttention), and the tiles into fixed groups whose weight gradients
// are summed apart and then added in group order. Both cuts depend on the shape alone, never on the
// thread count, so results keep their bits on any thread count (benchmarks/RESULTS.md, "Blocks tile
// by tile").
import MeanFieldKernels

/// Tiles of ``rowsPerTile`` rows (the last one shorter) and ``groups`` contiguous groups of tiles.
struct RowTiles: Equatable {
    /// Scalars of one tile's widest block: 256 KiB in Float, small enough to stay in a core's
    /// second-level cache beside the GEMMs' packed operands and the tile's other blocks.
    static let scalarsPerTile = 1 << 16
    /// At most this many groups: partial weight gradients to keep and add, and parallel tasks.
    static let maximumGroups = 8

    /// R = B·n.
    let totalRows: Int
    let rowsPerTile: Int
    let count: Int
    let groups: Int

    /// Tiles of `rowsPerTile` rows (at most `rows`) over `rows` rows (any sizes: the memory plan asks before it
    /// refuses absurd ones, so nothing here may overflow).
    init(rows: Int, rowsPerTile: Int) {
        totalRows = max(0, rows)
        self.rowsPerTile = max(1, min(rowsPerTile, totalRows))
        count = max(1, totalRows / self.rowsPerTile + (totalRows % self.rowsPerTile == 0 ? 0 : 1))
        groups = min(Self.maximumGroups, count)
    }

    /// The feed-forward's tiles over B·n rows: as many rows as fit ``scalarsPerTile`` scalars of `[rows, M′]`.
    static func feedForward(batch: Int, tokens: Int, units: Int) -> RowTiles {
        RowTiles(rows: saturatingProduct(batch, tokens), rowsPerTile: scalarsPerTile / max(units, 1))
    }

    /// The attention's tiles over B·n rows: whole sequences of `tokens` rows, as many as fit
    /// ``scalarsPerTile`` scalars of the projections `[rows, width]` (at least one).
    static func attention(batch: Int, tokens: Int, width: Int) -> RowTiles {
        let sequences = max(1, scalarsPerTile / max(saturatingProduct(tokens, width), 1))
        return RowTiles(rows: saturatingProduct(batch, tokens), rowsPerTile: saturatingProduct(tokens, sequences))
    }

    /// a·b, or Int.max where that overflows.
    private static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// Rows of tile `tile`.
    func rows(_ tile: Int) -> Range<Int> { (tile * rowsPerTile)..<min(totalRows, (tile + 1) * rowsPerTile) }

    /// Tiles of group `group`, in the order their gradients are summed.
    func tiles(group: Int) -> Range<Int> { (group * count / groups)..<((group + 1) * count / groups) }

    /// Runs `body(group, tile, firstOfGroup)` for every tile: the groups in parallel, each group's
    /// tiles in order on one thread (so each group's sums have a fixed order); `firstOfGroup` marks
    /// the tile whose products start the group's sums instead of adding to them.
    func forEachTileByGroup(_ body: (_ group: Int, _ tile: Int, _ firstOfGroup: Bool) -> Void) {
        Threading.parallelFor(groups) { group in
            let groupTiles = tiles(group: group)
            for tile in groupTiles { body(group, tile, tile == groupTiles.lowerBound) }
        }
    }
}
