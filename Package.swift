// swift-tools-version:6.0
import PackageDescription

// Layers, each knowing only the ones below it (see docs and ../shared/DESIGN.md):
//   vqz (CLI) -> VQZ (codec library) -> Models -> NN -> COpenBLAS
//                                     -> ImageIO <- Plugins/PNG, Plugins/JPEG
//                                     -> CZstd
// -Ounchecked drops Swift's bounds and overflow checks. Only the NN core gets it: its kernels
// are the hot loops, and each fast kernel has a naive twin the tests compare it with. Everything
// that reads what users feed vqz (the container, the codec's tiling, the CLI) keeps the checks,
// so a mistake there traps instead of writing out of bounds (docs/RELIABILITY.md gives the cost).
let numeric: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "vqz",
    products: [
        .executable(name: "vqz", targets: ["vqz"]),
        .library(name: "VQZ", targets: ["VQZ"]),
        // The QOI format plugin, loaded at run time (docs/PLUGINS.md): libVQZQOI.so.
        .library(name: "VQZQOI", type: .dynamic, targets: ["VQZQOI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian, reached through system-library targets.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Plugins/PNG/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Plugins/JPEG/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),

        // Pixels and the format-plugin mechanism; knows nothing of models.
        .target(name: "ImageIO", path: "Sources/ImageIO"),
        .target(name: "PNGFormat", dependencies: ["ImageIO", "CPNG"], path: "Plugins/PNG/PNGFormat"),
        .target(name: "JPEGFormat", dependencies: ["ImageIO", "CJPEG"], path: "Plugins/JPEG/JPEGFormat"),
        // Format plugins loaded at run time: the C ABI (a header) and the loader that wraps
        // each plugin library as an ImageFormat.
        .systemLibrary(name: "CVQZPlugin", path: "Plugins/ABI/CVQZPlugin"),
        .target(name: "PluginLoader", dependencies: ["ImageIO", "CVQZPlugin"], path: "Sources/PluginLoader"),
        // QOI in Swift, built as a plugin library against the C ABI alone.
        .target(name: "VQZQOI", dependencies: ["CVQZPlugin"], path: "Plugins/QOI"),

        // The neural-network core; knows nothing of images, files or the CLI.
        .target(name: "NN", dependencies: ["COpenBLAS"], path: "Sources/NN", swiftSettings: numeric),
        // The models of vqz and their training loops.
        .target(name: "Models", dependencies: ["NN"], path: "Sources/Models"),
        // The default models, embedded in the binary (see BundledModels.c).
        .target(name: "CBundledModels", path: "Sources/CBundledModels", cSettings: [.headerSearchPath("weights")]),
        // The codec library: compress/decompress API, tiling, the .vqz container, entropy coders.
        .target(name: "VQZ", dependencies: ["Models", "ImageIO", "PNGFormat", "JPEGFormat", "PluginLoader", "CZstd", "CBundledModels"],
                path: "Sources/VQZ"),
        // The command line: parses, calls the library, reports.
        .executableTarget(name: "vqz", dependencies: [
            "VQZ", "Models", "NN", "ImageIO", "PluginLoader", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/vqz"),

        .executableTarget(name: "nnbench", dependencies: ["NN"], path: "Benchmarks/nnbench", swiftSettings: numeric),

        // What fuzzing feeds vqz (.vqz through the codec, the PNG, JPEG and PNM readers, the
        // inpaint/generate geometry options): run by libFuzzer (scripts/fuzz) and replayed from
        // the committed corpus by FuzzReplayTests.
        .target(name: "FuzzTargets", dependencies: ["VQZ", "Models", "ImageIO", "PNGFormat", "JPEGFormat"], path: "Fuzz/Targets"),

        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "PNGFormat", "JPEGFormat"]),
        .testTarget(name: "NNTests", dependencies: ["NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN"]),
        .testTarget(name: "VQZTests", dependencies: ["VQZ"]),
        .testTarget(name: "GenerationTests", dependencies: ["VQZ", "Models", "NN", "ImageIO"]),
        .testTarget(name: "TextTests", dependencies: ["VQZ", "Models", "NN", "ImageIO"]),
        .testTarget(name: "CLITests", dependencies: ["vqz", "VQZQOI"], exclude: ["Snapshots", "Crafted"]),  // read by path, not a bundle resource
        .testTarget(name: "PluginLoaderTests", dependencies: ["PluginLoader", "ImageIO"]),
        .testTarget(name: "QOITests", dependencies: ["VQZQOI"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets", "ImageIO"]),
    ],
    swiftLanguageModes: [.v5]
)

// scripts/fuzz builds the fuzz targets as one sanitized shared library that its libFuzzer
// binary links; normal builds do not need it.
if Context.environment["VQZ_FUZZ"] != nil {
    package.products.append(.library(name: "VQZFuzzTargets", type: .dynamic, targets: ["FuzzTargets"]))
}
