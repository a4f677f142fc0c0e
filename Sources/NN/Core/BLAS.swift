import COpenBLAS

/// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, the one product every layer uses.
@inline(__always)
public func gemm(_ c: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                 m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                 alpha: Float = 1, beta: Float = 0,
                 lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { for i in 0..<m { (c + i * (ldc ?? n)).update(repeating: 0, count: n) } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda ?? (transA ? m : k)), b, Int32(ldb ?? (transB ? k : n)),
                beta, c, Int32(ldc ?? n))
}
