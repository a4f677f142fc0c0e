import ArgumentParser
import Foundation

/// The root command. Subcommands are listed once, in `configuration`; a new one is a file
/// holding a ParsableCommand plus one entry there.
@main
struct VQZCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqz",
        abstract: "An image codec whose bitstream is a grid of VQ-VAE codebook indices.",
        discussion: ExitStatus.helpText,
        version: VersionReport.release,
        subcommands: [
            CompressCommand.self,
            DecompressCommand.self,
            InfoCommand.self,
            TokensCommand.self,
            ReconstructCommand.self,
            TrainCommand.self,
            GenerateCommand.self,
            InpaintCommand.self,
            EvalCommand.self,
            DatasetCommand.self,
            CompareCommand.self,
            BenchCommand.self,
            FormatsCommand.self,
        ]
    )

    /// ArgumentParser's own main prints usage errors on several lines and exits with 64;
    /// vqz keeps to one-line messages and its documented exit codes.
    static func main() {
        InterruptCleanup.install()
        StandardStreams.reserve()
        // Answered before parsing: ArgumentParser's --version prints a fixed string, and the
        // models' digests are computed only when asked for.
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            do {
                print(try VersionReport.text(), terminator: "")
                StandardStreams.exit(0)
            } catch {
                Console().error(nil, "bundled models: " + ErrorReport.message(of: error))
                StandardStreams.exit(ExitStatus.model.rawValue)
            }
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success {
                // --help and --version arrive as errors that carry their text.
                print(fullMessage(for: error))
                StandardStreams.exit(0)
            }
            Console().error(nil, message(for: error) + " (see '\(helpCommand(for: Array(CommandLine.arguments.dropFirst()))) --help')")
            StandardStreams.exit(ExitStatus.usage.rawValue)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            // A batch that already reported its failures, one line each.
            StandardStreams.exit(code.rawValue)
        } catch where exitCode(for: error) == .success {
            // `vqz --help` parses to a help command whose run() throws the help text.
            print(fullMessage(for: error))
            StandardStreams.exit(0)
        } catch {
            Console().error(nil, ErrorReport.message(of: error))
            StandardStreams.exit(ErrorReport.status(of: error).rawValue)
        }
        StandardStreams.exit(0)
    }

    /// "vqz train prior" for `vqz train prior --bad`: the command whose --help a usage error
    /// points to, from the leading arguments that name subcommands.
    static func helpCommand(for arguments: [String]) -> String {
        var path = ["vqz"]
        var command: ParsableCommand.Type = VQZCommand.self
        for argument in arguments {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            command = sub
        }
        return path.joined(separator: " ")
    }
}
