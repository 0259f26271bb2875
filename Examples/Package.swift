// swift-tools-version:6.0
// A package outside Vigil that uses it as a library, the way an app would: it depends on the
// checkout above by path. `scripts/run test` builds and runs it (README "Use it from Swift").
import PackageDescription

let package = Package(
    name: "VigilExamples",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Vigil", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [
                .product(name: "VigilRuntime", package: "Vigil"),
                .product(name: "VigilDetector", package: "Vigil"),
                .product(name: "VigilNumpy", package: "Vigil"),
            ]
        ),
    ]
)
