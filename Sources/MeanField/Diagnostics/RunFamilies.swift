import Foundation
import MeanFieldCore

/// Families of runs of a sweep: runs whose resolved configs agree on every key except the ones
/// being varied (and `threads`, which never changes the numbers). A width family varies `heads`
/// at a fixed seed (the runs are coupled, ``WidthStudy``); a depth family `layers`; a decay family
/// `weight-decay`. Fits and coordinate checks are made per family, never pooled over families.
enum RunFamilies {
    /// Keys that never define a family: the threads, the record of the grid flags a sweep dropped
    /// for a run (`dropped-keys`) and whether it writes TensorBoard events (`tensorboard`): none
    /// changes the numbers.
    static let bookkeeping: Set<String> = ["threads", "dropped-keys", "tensorboard"]

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
        let object = values(config)
        return keys.compactMap { name in object[name].map { "\(name)=\($0)" } }.joined(separator: " ")
    }

    /// The config as key → value text (keys as TrainConfig's coding keys spell them: "weight-decay").
    static func values(_ config: TrainConfig) -> [String: String] {
        guard let data = try? JSONEncoder().encode(config),
              case .object(let fields)? = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) else { return [:] }
        return fields.mapValues { value in
            if case .number(let number) = value {
                return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
            }
            return value.displayText
        }
    }

    /// The config keys whose values differ between `runs`, other than `excluded` (the fitted key,
    /// the seed) and the bookkeeping keys, sorted: what tells the families of a study apart.
    static func varyingKeys(_ runs: [TrainConfig], excluding excluded: Set<String>) -> [String] {
        let all = runs.map(values)
        let names = Set(all.flatMap(\.keys)).subtracting(excluded).subtracting(bookkeeping)
        return names.filter { name in Set(all.map { $0[name] ?? "" }).count > 1 }.sorted()
    }

    /// The label of a family: `always` (e.g. "layers" for a width family) and then every key in
    /// `varying`, as "layers=2 lr=0.02". Two families of one study never share a label.
    static func label(_ config: TrainConfig, always: [String], varying: [String]) -> String {
        describe(config, keys: always + varying.filter { !always.contains($0) })
    }
}
