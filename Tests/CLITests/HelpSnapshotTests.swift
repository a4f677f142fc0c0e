import ArgumentParser
import Foundation
import Testing
@testable import vqz

/// Every command's --help against its snapshot in Snapshots/, so that a changed option, default or
/// text is a reviewed change. The commands are walked from vqz's own configuration: a new command
/// fails here until its snapshot is written.
@Suite struct HelpSnapshotTests {
    static let commands: [[String]] = {
        func walk(_ command: ParsableCommand.Type, _ path: [String]) -> [[String]] {
            let here = path + [command.configuration.commandName ?? ""]
            return [here] + command.configuration.subcommands.flatMap { walk($0, here) }
        }
        return VQZCommand.configuration.subcommands.flatMap { walk($0, []) }
    }()

    @Test func everyCommandIsListed() {
        #expect(Self.commands.count > 20)
        #expect(Self.commands.contains(["train", "tokenizer"]) && Self.commands.contains(["eval", "prompts"]))
    }

    @Test(arguments: commands) func helpMatchesSnapshot(_ command: [String]) throws {
        let name = "help-" + command.joined(separator: "-") + ".txt"
        let snapshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/" + name)
        let result = try CLIRunner.run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == (try? String(contentsOf: snapshot, encoding: .utf8)),
                "to accept a new help text: vqz \(command.joined(separator: " ")) --help > Tests/CLITests/Snapshots/\(name)")
    }
}
