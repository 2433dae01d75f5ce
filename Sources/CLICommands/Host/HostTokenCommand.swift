import APITypes
import ArgumentParser
import Foundation

/// `viridian host token create|list|revoke`: API tokens for the web listener's REST API and
/// `/metrics` (`Authorization: Bearer TOKEN`), and for signing in to the web console.
struct HostTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens for the web listener (REST API over HTTPS, /metrics, console sign-in).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token; its secret is printed once and kept nowhere.",
            discussion: "Use it as: curl -k -H 'Authorization: Bearer TOKEN' https://127.0.0.1:8443/metrics")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A name for the token (its user in the event log is token:NAME).") var name: String

        func run() async throws {
            let token = try await options.client.createAPIToken(name)
            if options.json { return try Output.json(token) }
            print(token.token)
            FileHandle.standardError.write(Data("Token '\(token.name)' made. Keep it now: it is not shown again.\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let tokens = try await options.client.apiTokens()
            if options.json { return try Output.json(tokens) }
            Output.table(["NAME", "CREATED", "LAST USED"], tokens.map { token in
                [token.name, Output.time(token.createdAt), token.lastUsedAt.map(Output.time) ?? "never"]
            })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: requests with it are refused at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            try await options.client.revokeAPIToken(name)
            if options.json { return try Output.json(["revoked": name]) }
            print("Token '\(name)' revoked.")
        }
    }
}
