import CMeanFieldSupport
import Foundation
import MeanFieldModels

/// The first stop signal received while a `StopRequest` is alive (0: none). Written only by the
/// signal handler below (a `sig_atomic_t` store, async-signal-safe), read by the training and sweep loops.
nonisolated(unsafe) private var receivedStopSignal: sig_atomic_t = 0
/// 1 while a `StopRequest` forwards a second signal to the child processes listed by `mf_children_add`.
nonisolated(unsafe) private var forwardSecondSignal: sig_atomic_t = 0

/// Catches SIGINT and SIGTERM (and any other `signals` given, e.g. SIGHUP) while a run or a sweep
/// works, so that it can stop at a safe point: a training run finishes its step, writes a checkpoint
/// and exits (resumable with `--resume`); a sweep stops its child runs and writes summary.csv. A
/// handler (not SIG_IGN, which child processes would inherit) is installed, and the default action
/// is restored when the request is released.
///
/// The first signal asks for a stop at the next safe point; a second one ends the process at once
/// (128 + its number). With `forwardingToChildren` (a sweep), that second signal is first sent on
/// as SIGTERM to the child processes listed by `mf_children_add` (CMeanFieldSupport), so that they
/// end with their parent on every platform (Linux also has the parent-death signal,
/// ``ProcessSetup/endWithParent()``). The first signal is not forwarded by the handler: the sweep's
/// loop sends its runs one SIGTERM each when it sees it.
public final class StopRequest {
    private let signals: [Int32]

    public init(signals: [Int32] = [SIGINT, SIGTERM], forwardingToChildren: Bool = false) {
        self.signals = signals
        receivedStopSignal = 0
        forwardSecondSignal = forwardingToChildren ? 1 : 0
        // A launcher may start us with the signals blocked (the mask is inherited); unblock them here.
        ProcessSetup.unblock(signals: signals)
        for number in signals {
            _ = Foundation.signal(number) { received in
                if receivedStopSignal == 0 {
                    receivedStopSignal = received
                } else {
                    if forwardSecondSignal != 0 { _ = mf_children_signal(SIGTERM) }
                    _exit(128 + received)
                }
            }
        }
    }

    deinit {
        forwardSecondSignal = 0
        for number in signals { _ = Foundation.signal(number, SIG_DFL) }
    }

    /// The first signal received, if any.
    public var signal: Int32? { receivedStopSignal == 0 ? nil : receivedStopSignal }

    /// "SIGINT", "SIGTERM", "SIGHUP" or "signal N".
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }
}

/// A run stopped by SIGINT or SIGTERM after writing a checkpoint; the CLI exits with 128 + signal.
public struct RunInterrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public let message: String
    public var description: String { message }

    package init(signal: Int32, message: String) { self.signal = signal; self.message = message }
}
