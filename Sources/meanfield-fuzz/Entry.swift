import Foundation

#if FUZZING
/// libFuzzer's entry point (built by scripts/fuzz.sh with `--sanitize fuzzer`): the target is named
/// by the environment variable MEANFIELD_FUZZ_TARGET.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzEntry.target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

enum FuzzEntry {
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["MEANFIELD_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("MEANFIELD_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()
}
#else
/// `meanfield-fuzz TARGET PATH…`: replays inputs (files, or every file of a folder) through a fuzz
/// target without the fuzzing engine — the regression check of the committed corpus and of every
/// finding (Tests/MeanFieldTests/Reliability/FuzzCorpusTests.swift). Prints one line per input,
/// `read PATH` or `refused PATH: message`, then a count; exit status 0 when every input was answered
/// (a finding traps and ends the process).
@main
enum FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: meanfield-fuzz \(names) FILE_OR_DIR...\n".utf8))
            exit(64)
        }
        var (read, refused) = (0, 0)
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("meanfield-fuzz: \(path): no such file or folder\n".utf8))
                exit(66)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("meanfield-fuzz: \(file): cannot read the file\n".utf8))
                    exit(66)
                }
                if let message = target.run([UInt8](data)) {
                    print("refused \(file): \(message.split(separator: "\n").first ?? "")")
                    refused += 1
                } else {
                    print("read \(file)")
                    read += 1
                }
            }
        }
        print("meanfield-fuzz \(target.rawValue): \(read + refused) inputs replayed (\(read) read, \(refused) refused), no crash")
    }
}
#endif
