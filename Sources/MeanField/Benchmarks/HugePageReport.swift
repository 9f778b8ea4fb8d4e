import Foundation
import MeanFieldKernels

/// Whether a benchmark's buffers were on huge pages: the operating system's transparent huge page
/// mode and the most bytes of the fused engine's workspace it accepted the huge-page advice for
/// (``LargeBuffers``). The ViT step runs 4–8% slower on 4 KiB pages (benchmarks/RESULTS.md,
/// "The workspace on huge pages"), so every `bench train` figure says which it had.
public struct HugePageReport: Sendable, Equatable {
    /// The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled (always, madvise, never),
    /// or "unknown" where the file is missing (not Linux, or a kernel without THP).
    public var mode: String
    /// ``LargeBuffers/mostAdvisedBytes`` when the report was made.
    public var advisedBytes: Int

    /// The report for this process now.
    public static func current(modeFile: String = "/sys/kernel/mm/transparent_hugepage/enabled") -> HugePageReport {
        HugePageReport(mode: mode(fromEnabledFile: (try? String(contentsOfFile: modeFile, encoding: .utf8)) ?? ""),
                       advisedBytes: LargeBuffers.mostAdvisedBytes)
    }

    /// The selected mode in the kernel's format ("always [madvise] never" → "madvise").
    static func mode(fromEnabledFile text: String) -> String {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return "unknown" }
        return String(text[text.index(after: open)..<close])
    }

    /// One line for the text output.
    public var summary: String {
        String(format: "huge pages: %.0f MiB of the engine's workspace on 2 MiB pages (transparent huge pages: %@)",
               Double(advisedBytes) / 1_048_576, mode)
    }

    /// The JSON object `bench train --json` records under "huge_pages".
    public var jsonObject: [String: Any] { ["transparent_huge_pages": mode, "huge_page_bytes": advisedBytes] }
}
