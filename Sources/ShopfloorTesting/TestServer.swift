import Foundation
public import Logging
public import ShopfloorAPI
import ShopfloorDomain
import ShopfloorTransport
public import TransportTesting

/// The whole application, running for real on 127.0.0.1 with a port the kernel picks and a data
/// directory of its own, for end-to-end tests.
///
/// Prefer ``withTestServer(configure:isolation:_:)``, which shuts the server down and deletes its
/// directory whether the test passes or throws.
public final class TestServer: Sendable {
    public let application: Application
    /// The temporary data directory, removed by ``shutdown()``.
    public let dataDirectory: String

    /// The port the server listens on.
    public var port: Int { application.localAddress.port }

    /// Starts an application with test defaults (loopback, port 0, two threads, echo routes on, a short
    /// drain), then `configure`'s changes. The data directory is always a fresh one.
    public init(configure: @Sendable (inout Configuration) -> Void = { _ in }, logger: Logger = TestServer.silentLogger) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("shopfloor-test-\(UUID().uuidString)").path
        var configuration = Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.threads = 2
        configuration.enableEcho = true
        configuration.drainTimeout = .seconds(3)
        // The abuse limits are off unless a test sets them: every test client is one loopback address.
        configuration.rateLimit = nil
        configuration.keyRateLimit = nil
        configuration.sensitiveRateLimit = nil
        configuration.maxConnectionsPerAddress = 0
        configuration.maxOpenCartsPerAddress = 100_000
        configuration.maxUnitsPerSKU = CartService.maxQuantity
        configure(&configuration)
        configuration.dataDirectory = directory
        dataDirectory = directory
        do {
            application = try Application(configuration: configuration, logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        try await application.start()
    }

    /// A client connected to this server.
    public func connect(timeout: Duration = .seconds(5)) async throws -> TestHTTPClient {
        try await TestHTTPClient.connect(port: port, timeout: timeout)
    }

    /// Stops gracefully and deletes the data directory.
    public func shutdown() async {
        await application.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// A logger that drops everything, so access logs do not flood test output.
    public static let silentLogger = Logger(label: "shopfloor-test") { _ in SwiftLogNoOpLogHandler() }
}

/// Runs `body` against a fresh ``TestServer`` and always shuts it down afterwards, also when `body`
/// throws, so no test leaves threads, sockets or files behind.
public func withTestServer<T>(
    configure: @Sendable (inout Configuration) -> Void = { _ in },
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let server = try await TestServer(configure: configure)
    let result: T
    do {
        result = try await body(server)
    } catch {
        await server.shutdown()
        throw error
    }
    await server.shutdown()
    return result
}
