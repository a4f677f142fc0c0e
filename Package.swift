// swift-tools-version:6.0
import PackageDescription

// Layers, each knowing only the ones below it (docs/ARCHITECTURE.md):
//   vqz (Sources/CLI: parses, calls the libraries, reports; registers the formats)
//     -> Evaluation (the eval and bench harnesses: inpainting, prompts, judge, entropy, timings)
//     -> TextToImage (prompts, plans, reranking) -> Shapes (the captioned scene world, its judge)
//     -> Generation (sampling and inpainting over photo tokens, the baseline models)
//     -> Training (training data from image folders; the rules for starting, resuming, exporting)
//     -> StandardFormats (the format registry: PNM, PNG, JPEG, run-time plugins)
//     -> VQZ (the codec: compress/decompress, tiling, the .vqz container, entropy coders, metrics)
//          -> Models (tokenizer, priors, text models, the training harness) -> NN -> COpenBLAS, CKernels
//          -> ImageIO (pixels, the format-plugin protocol, PNM) <- Plugins/PNG, Plugins/JPEG, PluginLoader
//          -> CZstd, CBundledModels
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
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C libraries from Debian, reached through system-library targets.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLibz", path: "Sources/CLibz", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
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
        // The list of formats the commands read and write: the built-in ones, then the plugins.
        .target(name: "StandardFormats", dependencies: ["ImageIO", "PNGFormat", "JPEGFormat", "PluginLoader"],
                path: "Sources/StandardFormats"),

        // Integer kernels for inference (AVX2 intrinsics, chosen at run time), each with a naive twin.
        .target(name: "CKernels", path: "Sources/CKernels"),
        // The neural-network core; knows nothing of images, files or the CLI.
        .target(name: "NN", dependencies: ["COpenBLAS", "CKernels"], path: "Sources/NN", swiftSettings: numeric),
        // The models of vqz and the one training loop they share.
        .target(name: "Models", dependencies: ["NN"], path: "Sources/Models"),
        // The default models, embedded in the binary (see BundledModels.c).
        .target(name: "CBundledModels", path: "Sources/CBundledModels", cSettings: [.headerSearchPath("weights")]),
        // The codec library: compress/decompress API, tiling, the .vqz container, entropy coders,
        // quality metrics. No image file format, no plugin loader, no scenes, captions or prompts.
        .target(name: "VQZ", dependencies: ["Models", "NN", "ImageIO", "CZstd", "CBundledModels"],
                path: "Sources/VQZ"),
        // Token arrays (.npy, .npz) both ways and WebDataset shards (tar) of token collections.
        // ZIPFoundation writes .npz; reading inflates with zlib itself, bounded by the checked layout.
        .target(name: "TokenArrays", dependencies: ["VQZ", "CLibz", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                path: "Sources/TokenArrays"),
        // Sampling and inpainting over photo tokens, and the autoencoder and VAE baselines.
        .target(name: "Generation", dependencies: ["VQZ", "Models", "NN", "ImageIO"],
                path: "Sources/Generation"),
        // What a training run needs above the models: token grids of image folders, cached, and
        // the rules for starting (fresh, --init, --decoder-only), resuming and exporting.
        .target(name: "Training", dependencies: ["VQZ", "Models", "NN", "ImageIO", "StandardFormats"],
                path: "Sources/Training"),
        // The synthetic captioned world: scenes, their renderer, captions, layouts, dataset, judge.
        .target(name: "Shapes", dependencies: ["Models", "NN", "ImageIO"], path: "Sources/Shapes"),
        // Text-to-image generation over the shapes world: prompts, plans, reranking.
        .target(name: "TextToImage", dependencies: ["Shapes", "Generation", "Training", "VQZ", "Models", "NN", "ImageIO", "StandardFormats"],
                path: "Sources/TextToImage"),
        // The measurements behind `vqz eval` and `vqz bench`: the harnesses the commands call.
        .target(name: "Evaluation", dependencies: ["TextToImage", "Shapes", "Generation", "VQZ", "Models", "NN", "ImageIO"],
                path: "Sources/Evaluation"),
        // The command line: parses, calls the libraries, reports. Its folder is not Sources/vqz,
        // which a case-insensitive file system would merge with Sources/VQZ.
        .executableTarget(name: "vqz", dependencies: [
            "VQZ", "Evaluation", "Generation", "Training", "Shapes", "TextToImage", "StandardFormats", "Models", "NN", "ImageIO", "PluginLoader", "TokenArrays",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CLI"),

        .executableTarget(name: "nnbench", dependencies: ["NN"], path: "Benchmarks/nnbench", swiftSettings: numeric),

        // What fuzzing feeds vqz (.vqz through the codec, the PNG, JPEG and PNM readers, the
        // inpaint/generate geometry options): run by libFuzzer (scripts/fuzz) and replayed from
        // the committed corpus by FuzzReplayTests.
        .target(name: "FuzzTargets", dependencies: ["VQZ", "Generation", "Models", "ImageIO", "PNGFormat", "JPEGFormat"], path: "Fuzz/Targets"),

        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "PNGFormat", "JPEGFormat"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN"]),
        .testTarget(name: "VQZTests", dependencies: ["VQZ", "StandardFormats"], exclude: ["Fixtures"]),  // read by path: files old versions wrote
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Shapes", "VQZ", "ImageIO", "StandardFormats"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "VQZ", "Models", "NN"]),
        .testTarget(name: "GenerationTests", dependencies: ["Generation", "VQZ", "Models", "NN", "ImageIO"]),
        .testTarget(name: "ShapesTests", dependencies: ["Shapes", "Models", "NN", "ImageIO"]),
        .testTarget(name: "TextToImageTests", dependencies: ["TextToImage", "Shapes", "Generation", "Training", "VQZ", "StandardFormats", "Models", "NN", "ImageIO"]),
        .testTarget(name: "CLITests", dependencies: ["vqz", "VQZQOI", "VQZ"], exclude: ["Snapshots", "Crafted"]),  // read by path, not a bundle resource
        .testTarget(name: "TokenArraysTests", dependencies: ["TokenArrays", "VQZ"]),
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
