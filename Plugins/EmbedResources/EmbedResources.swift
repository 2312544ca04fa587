import Foundation
import PackagePlugin

/// Embeds the top-level `openapi.yaml` and the pages under `web/` in the target that serves them, so
/// the binary carries exactly what it was built with and the repository keeps one copy of each.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let tool = try context.tool(named: "EmbedResource").url
        let spec = context.package.directoryURL.appending(path: "openapi.yaml")
        let web = context.package.directoryURL.appending(path: "web")
        // Every page file is an input, so editing, adding or removing one rebuilds the embedding.
        let pages = (FileManager.default.enumerator(at: web, includingPropertiesForKeys: [.isRegularFileKey])?.allObjects as? [URL] ?? [])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        let specOutput = context.pluginWorkDirectoryURL.appending(path: "OpenAPISpec.swift")
        let pagesOutput = context.pluginWorkDirectoryURL.appending(path: "WebPages.swift")
        return [
            .buildCommand(
                displayName: "Embedding openapi.yaml",
                executable: tool,
                arguments: [spec.path(percentEncoded: false), specOutput.path(percentEncoded: false), "openAPISpec"],
                inputFiles: [spec],
                outputFiles: [specOutput]),
            .buildCommand(
                displayName: "Embedding web/",
                executable: tool,
                arguments: ["--directory", web.path(percentEncoded: false), pagesOutput.path(percentEncoded: false), "webPages"],
                inputFiles: pages,
                outputFiles: [pagesOutput]),
        ]
    }
}
