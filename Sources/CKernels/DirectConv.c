// Direct f32 convolution of one output row, for inference on x86-64 with AVX2 and FMA.
//
// Why not im2col + sgemm: at the full-resolution layers (32 channels, or 3 in and out) im2col
// writes nine copies of the input, sgemm packs them once more, and an N of 32 or 3 leaves most of
// sgemm's tile idle; those layers ran at 20-110 GFLOP/s against sgemm's 183. Here the kernel reads
// each output pixel's window straight from k padded input rows (the caller keeps them, each copied
// once), and the weights are packed into panels as wide as the output allows.
//
// Every sum is a chain of fused multiply-adds in one fixed order (the taps of row 0, then row 1,
// ...), then the bias, then the skip: the naive twin performs the same operations with fmaf, so
// the two agree to the bit and the result does not depend on the CPU, the tiling or the threads.
#include "CKernels.h"

#include <math.h>
#include <string.h>

#include "RowKernels.h"

int vqz_conv_panel_width(int N) { return N <= 8 ? 8 : 16; }

static int padded_columns(int N) {
    const int pw = vqz_conv_panel_width(N);
    return (N + pw - 1) / pw * pw;
}

size_t vqz_conv_packed_count(int K, int N) { return (size_t)K * (size_t)padded_columns(N); }

void vqz_conv_pack(float *packed, const float *w, int K, int N) {
    const int pw = vqz_conv_panel_width(N), Np = padded_columns(N);
    memset(packed, 0, sizeof(float) * (size_t)K * Np);
    for (int n0 = 0; n0 < N; n0 += pw) {
        const int lanes = N - n0 < pw ? N - n0 : pw;
        float *panel = packed + (size_t)n0 * K;
        for (int k = 0; k < K; k++) memcpy(panel + (size_t)k * pw, w + (size_t)k * N + n0, sizeof(float) * lanes);
    }
}

void vqz_conv_row_naive(float *out, size_t out_stride, const float *skip, const float *const *rows,
                        size_t in_stride, int row_taps, int k, int width, const float *packed, int N,
                        const float *bias, int relu) {
    const int pw = vqz_conv_panel_width(N), K = k * row_taps;
    for (int j = 0; j < width; j++) {
        for (int n = 0; n < N; n++) {
            const float *panel = packed + (size_t)(n / pw) * K * pw + n % pw;
            float acc = 0;
            for (int ky = 0; ky < k; ky++) {
                const float *a = rows[ky] + (size_t)j * in_stride;
                for (int t = 0; t < row_taps; t++) acc = fmaf(a[t], panel[(size_t)(ky * row_taps + t) * pw], acc);
            }
            float y = acc + (bias ? bias[n] : 0);
            if (skip) y = skip[(size_t)j * out_stride + n] + y;
            if (relu) y = y > 0 ? y : 0;
            out[(size_t)j * out_stride + n] = y;
        }
    }
}

#if VQZ_X86
// One tile: up to ROWS output pixels by 8 * HALVES channels (ROWS * HALVES = 12 accumulators).
// Pixels past `pixels` read pixel 0's window and are not stored, so the loop has no tail.
AVX2 static inline __attribute__((always_inline)) void tile(
    float *out, size_t out_stride, const float *skip, const float *const *rows, size_t in_stride,
    int row_taps, int k, int j0, int pixels, const float *panel, int n0, int N, const float *bias,
    int relu, const int ROWS, const int HALVES) {
    __m256 c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm256_setzero_ps();
    const float *b = panel;
    for (int ky = 0; ky < k; ky++) {
        const float *a[12];
        for (int i = 0; i < ROWS; i++) a[i] = rows[ky] + (size_t)(j0 + (i < pixels ? i : 0)) * in_stride;
        for (int t = 0; t < row_taps; t++, b += 8 * HALVES) {
            const __m256 b0 = _mm256_loadu_ps(b);
            const __m256 b1 = HALVES == 2 ? _mm256_loadu_ps(b + 8) : b0;
            for (int i = 0; i < ROWS; i++) {
                const __m256 ai = _mm256_broadcast_ss(a[i] + t);
                c[i * HALVES] = _mm256_fmadd_ps(ai, b0, c[i * HALVES]);
                if (HALVES == 2) c[i * 2 + 1] = _mm256_fmadd_ps(ai, b1, c[i * 2 + 1]);
            }
        }
    }
    // The epilogue indexes the sums by a run-time pixel count: through memory, after the loop, so
    // the accumulators themselves stay in registers.
    float sums[12][8];
    for (int i = 0; i < 12; i++) _mm256_storeu_ps(sums[i], c[i]);
    for (int h = 0; h < HALVES; h++) {
        const int n = n0 + 8 * h;
        if (n >= N) break;
        const __m256 bv = _mm256_loadu_ps(bias + n);
        for (int i = 0; i < pixels; i++) {
            const __m256 y = _mm256_add_ps(_mm256_loadu_ps(sums[i * HALVES + h]), bv);
            const size_t at = (size_t)(j0 + i) * out_stride + n;
            store_channels(out + at, skip ? skip + at : NULL, y, N - n < 8 ? N - n : 8, relu);
        }
    }
}

AVX2 static void conv_row_avx2(float *out, size_t out_stride, const float *skip, const float *const *rows,
                               size_t in_stride, int row_taps, int k, int width, const float *packed, int N,
                               const float *bias, int relu) {
    const int pw = vqz_conv_panel_width(N), Np = padded_columns(N), K = k * row_taps;
    // Bias padded to whole panels, so the epilogue loads 8 lanes without reading past N.
    float bi[Np];
    for (int n = 0; n < Np; n++) bi[n] = n < N && bias ? bias[n] : 0;
    for (int n0 = 0; n0 < Np; n0 += pw) {
        const float *panel = packed + (size_t)n0 * K;
        if (pw == 16) {
            for (int j0 = 0; j0 < width; j0 += 6)
                tile(out, out_stride, skip, rows, in_stride, row_taps, k, j0, width - j0 < 6 ? width - j0 : 6,
                     panel, n0, N, bi, relu, 6, 2);
        } else {
            for (int j0 = 0; j0 < width; j0 += 12)
                tile(out, out_stride, skip, rows, in_stride, row_taps, k, j0, width - j0 < 12 ? width - j0 : 12,
                     panel, n0, N, bi, relu, 12, 1);
        }
    }
}
#endif

void vqz_conv_row(float *out, size_t out_stride, const float *skip, const float *const *rows,
                  size_t in_stride, int row_taps, int k, int width, const float *packed, int N,
                  const float *bias, int relu) {
    if (width <= 0 || N <= 0) return;
#if VQZ_X86
    if (vqz_vector_kernels_available()) {
        conv_row_avx2(out, out_stride, skip, rows, in_stride, row_taps, k, width, packed, N, bias, relu);
        return;
    }
#endif
    vqz_conv_row_naive(out, out_stride, skip, rows, in_stride, row_taps, k, width, packed, N, bias, relu);
}
