extension Dataset {
    /// A fixed, class-balanced subset of `size` images (the `--subset N` option): after a shuffle of the
    /// whole set under `seed` (stream `DataStreams.subset`), the first ⌈N/C⌉ or ⌊N/C⌋ images of each class
    /// in that order (the first `N mod C` classes get one more). The result keeps the dataset's order.
    /// Throws when `size` is not in 1…count or a class has too few images.
    public func classBalancedSubset(size: Int, seed: UInt64) throws -> Dataset {
        guard size > 0, size <= count else {
            throw DatasetError(path: name, kind: .invalidRequest, detail: "a subset of \(size) images from \(count)",
                               remedy: "pass --subset between 1 and \(count)")
        }
        let quota = (0..<classCount).map { size / classCount + ($0 < size % classCount ? 1 : 0) }
        let available = countsPerClass()
        if let short = (0..<classCount).first(where: { available[$0] < quota[$0] }) {
            throw DatasetError(path: name, kind: .invalidRequest,
                               detail: "a subset of \(size) needs \(quota[short]) images of class \(short) (\(classNames[short])) but there are \(available[short])",
                               remedy: "pass a smaller --subset")
        }
        var taken = [Int](repeating: 0, count: classCount)
        var chosen: [Int] = []
        chosen.reserveCapacity(size)
        for index in SeededShuffle.permutation(count: count, seed: seed, stream: DataStreams.subset)
        where taken[labels[index]] < quota[labels[index]] {
            taken[labels[index]] += 1
            chosen.append(index)
            if chosen.count == size { break }
        }
        return selecting(chosen.sorted(), name: "\(name) (subset of \(size), seed \(seed))")
    }
}
