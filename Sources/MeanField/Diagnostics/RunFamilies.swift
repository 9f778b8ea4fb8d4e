import Foundation
import MeanFieldCore

/// Families of runs of a sweep: runs whose resolved configs agree on every key except the ones
/// being varied (and `threads`, which never changes the numbers). A width family varies `heads`
/// at a fixed seed (the runs are coupled, ``WidthStudy``); a depth family `layers`; a decay family
/// `weight-decay`.
enum RunFamilies {
    /// Keys that never define a family.
    static let bookkeeping: Set<String> = ["threads"]

    /// The config as a canonical string without `excluded` keys.
    static func key(_ config: TrainConfig, excluding excluded: Set<String>) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(config),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return "" }
        for name in excluded.union(bookkeeping) { object[name] = nil }
        guard let canonical = try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys) else { return "" }
        return String(decoding: canonical, as: UTF8.self)
    }

    /// Groups of ≥ 2 runs that differ only in `varying` keys, each sorted by `order`, in a stable order.
    static func groups(_ runs: [RunRecord], varying: Set<String>, order: (RunRecord) -> Double) -> [[RunRecord]] {
        var grouped: [String: [RunRecord]] = [:]
        var keys: [String] = []
        for run in runs {
            let key = key(run.config, excluding: varying)
            if grouped[key] == nil { keys.append(key) }
            grouped[key, default: []].append(run)
        }
        return keys.compactMap { key in
            let members = grouped[key]!.sorted { order($0) < order($1) }
            return Set(members.map(order)).count >= 2 ? members : nil
        }
    }

    /// A short description of what a family holds fixed, e.g. "layers=2 lr=0.02".
    static func describe(_ config: TrainConfig, keys: [String]) -> String {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(config),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return "" }
        return keys.compactMap { name in object[name].map { "\(name)=\($0)" } }.joined(separator: " ")
    }
}
