import Foundation

/// The first SIGINT/SIGTERM received while a `StopRequest` is alive (0: none). Written only by the
/// signal handler below (a `sig_atomic_t` store, async-signal-safe), read by the training and sweep loops.
nonisolated(unsafe) private var receivedStopSignal: sig_atomic_t = 0

/// Catches SIGINT and SIGTERM while a run or a sweep works, so that it can stop at a safe point:
/// a training run finishes its step, writes a checkpoint and exits (resumable with `--resume`); a
/// sweep stops its child runs and writes summary.csv. A handler (not SIG_IGN, which child processes
/// would inherit) is installed, and the default action is restored when the request is released.
public final class StopRequest {
    public init() {
        receivedStopSignal = 0
        // A launcher may start us with the signals blocked (the mask is inherited); unblock them here.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        for number in [SIGINT, SIGTERM] {
            // The first signal asks for a stop at the next safe point; a second one ends the process at once.
            _ = Foundation.signal(number) { received in
                if receivedStopSignal == 0 { receivedStopSignal = received } else { _exit(128 + received) }
            }
        }
    }

    deinit {
        _ = Foundation.signal(SIGINT, SIG_DFL)
        _ = Foundation.signal(SIGTERM, SIG_DFL)
    }

    /// The first signal received, if any.
    public var signal: Int32? { receivedStopSignal == 0 ? nil : receivedStopSignal }

    /// "SIGINT", "SIGTERM" or "signal N".
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
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
