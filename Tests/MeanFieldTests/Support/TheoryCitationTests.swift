// Citations of docs/theory.md: comments, help texts and documents cite its sections as "theory §n" or
// "theory §n.m" (also ranges "§n–m" and lists "§n, §m" / "§n and §m" continuing one citation). Every
// cited section must be a numbered heading of docs/theory.md, so that a reader of a clone can follow
// it; this test names each citation that points nowhere, with its file and line.
import Foundation
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// Where citations may appear: every text file under these folders, and these files.
private let citingFolders = ["Sources", "Tests", "docs", "benchmarks", "experiments", "scripts"]
private let citingFiles = ["README.md", "Package.swift"]

/// The section numbers of a theory page: the leading "n" or "n.m" of each "## " / "### " heading.
func theorySections(_ text: String) -> Set<String> {
    let heading = try! Regex(#"^#{2,3}\s+(\d+(?:\.\d+)?)(?:[.\s]|$)"#)
    var sections: Set<String> = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if let match = line.prefixMatch(of: heading), let number = match.output[1].substring {
            sections.insert(String(number))
        }
    }
    return sections
}

/// The sections one line cites, ranges expanded ("§4–5" → 4, 5; "§1.2–1.4" → 1.2, 1.3, 1.4).
func theoryCitations(in line: Substring) -> [String] {
    guard line.contains("theory §") else { return [] }   // Regex is slow in debug builds: most lines skip it
    let citation = try! Regex(#"theory §(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?"#)
    let continuation = try! Regex(#"^(?:,\s*|;\s*|\s+and\s+)§(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?"#)
    var cited: [String] = []
    func add(_ match: Regex<AnyRegexOutput>.Match) {
        let first = String(match.output[1].substring!)
        guard let last = match.output[2].substring.map(String.init) else { cited.append(first); return }
        let a = first.split(separator: "."), b = last.split(separator: ".")
        if a.count == 1, b.count == 1, let lo = Int(a[0]), let hi = Int(b[0]), lo <= hi {
            cited += (lo...hi).map(String.init)
        } else if a.count == 2, b.count == 2, a[0] == b[0], let lo = Int(a[1]), let hi = Int(b[1]), lo <= hi {
            cited += (lo...hi).map { "\(a[0]).\($0)" }
        } else {
            cited += [first, last]
        }
    }
    var rest = line[...]
    while let match = rest.firstMatch(of: citation) {
        add(match)
        rest = rest[match.range.upperBound...]
        while let next = rest.prefixMatch(of: continuation) {
            add(next)
            rest = rest[next.range.upperBound...]
        }
    }
    return cited
}

/// Every citation in `text` whose section is not in `sections`, as "LINE: theory §X".
func missingTheoryCitations(in text: String, sections: Set<String>) -> [String] {
    var missing: [String] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        for section in theoryCitations(in: line) where !sections.contains(section) {
            missing.append("\(index + 1): theory §\(section)")
        }
    }
    return missing
}

@Suite struct TheoryCitationTests {
    @Test func citationParsing() {
        #expect(theoryCitations(in: "the model of theory §1.2–1.4 and the ResNets of theory §4–5") == ["1.2", "1.3", "1.4", "4", "5"])
        #expect(theoryCitations(in: "(theory §1.5, §6 E2); theory §2 and §4; theory §3's rate.") == ["1.5", "6", "2", "4", "3"])
        #expect(theoryCitations(in: "cited as \"theory §n\", or §4 alone, or Numerical Recipes §6.4").isEmpty)
        #expect(theorySections("# Title\n## 1. Model\n### 1.2 Block\n## 6. Experiments\n### Failures\n1.3 text") == ["1", "1.2", "6"])
        // A citation of a section the page lacks is reported with its line (built so that this file
        // itself cites nothing missing).
        let bogus = "first line\nsee theory " + "§7.1 here"
        #expect(missingTheoryCitations(in: bogus, sections: ["1", "7"]) == ["2: theory " + "§7.1"])
    }

    @Test func everyCitedSectionExistsInTheoryPage() throws {
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/theory.md"), encoding: .utf8)
        let sections = theorySections(page)
        #expect(sections.isSuperset(of: ["1", "1.1", "1.2", "1.3", "1.4", "1.5", "2", "3", "4", "5", "6"]),
                "docs/theory.md has sections \(sections.sorted())")

        var files = citingFiles.map { repositoryRoot.appendingPathComponent($0) }
        let manager = FileManager.default
        for folder in citingFolders {
            guard let walker = manager.enumerator(at: repositoryRoot.appendingPathComponent(folder),
                                                  includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                files.append(url)
            }
        }
        var citations = 0
        var missing: [String] = []
        let rootPath = repositoryRoot.standardizedFileURL.path + "/"
        for url in files {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }   // binary fixtures, figures
            let path = url.standardizedFileURL.path.replacingOccurrences(of: rootPath, with: "")
            citations += text.split(separator: "\n", omittingEmptySubsequences: false).reduce(0) { $0 + theoryCitations(in: $1).count }
            missing += missingTheoryCitations(in: text, sections: sections).map { "\(path):\($0)" }
        }
        #expect(citations > 100, "found only \(citations) citations: is the repository root \(repositoryRoot.path) right?")
        #expect(missing.isEmpty, "citations of sections docs/theory.md does not have:\n\(missing.joined(separator: "\n"))")
    }
}
