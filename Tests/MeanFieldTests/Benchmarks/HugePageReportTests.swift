// HugePageReport: the transparent huge page mode read from the kernel's format.
import Testing
@testable import MeanField

@Suite("Huge page report")
struct HugePageReportTests {
    @Test("The selected mode is the bracketed word", arguments: [
        ("always [madvise] never\n", "madvise"), ("[always] madvise never", "always"), ("always madvise [never]\n", "never"),
        ("", "unknown"), ("madvise never", "unknown"),
    ])
    func mode(text: String, expected: String) {
        #expect(HugePageReport.mode(fromEnabledFile: text) == expected)
    }

    @Test("A missing mode file reads as unknown")
    func missingFile() {
        #expect(HugePageReport.current(modeFile: "/nonexistent/transparent_hugepage/enabled").mode == "unknown")
    }
}
