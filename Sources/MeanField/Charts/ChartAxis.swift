import Foundation

/// How an axis maps data values to positions: proportionally, or proportionally to log₁₀ of the value.
public enum AxisScale: Sendable, Equatable {
    case linear
    case log10

    /// Whether `value` can be placed on an axis of this scale (finite, and positive on a log axis).
    public func accepts(_ value: Double) -> Bool {
        value.isFinite && (self == .linear || value > 0)
    }

    /// The value in the axis' own coordinate: itself, or its base-10 logarithm.
    func transform(_ value: Double) -> Double {
        self == .linear ? value : Foundation.log10(value)
    }
}

/// One axis of a chart as the caller describes it: a title (with units) and a scale. The range is
/// taken from the data unless `domain` fixes it.
public struct ChartAxis: Sendable {
    public var title: String
    public var scale: AxisScale
    /// A fixed data range; nil = fitted to the data, widened to nice tick values.
    public var domain: ClosedRange<Double>?

    public init(_ title: String, scale: AxisScale = .linear, domain: ClosedRange<Double>? = nil) {
        self.title = title
        self.scale = scale
        self.domain = domain
    }
}

/// The data range of an axis and the ticks drawn on it: `values` are labelled (with `labels`),
/// `minorValues` only get a faint grid line.
public struct AxisTicks: Sendable, Equatable {
    public var domain: ClosedRange<Double>
    public var values: [Double]
    public var labels: [String]
    public var minorValues: [Double]
}

/// Tick values people can read: multiples of 1, 2 or 5 × 10ᵏ on linear axes, powers of ten (and
/// 2 and 5 × 10ᵏ on short spans) on log axes.
public enum TickGenerator {
    /// The step among 1, 2, 5 × 10ᵏ nearest (in ratio) to `span / count`; d3's rule.
    public static func niceStep(span: Double, count: Int) -> Double {
        precondition(span > 0 && span.isFinite && count > 0)
        let rough = span / Double(count)
        let power = floor(Foundation.log10(rough))
        let base = pow(10, power)
        let error = rough / base
        let factor: Double = error >= sqrt(50) ? 10 : error >= sqrt(10) ? 5 : error >= sqrt(2) ? 2 : 1
        return factor * base
    }

    /// Ticks for data in `[low, high]` on a linear axis: the domain is widened to multiples of a
    /// nice step and every multiple inside it is labelled with the step's decimals.
    /// `[0, 3.72]` → domain 0…4, ticks 0, 1, 2, 3, 4. A single value v is widened to v ± |v|/2 (±1 at 0).
    public static func linear(low: Double, high: Double, count: Int = 5) -> AxisTicks {
        var low = low, high = high
        if !(low.isFinite && high.isFinite) { low = 0; high = 1 }
        if low > high { swap(&low, &high) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) / 2
            low -= pad
            high += pad
        }
        let step = niceStep(span: high - low, count: count)
        // A tolerance keeps 4.000000000001 (a sum of steps) from opening a new tick interval.
        let first = (low / step + 1e-9).rounded(.down), last = (high / step - 1e-9).rounded(.up)
        let domain = (first * step)...(last * step)
        let values = stride(from: first, through: last, by: 1).map { clean($0 * step, step: step) }
        return AxisTicks(domain: domain, values: values, labels: values.map { linearLabel($0, step: step) }, minorValues: [])
    }

    /// Ticks for positive data in `[low, high]` on a log₁₀ axis. The domain is widened to the
    /// nearest 1, 2 or 5 × 10ᵏ. Labels: 1, 2, 3, 5, 7 × 10ᵏ when the domain spans at most one decade,
    /// 1, 2, 5 × 10ᵏ up to 2.5 decades, powers of ten up to 8 decades, every n-th power beyond;
    /// minor grid lines at the other 1…9 × 10ᵏ (up to 8 decades).
    /// `[0.003, 0.8]` → domain 0.002…1 (2.7 decades), labels 0.01, 0.1, 1, minor lines at 0.002…0.009, 0.02…
    public static func log10(low: Double, high: Double) -> AxisTicks {
        var low = low, high = high
        if !(low.isFinite && high.isFinite && low > 0 && high > 0) { low = 0.1; high = 1 }
        if low > high { swap(&low, &high) }
        if low == high { low /= 2; high *= 2 }
        let domainLow = roundToMantissa(low, up: false), domainHigh = roundToMantissa(high, up: true)
        let decades = Foundation.log10(domainHigh / domainLow)
        let firstPower = Int(floor(Foundation.log10(domainLow) + 1e-9)), lastPower = Int(ceil(Foundation.log10(domainHigh) - 1e-9))
        let labelled: Set<Int>
        var powerStride = 1
        if decades <= 1 + 1e-9 { labelled = [1, 2, 3, 5, 7] }
        else if decades <= 2.5 { labelled = [1, 2, 5] }
        else {
            labelled = [1]
            if decades > 8 { powerStride = Int(ceil(decades / 8)) }
        }
        var values: [Double] = [], minor: [Double] = []
        let inside = { (value: Double) in value >= domainLow * (1 - 1e-9) && value <= domainHigh * (1 + 1e-9) }
        for power in firstPower...lastPower {
            for mantissa in 1...9 {
                let value = Double(mantissa) * pow(10, Double(power))
                guard inside(value) else { continue }
                if labelled.contains(mantissa) && (mantissa != 1 || power.isMultiple(of: powerStride)) {
                    values.append(value)
                } else if decades <= 8 {
                    minor.append(value)
                }
            }
        }
        return AxisTicks(domain: domainLow...domainHigh, values: values, labels: values.map(logLabel), minorValues: minor)
    }

    /// Ticks for `axis` given the data values on it (non-finite values, and non-positive ones on a
    /// log axis, are ignored; no value at all gives 0…1, or 0.1…1 on a log axis).
    public static func ticks(for axis: ChartAxis, data: [Double]) -> AxisTicks {
        let usable = data.filter(axis.scale.accepts)
        let low = axis.domain?.lowerBound ?? usable.min(), high = axis.domain?.upperBound ?? usable.max()
        switch axis.scale {
        case .linear:
            var ticks = linear(low: low ?? 0, high: high ?? 1)
            if let fixed = axis.domain, fixed.lowerBound < fixed.upperBound {
                ticks.domain = fixed
                let kept = ticks.values.indices.filter { fixed.contains(ticks.values[$0]) }
                ticks.values = kept.map { ticks.values[$0] }
                ticks.labels = kept.map { ticks.labels[$0] }
            }
            return ticks
        case .log10:
            return log10(low: low ?? 0.1, high: high ?? 1)
        }
    }

    /// `value` rounded down (or up) to the nearest 1, 2 or 5 × 10ᵏ.
    static func roundToMantissa(_ value: Double, up: Bool) -> Double {
        let power = floor(Foundation.log10(value))
        let base = pow(10, power)
        let mantissa = value / base
        let choices: [Double] = [1, 2, 5, 10]
        if up {
            return (choices.first { $0 >= mantissa * (1 - 1e-9) } ?? 10) * base
        }
        return (choices.last { $0 <= mantissa * (1 + 1e-9) } ?? 1) * base
    }

    /// Removes the floating-point noise of `i × step` (0.30000000000000004 → 0.3) and negative zero.
    static func clean(_ value: Double, step: Double) -> Double {
        let digits = max(0, -Int(floor(Foundation.log10(step))) + 1)
        let scale = pow(10, Double(min(digits, 15)))
        let result = (value * scale).rounded() / scale
        return result == 0 ? 0 : result
    }

    /// A linear tick label with as many decimals as the step needs ("0.02", "1", "2e-5", "3e6").
    static func linearLabel(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        if step < 1e-4 || abs(value) >= 1e6 {
            return exponentLabel(value)
        }
        let decimals = max(0, -Int(floor(Foundation.log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", value)
    }

    /// A log tick label: plain decimals between 0.001 and 10⁴, else "10⁻⁵" or "2×10⁻⁵".
    static func logLabel(_ value: Double) -> String {
        let power = Int(floor(Foundation.log10(value) + 1e-9))
        let mantissa = Int((value / pow(10, Double(power))).rounded())
        if power >= -3 && power <= 4 {
            return MarkupText.number(value)
        }
        return (mantissa == 1 ? "" : "\(mantissa)×") + "10" + MarkupText.superscript(power)
    }

    static func exponentLabel(_ value: Double) -> String {
        let power = Int(floor(Foundation.log10(abs(value)) + 1e-9))
        let mantissa = value / pow(10, Double(power))
        return MarkupText.trimZeros(String(format: "%.2f", mantissa)) + "e\(power)"
    }
}

/// Maps data values on one axis to pixel positions: the domain's low end to `start`, its high end
/// to `end`, linearly in the value or in its log₁₀ (for a y axis start is the bottom pixel, so end < start).
public struct AxisMapping: Sendable {
    public var scale: AxisScale
    public var domain: ClosedRange<Double>
    public var start: Double
    public var end: Double

    public init(scale: AxisScale, domain: ClosedRange<Double>, start: Double, end: Double) {
        self.scale = scale
        self.domain = domain
        self.start = start
        self.end = end
    }

    /// The pixel position of `value`, or nil if it cannot be drawn (non-finite, or ≤ 0 on a log axis).
    /// Values outside the domain map outside `start…end` (the chart clips them).
    public func position(_ value: Double) -> Double? {
        guard scale.accepts(value) else { return nil }
        let low = scale.transform(domain.lowerBound), high = scale.transform(domain.upperBound)
        let fraction = high > low ? (scale.transform(value) - low) / (high - low) : 0.5
        return start + fraction * (end - start)
    }
}
