// swift-tools-version: 6.1
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Release builds skip the run-time exclusivity checks on class properties and globals: every
    // append to a JSON buffer or a connection's queue paid one (7 % of the CPU per cart write, bench/ab.sh).
    // Debug builds, which every test runs, keep them, so an overlapping access still fails there.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "shopfloor",
    platforms: [.macOS(.v15)],
    products: [
        // No library products: every target carries `settings`, whose release-only `unsafeFlags` make
        // SwiftPM refuse a package that depends on one of them by version.
        .executable(name: "shopfloor", targets: ["shopfloor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0", traits: []),
        // ServiceGroup: ordered graceful shutdown and signal trapping. NIO-free: at 2.13.0 its
        // Package.swift depends only on swift-log and swift-async-algorithms (which needs only
        // swift-collections).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Message templates. NIO-free despite its organisation's name: at 2.1.1 its Package.swift has no
        // dependencies at all (`swift package show-dependencies` lists none under it). Pinned to 2.1.x
        // so a later release cannot bring one in unchecked.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", .upToNextMinor(from: "2.1.1")),
        // Metrics: the swift-metrics API and its Prometheus exposition. NIO-free: at 2.13.0
        // swift-metrics has no dependencies, and at 2.4.1 swift-prometheus depends only on swift-atomics
        // and swift-metrics. Pinned to their minor versions so a later release cannot bring NIO in unchecked.
        .package(url: "https://github.com/apple/swift-metrics", .upToNextMinor(from: "2.13.0")),
        .package(url: "https://github.com/swift-server/swift-prometheus", .upToNextMinor(from: "2.4.1")),
    ],
    targets: [
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "ShopfloorTransport",
            dependencies: [
                "CLinux", "COpenSSL", "CZlib", "ShopfloorCrypto",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .target(name: "ShopfloorCrypto", dependencies: ["COpenSSL"], swiftSettings: settings),
        .target(name: "ShopfloorJSON", swiftSettings: settings),
        .target(
            name: "ShopfloorStorage",
            dependencies: ["CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings),
        .target(
            name: "ShopfloorDomain",
            dependencies: [
                "ShopfloorJSON", "ShopfloorCrypto", .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: settings),
        .target(
            name: "ShopfloorSQLite",
            dependencies: ["ShopfloorDomain", "ShopfloorJSON", "ShopfloorStorage"],
            swiftSettings: settings),
        .target(
            name: "ShopfloorAPI",
            dependencies: [
                "ShopfloorTransport", "ShopfloorStorage", "ShopfloorSQLite", "ShopfloorDomain", "ShopfloorJSON", "ShopfloorCrypto",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: settings,
            plugins: ["EmbedResources"]),
        .executableTarget(name: "EmbedResource", path: "Sources/EmbedResource"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["EmbedResource"]),
        .executableTarget(
            name: "shopfloor",
            dependencies: [
                "ShopfloorAPI", "ShopfloorStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        .target(
            name: "TransportTesting",
            dependencies: ["ShopfloorTransport", "CLinux"],
            swiftSettings: settings),
        .target(
            name: "ShopfloorTesting",
            dependencies: ["ShopfloorAPI", "TransportTesting"],
            swiftSettings: settings),
        .testTarget(
            name: "TransportTests",
            dependencies: ["ShopfloorTransport", "ShopfloorCrypto", "TransportTesting"],
            swiftSettings: settings),
        .testTarget(
            name: "CryptoTests",
            dependencies: ["ShopfloorCrypto"],
            swiftSettings: settings),
        .testTarget(
            name: "StorageTests",
            dependencies: ["ShopfloorStorage", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings),
        .testTarget(
            name: "JSONTests",
            dependencies: ["ShopfloorJSON"],
            swiftSettings: settings),
        .testTarget(
            name: "DomainTests",
            dependencies: ["ShopfloorDomain", "ShopfloorJSON", "ShopfloorSQLite", "ShopfloorStorage", "ShopfloorCrypto"],
            swiftSettings: settings),
        .testTarget(
            name: "APITests",
            dependencies: [
                "ShopfloorAPI", "ShopfloorDomain", "ShopfloorJSON", "ShopfloorSQLite", "ShopfloorStorage", "ShopfloorTesting", "TransportTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
    ]
)

// libFuzzer targets, in the package only for `make fuzz` (SHOPFLOOR_FUZZ=1, its own build path,
// `-sanitize=fuzzer,address`, Fuzz/run): each hands its input function to libFuzzer's driver from its
// own top level, and an ordinary build never sees them.
if Context.environment["SHOPFLOOR_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport", swiftSettings: settings))
    package.targets += ["FuzzHTTPRequest", "FuzzWebSocketFrames", "FuzzJSON"].map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", name == "FuzzJSON" ? "ShopfloorJSON" : "ShopfloorTransport"],
                          path: "Fuzz/\(name)", swiftSettings: settings)
    }
}
