/// What a caption asks for: the attributes the scene judge checks in a picture made from it.
/// A dataset record carries the request of its caption; `vqz eval prompts` scores pictures by it.
public struct SceneRequest: Codable, Equatable, Sendable {
    public struct Object: Codable, Equatable, Sendable {
        public var shape: ShapeKind
        public var color: ShapeColor
        /// nil: the caption does not say.
        public var size: ShapeSize?
        public var position: ScenePosition?

        public init(shape: ShapeKind, color: ShapeColor, size: ShapeSize? = nil, position: ScenePosition? = nil) {
            self.shape = shape
            self.color = color
            self.size = size
            self.position = position
        }
    }

    /// `subject` stands in `relation` to `object` (indices into `objects`).
    public struct Relation: Codable, Equatable, Sendable {
        public var subject: Int
        public var relation: SceneRelation
        public var object: Int

        public init(subject: Int, relation: SceneRelation, object: Int) {
            self.subject = subject
            self.relation = relation
            self.object = object
        }
    }

    /// What a caption may say of the background: light or dark, or its texture.
    public enum Background: String, Codable, CaseIterable, Sendable {
        case light, dark, striped, checkered, noisy
    }

    public var objects: [Object]
    public var relations: [Relation]
    public var background: Background?

    public init(objects: [Object], relations: [Relation] = [], background: Background? = nil) {
        self.objects = objects
        self.relations = relations
        self.background = background
    }

    /// How many attributes the judge checks: the number of shapes, each shape's kind and colour,
    /// its size and position when asked, each relation, the background when asked.
    public var attributeCount: Int {
        1 + objects.reduce(0) { $0 + 2 + ($1.size == nil ? 0 : 1) + ($1.position == nil ? 0 : 1) }
            + relations.count + (background == nil ? 0 : 1)
    }
}
