import XCTest
@testable import NN

/// Released large blocks serve the next request of about their size, and only such requests.
final class LargeBuffersTests: XCTestCase {
    func testReleasedBlocksServeRequestsOfAboutTheirSize() {
        LargeBuffers.trim()
        let mib = 1 << 20
        let a = LargeBuffers.allocate(8 * mib / 4, of: Float.self)
        a.update(repeating: 1, count: 8 * mib / 4)
        LargeBuffers.release(a)
        XCTAssertEqual(LargeBuffers.keptBytes, 8 * mib)
        // The same size again: the same block, no fresh pages.
        let b = LargeBuffers.allocate(8 * mib / 4, of: Float.self)
        XCTAssertEqual(b, a)
        LargeBuffers.release(b)
        // A little smaller still fits; half the size does not (the block would hold twice what it
        // serves), and the miss gives the kept block back rather than hold it beside a new one.
        let c = LargeBuffers.allocate(7 * mib / 4, of: Float.self)
        XCTAssertEqual(c, a)
        XCTAssertEqual(LargeBuffers.keptBytes, 0)
        LargeBuffers.release(c)
        let d = LargeBuffers.allocate(4 * mib / 4, of: Float.self)
        XCTAssertEqual(LargeBuffers.keptBytes, 0)
        d.update(repeating: 2, count: 4 * mib / 4)
        LargeBuffers.release(d)
        XCTAssertEqual(LargeBuffers.keptBytes, 4 * mib)
        // Small buffers are never kept.
        let small = LargeBuffers.allocate(100, of: Float.self)
        LargeBuffers.release(small)
        XCTAssertEqual(LargeBuffers.keptBytes, 4 * mib)
        LargeBuffers.trim()
        XCTAssertEqual(LargeBuffers.keptBytes, 0)
    }

    /// Blocks that were live together are kept together: keeping them costs no more memory than
    /// the process already held. A request that none suits gives back the largest first, as far
    /// as the new block needs.
    func testKeptBlocksStayUnderTheMostEverLive() {
        LargeBuffers.trim()
        let mib = 1 << 20
        let big = LargeBuffers.allocate(8 * mib, of: UInt8.self)
        let small = LargeBuffers.allocate(4 * mib, of: UInt8.self)
        LargeBuffers.release(big)
        LargeBuffers.release(small)
        XCTAssertEqual(LargeBuffers.keptBytes, 12 * mib)
        let middle = LargeBuffers.allocate(6 * mib, of: UInt8.self)
        XCTAssertEqual(LargeBuffers.keptBytes, 4 * mib)
        let again = LargeBuffers.allocate(4 * mib, of: UInt8.self)
        XCTAssertEqual(again, small)
        XCTAssertEqual(LargeBuffers.keptBytes, 0)
        LargeBuffers.release(middle)
        LargeBuffers.release(again)
        LargeBuffers.trim()
    }
}
