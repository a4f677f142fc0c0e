import Foundation
import Shapes

/// What `vqz eval judge` counts over a dataset: how much of what each caption asks for the scene
/// judge reads in its picture, how many drawn shapes it finds, which kinds it takes for which.
public struct JudgeTally {
    public var score = SceneScore()
    public var pictures = 0
    /// Pictures whose every shape was found, and nothing more.
    public var scenesExact = 0
    public var objects = 0
    /// Shapes found with kind, colour and size right.
    public var objectsFound = 0
    /// Drawn kind -> read kind -> count, for the detected shape nearest each drawn one's centre.
    public var confusion: [ShapeKind: [ShapeKind: Int]] = [:]
    /// Shapes drawn, and shapes whose kind was read right, by size.
    public var drawn: [ShapeSize: Int] = [:], kindRight: [ShapeSize: Int] = [:]

    public init() {}

    /// Counts one picture of `record` as the judge read it; returns its score.
    @discardableResult
    public mutating func add(_ record: ShapesDataset.Record, _ analysis: SceneAnalysis) -> SceneScore {
        let score = SceneJudge.score(record.request, analysis)
        self.score.add(score)
        let (found, all) = SceneJudge.objectsFound(record.scene, analysis)
        objects += all
        for o in record.scene.objects {
            if let d = analysis.objects.min(by: { hypot($0.x - o.x, $0.y - o.y) < hypot($1.x - o.x, $1.y - o.y) }),
               hypot(d.x - o.x, d.y - o.y) <= o.extent / 2 {
                confusion[o.shape, default: [:]][d.shape, default: 0] += 1
                if d.shape == o.shape { kindRight[o.size, default: 0] += 1 }
            }
            drawn[o.size, default: 0] += 1
        }
        objectsFound += found
        if found == all && analysis.objects.count == all { scenesExact += 1 }
        pictures += 1
        return score
    }
}
