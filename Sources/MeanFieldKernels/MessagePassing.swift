// MPI loaded at run time with dlopen, like OpenBLAS: the package never links it, so the default
// build and `swift test` need no MPI, and one binary runs with or without it (docs/distributed.md,
// "Why MPI is loaded at run time"). Only the calls distributed training needs are used, on float and
// double buffers, from the thread that joined (MPI_THREAD_SERIALIZED).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the processes of an MPI job could not be joined: one line naming the problem and the fix.
public struct ProcessGroupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The K processes of one MPI job (`mpirun -np K meanfield …`, or `srun` with PMIx), reached
/// through the Open MPI library found at run time. Every collective here is called by every rank
/// in the same order; every element of a sum is formed in rank order, so the result is the same bits
/// on every rank and in every repetition of the job (theory §1.4 needs the update to be one function
/// of the batch; docs/distributed.md).
public final class ProcessGroup: @unchecked Sendable {
    /// This process's number, 0 ..< size; rank 0 writes the run folder.
    public let rank: Int
    /// The number of processes of the job.
    public let size: Int
    /// The MPI library loaded.
    public let libraryPath: String

    // Open MPI's C ABI: handles are pointers to the library's predefined objects (ompi_mpi_*).
    private typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                                                   Int32, UnsafeMutablePointer<Int32>) -> Int32
    private typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    private typealias CommQuery = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
    private typealias AllToAllV = @convention(c) (UnsafeRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutableRawPointer,
                                                  UnsafeMutableRawPointer?, UnsafePointer<Int32>, UnsafePointer<Int32>,
                                                  UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
    private typealias AllGatherV = @convention(c) (UnsafeRawPointer?, Int32, UnsafeMutableRawPointer, UnsafeMutableRawPointer?,
                                                   UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafeMutableRawPointer,
                                                   UnsafeMutableRawPointer) -> Int32
    private typealias Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer, Int32, UnsafeMutableRawPointer) -> Int32
    private typealias Abort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
    private typealias Finalize = @convention(c) () -> Int32

    private let allToAll: AllToAllV
    private let allGather: AllGatherV
    private let bcast: Bcast
    private let abortJob: Abort
    private let finalize: Finalize
    private let world: UnsafeMutableRawPointer
    private let double: UnsafeMutableRawPointer
    private let float: UnsafeMutableRawPointer
    private var finished = false
    /// Bytes this rank has sent to the others so far, counted per collective as the algorithms below
    /// define it (what MPI's own transport adds is not counted).
    public private(set) var bytesSent = 0

    /// Where we look for the library, in order; `MEANFIELD_MPI_LIBRARY` (a full path) comes first.
    static let candidatePaths = [
        "libmpi.so.40", "/usr/lib/x86_64-linux-gnu/libmpi.so.40", "/usr/lib/aarch64-linux-gnu/libmpi.so.40",
        "/usr/lib64/openmpi/lib/libmpi.so.40", "/opt/homebrew/lib/libmpi.40.dylib", "/usr/local/lib/libmpi.40.dylib",
    ]

    /// The number of processes an MPI launcher started this one in, nil when no launcher did: Open
    /// MPI's `mpirun` sets OMPI_COMM_WORLD_SIZE; Slurm's `srun --mpi=pmix` (or `pmi2`) sets PMIX_RANK
    /// (PMI_RANK) and the step's SLURM_STEP_NUM_TASKS, and other PMI launchers PMI_SIZE. (SLURM_NTASKS
    /// alone is no launch: a batch script has it too.)
    public static var launchedSize: Int? {
        func number(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) }.flatMap { $0 > 0 ? $0 : nil } }
        if let size = number("OMPI_COMM_WORLD_SIZE") { return size }
        guard getenv("PMIX_RANK") != nil || getenv("PMI_RANK") != nil else { return nil }
        return number("SLURM_STEP_NUM_TASKS") ?? number("PMIX_SIZE") ?? number("PMI_SIZE")
    }

    private static let joined = LockedValue<Result<ProcessGroup, ProcessGroupError>?>(nil)

    /// Loads MPI and joins the job (MPI_Init_thread): once per process; later calls return the
    /// same group. Fails with a one-line reason when the library is missing or is not Open MPI.
    public static func join() throws -> ProcessGroup {
        try joined.withLock { state in
            if state == nil {
                do throws(ProcessGroupError) { state = .success(try ProcessGroup()) } catch { state = .failure(error) }
            }
            return try state!.get()
        }
    }

    private init() throws(ProcessGroupError) {
        var paths = Self.candidatePaths
        if let custom = getenv("MEANFIELD_MPI_LIBRARY") { paths.insert(String(cString: custom), at: 0) }
        var handle: UnsafeMutableRawPointer?
        var found = ""
        // RTLD_GLOBAL: Open MPI's plugins (mca_*.so), which it dlopens itself, resolve symbols of libmpi.
        for path in paths {
            if let opened = dlopen(path, RTLD_NOW | RTLD_GLOBAL) { (handle, found) = (opened, path); break }
        }
        guard let handle else {
            throw ProcessGroupError("no MPI library (libmpi.so.40) found: install Open MPI (Debian: apt install openmpi-bin libopenmpi-dev) "
                                    + "or set MEANFIELD_MPI_LIBRARY to its libmpi")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(ProcessGroupError) -> T {
            guard let address = dlsym(handle, name) else {
                throw ProcessGroupError("\(found) has no \(name): MeanField loads Open MPI (4.x or later; its C ABI), not MPICH or Intel MPI")
            }
            return unsafeBitCast(address, to: type)
        }
        func object(_ name: String) throws(ProcessGroupError) -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else {
                throw ProcessGroupError("\(found) has no \(name): MeanField loads Open MPI (4.x or later; its C ABI), not MPICH or Intel MPI")
            }
            return address
        }
        let initThread = try symbol("MPI_Init_thread", as: InitThread.self)
        let initialized = try symbol("MPI_Initialized", as: Initialized.self)
        let commRank = try symbol("MPI_Comm_rank", as: CommQuery.self)
        let commSize = try symbol("MPI_Comm_size", as: CommQuery.self)
        allToAll = try symbol("MPI_Alltoallv", as: AllToAllV.self)
        allGather = try symbol("MPI_Allgatherv", as: AllGatherV.self)
        bcast = try symbol("MPI_Bcast", as: Bcast.self)
        abortJob = try symbol("MPI_Abort", as: Abort.self)
        finalize = try symbol("MPI_Finalize", as: Finalize.self)
        world = try object("ompi_mpi_comm_world")
        double = try object("ompi_mpi_double")
        float = try object("ompi_mpi_float")
        libraryPath = found

        var already: Int32 = 0
        _ = initialized(&already)
        if already == 0 {
            var provided: Int32 = 0
            // MPI_THREAD_SERIALIZED (2 in Open MPI's mpi.h): one thread at a time calls MPI.
            guard initThread(nil, nil, 2, &provided) == 0 else { throw ProcessGroupError("MPI_Init_thread failed in \(found)") }
        }
        var value: Int32 = 0
        guard commRank(world, &value) == 0 else { throw ProcessGroupError("MPI_Comm_rank failed") }
        rank = Int(value)
        guard commSize(world, &value) == 0 else { throw ProcessGroupError("MPI_Comm_size failed") }
        size = Int(value)
    }

    /// Replaces `values` on every rank by Σ_r values_r, each element summed in rank order r = 0, 1, …,
    /// K−1: the same bits on every rank and in every run of the job, whatever the network or the MPI
    /// library's own reduction algorithm (MPI_Allreduce does not fix its order). A reduce-scatter in
    /// that fixed order, then an all-gather: rank s owns the slice ⌊N·s/K⌋ ..< ⌊N·(s+1)/K⌋ of the N
    /// values, receives every rank's copy of it (MPI_Alltoallv), sums them in rank order and sends the
    /// sum to all (MPI_Allgatherv). Each rank sends and receives 2·N·(K−1)/K values — not the
    /// (K−1)·N that rank 0 received when it summed everything (MPI_Gather, then MPI_Bcast) — and the
    /// bits are those of that sum. Every rank passes the same count. In Double.
    public func sumInRankOrder(_ values: inout [Double]) { sumInRankOrder(&values, datatype: double) }

    /// The same in Float (the sums of a Float32 run: half the bytes).
    public func sumInRankOrder(_ values: inout [Float]) { sumInRankOrder(&values, datatype: float) }

    private func sumInRankOrder<T: BinaryFloatingPoint>(_ values: inout [T], datatype: UnsafeMutableRawPointer) {
        guard size > 1 else { return }
        let count = values.count
        precondition(count <= Int(Int32.max), "sumInRankOrder: \(count) values exceed MPI's 32-bit count")
        let bounds = (0...size).map { Int32(count * $0 / size) }
        let starts = Array(bounds.dropLast()), lengths = (0..<size).map { bounds[$0 + 1] - bounds[$0] }
        let owned = Int(lengths[rank])
        // Every rank's copy of this rank's slice, rank after rank.
        var copies = [T](repeating: 0, count: owned * size)
        let ownedLengths = [Int32](repeating: Int32(owned), count: size)
        let copyStarts = (0..<size).map { Int32($0 * owned) }
        values.withUnsafeBytes { send in
            copies.withUnsafeMutableBytes { receive in
                check(allToAll(send.baseAddress, lengths, starts, datatype,
                               receive.baseAddress, ownedLengths, copyStarts, datatype, world), "MPI_Alltoallv")
            }
        }
        bytesSent += ((count - owned) + owned * (size - 1)) * MemoryLayout<T>.stride
        var sums = [T](repeating: 0, count: owned)
        for index in 0..<owned {
            var sum = copies[index]
            for process in 1..<size { sum += copies[process * owned + index] }
            sums[index] = sum
        }
        sums.withUnsafeBytes { send in
            values.withUnsafeMutableBytes { receive in
                check(allGather(send.baseAddress, Int32(owned), datatype, receive.baseAddress, lengths, starts, datatype, world),
                      "MPI_Allgatherv")
            }
        }
    }

    /// Every rank's `local` values, rank 0's first, then rank 1's, …, on every rank (MPI_Allgatherv):
    /// `counts[r]` is rank r's number of values, the same array on every rank. Exact (nothing is summed).
    public func gatherInRankOrder(_ local: [Double], counts: [Int]) -> [Double] {
        guard size > 1 else { return local }
        precondition(counts.count == size && counts[rank] == local.count, "gatherInRankOrder: counts \(counts) for rank \(rank) with \(local.count) values")
        let total = counts.reduce(0, +)
        precondition(total <= Int(Int32.max), "gatherInRankOrder: \(total) values exceed MPI's 32-bit count")
        var starts = [Int32](), start = 0
        for count in counts { starts.append(Int32(start)); start += count }
        let lengths = counts.map { Int32($0) }
        var all = [Double](repeating: 0, count: total)
        bytesSent += local.count * (size - 1) * MemoryLayout<Double>.stride
        local.withUnsafeBytes { send in
            all.withUnsafeMutableBytes { receive in
                check(allGather(send.baseAddress, Int32(local.count), double, receive.baseAddress, lengths, starts, double, world), "MPI_Allgatherv")
            }
        }
        return all
    }

    /// Replaces `values` on every rank by rank `root`'s (MPI_Bcast); every rank passes the same count.
    public func broadcast(_ values: inout [Double], from root: Int) {
        guard size > 1 else { return }
        let count = values.count
        precondition(count <= Int(Int32.max), "broadcast: \(count) values exceed MPI's 32-bit count")
        if rank == root { bytesSent += count * (size - 1) * MemoryLayout<Double>.stride }
        values.withUnsafeMutableBytes { buffer in
            check(bcast(buffer.baseAddress, Int32(count), double, Int32(root), world), "MPI_Bcast")
        }
    }

    /// Ends every process of the job with `code` (MPI_Abort): after an error on one rank, so that
    /// the others do not wait for it in a collective.
    public func abort(code: Int32) -> Never {
        _ = abortJob(world, code)
        exit(code)
    }

    /// Leaves the job (MPI_Finalize) once, at the end of a run that succeeded on every rank.
    public func finish() {
        guard !finished else { return }
        finished = true
        _ = finalize()
    }

    /// Open MPI's default error handler aborts the job on a failed call; a nonzero code here means
    /// the handler was changed, and the job cannot continue consistently.
    private func check(_ code: Int32, _ call: String) {
        guard code == 0 else {
            fputs("meanfield: \(call) failed with MPI error \(code) on rank \(rank) of \(size); stopping the job\n", stderr)
            abort(code: 1)
        }
    }
}
