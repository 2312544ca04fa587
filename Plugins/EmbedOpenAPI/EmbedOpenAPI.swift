import PackagePlugin

/// Embeds the top-level `openapi.yaml` in the target that serves it, so the binary carries the exact
/// spec it was built with and the repository keeps one copy.
@main
struct EmbedOpenAPI: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let input = context.package.directoryURL.appending(path: "openapi.yaml")
        let output = context.pluginWorkDirectoryURL.appending(path: "OpenAPISpec.swift")
        return [
            .buildCommand(
                displayName: "Embedding openapi.yaml",
                executable: try context.tool(named: "EmbedResource").url,
                arguments: [input.path(percentEncoded: false), output.path(percentEncoded: false), "openAPISpec"],
                inputFiles: [input],
                outputFiles: [output])
        ]
    }
}
