// The report page of an adjoint-check run: the table holds every layer's numbers, both charts are
// drawn, and a corrupt adjoint.jsonl is a one-line error naming the file.
import Foundation
import MeanField
import Testing

@Test func adjointReportShowsEveryLayerAndBothTrajectories() throws {
    let folder = NSTemporaryDirectory() + "meanfield-adjoint-report-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let lines = ["{\"layer\":0,\"s\":0,\"max_rel_diff\":1.5e-16,\"X_norm\":2.5,\"P_norm\":0.125}",
                 "{\"layer\":1,\"s\":0.5,\"max_rel_diff\":0,\"X_norm\":2.75,\"P_norm\":0.25}",
                 "{\"layer\":2,\"s\":1,\"max_rel_diff\":0,\"X_norm\":3,\"P_norm\":0.5}"]
    try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/adjoint.jsonl", atomically: true, encoding: .utf8)
    let written = try ReportBuilder.write(path: folder)
    let html = try String(contentsOfFile: written.file, encoding: .utf8)
    #expect(html.contains("Adjoint trajectory") && html.contains("Forward trajectory"))
    #expect(html.components(separatedBy: "<svg").count - 1 == 2)
    #expect(html.contains("1.500e-16") && html.contains("2.75") && html.contains("0.5"))
    try "{\"layer\":0}\n".write(toFile: folder + "/adjoint.jsonl", atomically: true, encoding: .utf8)
    #expect(throws: RunError.self) { _ = try ReportBuilder.write(path: folder) }
}
