/// A failure the command line detects itself (as opposed to one the library throws).
struct CLIError: Error, Equatable, CustomStringConvertible {
    var status: ExitStatus
    var message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }
}
