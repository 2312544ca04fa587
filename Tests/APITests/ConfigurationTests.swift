import Logging
import ShopfloorAPI
import ShopfloorTransport
import Testing

@Suite struct ConfigurationTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("0ms", .zero),
        ("90s", .seconds(90)),
        ("15m", .seconds(15 * 60)),
        ("2h", .seconds(2 * 3600)),
        ("7d", .seconds(7 * 86_400)),
        ("0s", .zero),
    ])
    func durationsParse(_ text: String, _ expected: Duration) {
        #expect(Configuration.parseDuration(text) == expected)
    }

    @Test(arguments: ["", "10", "ms", "s", "-5s", "1.5s", "5 s", " 5s", "5S", "5x", "5sec", "abc", "99999999999999999999d", "200000000d"])
    func invalidDurationsAreRejected(_ text: String) {
        #expect(Configuration.parseDuration(text) == nil)
    }

    @Test func defaults() {
        let configuration = Configuration()
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.enableEcho == false)
        #expect(configuration.drainTimeout == .seconds(10))
        #expect(configuration.maxConnections == 10_000)
    }

    @Test func environmentVariablesAreApplied() throws {
        let configuration = try Configuration(environment: [
            "SHOPFLOOR_HOST": "127.0.0.1",
            "SHOPFLOOR_PORT": "9090",
            "SHOPFLOOR_DATA_DIR": "/var/lib/shopfloor",
            "SHOPFLOOR_THREADS": "3",
            "SHOPFLOOR_TLS_CERT": "/certs/cert.pem",
            "SHOPFLOOR_TLS_KEY": "/certs/key.pem",
            "SHOPFLOOR_LOG_LEVEL": "DEBUG",
            "SHOPFLOOR_MAX_BODY_SIZE": "2048",
            "SHOPFLOOR_MAX_CONNECTIONS": "50",
            "SHOPFLOOR_HEADER_TIMEOUT": "500ms",
            "SHOPFLOOR_BODY_TIMEOUT": "90s",
            "SHOPFLOOR_IDLE_TIMEOUT": "15m",
            "SHOPFLOOR_DRAIN_TIMEOUT": "2h",
            "SHOPFLOOR_ENABLE_ECHO": "yes",
        ])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 9090)
        #expect(configuration.dataDirectory == "/var/lib/shopfloor")
        #expect(configuration.threads == 3)
        #expect(configuration.tlsCertificatePath == "/certs/cert.pem")
        #expect(configuration.tlsKeyPath == "/certs/key.pem")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.limits.maxBodySize == 2048)
        #expect(configuration.maxConnections == 50)
        #expect(configuration.limits.headerTimeout == .milliseconds(500))
        #expect(configuration.limits.bodyTimeout == .seconds(90))
        #expect(configuration.limits.idleTimeout == .seconds(900))
        #expect(configuration.drainTimeout == .seconds(7200))
        #expect(configuration.enableEcho)
    }

    @Test func unrelatedAndUnknownVariablesAreIgnored() throws {
        let configuration = try Configuration(environment: ["HOME": "/root", "PORT": "1", "SHOPFLOOR_UNKNOWN": "x", "SHOPFLOOR_": "y"])
        #expect(configuration.port == 8080)
        #expect(configuration.host == "0.0.0.0")
    }

    @Test(arguments: [
        ("SHOPFLOOR_PORT", "70000"),
        ("SHOPFLOOR_PORT", "-1"),
        ("SHOPFLOOR_PORT", "http"),
        ("SHOPFLOOR_THREADS", "0"),
        ("SHOPFLOOR_THREADS", "257"),
        ("SHOPFLOOR_LOG_LEVEL", "loud"),
        ("SHOPFLOOR_MAX_BODY_SIZE", "0"),
        ("SHOPFLOOR_MAX_CONNECTIONS", "-5"),
        ("SHOPFLOOR_HEADER_TIMEOUT", "10"),
        ("SHOPFLOOR_DRAIN_TIMEOUT", "soon"),
        ("SHOPFLOOR_ENABLE_ECHO", "maybe"),
    ])
    func badValuesThrowNamingTheVariable(_ name: String, _ value: String) {
        let error = #expect(throws: Configuration.Invalid.self) {
            try Configuration(environment: [name: value])
        }
        #expect(error?.setting == name)
        #expect(error?.value == value)
        #expect(error?.description == "invalid value '\(value)' for \(name)")
    }

    @Test func setRejectsUnknownKeys() {
        var configuration = Configuration()
        let error = #expect(throws: Configuration.Invalid.self) {
            try configuration.set("colour", to: "blue", source: "--colour")
        }
        #expect(error?.setting == "--colour")
    }

    @Test(arguments: ["1", "true", "YES"])
    func echoFlagAcceptsTrueSpellings(_ value: String) throws {
        var configuration = Configuration()
        try configuration.set("enable-echo", to: value, source: "--enable-echo")
        #expect(configuration.enableEcho)
    }
}
