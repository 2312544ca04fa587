// swift-tools-version: 6.0
// A reference server for bench/run --peers: the same endpoints as Shopfloor's /health and /v1/echo,
// on Hummingbird (SwiftNIO). Not part of the shopfloor package; built only by bench/run.
import PackageDescription

let package = Package(
    name: "hummingbird-peer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-peer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources"
        ),
    ]
)
