import ImageIO
import Models
import TokenArrays
import Training
import VQZ

/// Maps any error to its exit status and a one-line message. The one place that knows the
/// library's error types: a new library error type gets its case here.
enum ErrorReport {
    static func status(of error: Error) -> ExitStatus {
        switch error {
        case let e as CLIError:
            return e.status
        case let e as ContainerError:
            if case .modelMismatch = e { return .model }
            if case .entropyPriorUnavailable = e { return .model }
            return .corrupt
        case is ImageDecodingError, is TokenArrayError, is TarError:
            return .corrupt
        case is ShardError:
            return .usage
        case let e as CodecError:
            if case .cannotReadModel = e { return .model }
            if case .tokensOutOfRange = e { return .corrupt }
            if case .gridMismatch = e { return .corrupt }
            switch e {
            case .noEntropyPrior, .entropyPriorTokenizerMismatch, .entropyPriorShape: return .model
            default: return .usage
            }
        case is ModelError:
            return .model
        case is RateTargetError:
            // The input is sound; the option asks for what the model cannot give.
            return .usage
        case let e as TrainingSetupError:
            if case .otherTokenizer = e { return .model }
            return .usage
        case let e as FormatRegistryError:
            return e == .unknownFormat ? .corrupt : .usage
        case let e as ImageEncodingError:
            if case .failed = e { return .io }
            return .usage
        default:
            return .usage
        }
    }

    /// The message without the "vqz: NAME: " prefix; library errors describe themselves.
    static func message(of error: Error) -> String {
        // Uses `description` for the CustomStringConvertible error types vqz throws.
        String(describing: error)
    }
}
