// Integer convolution kernels: int16 weights (per output channel) times int16 activations (per
// tensor), summed exactly in int32, for inference on x86-64: AVX2, and AVX-512 VNNI where the CPU
// has it.
//
// Why int16 and not int8: the sums must stay exact and the quality cost near zero. With AVX2 alone
// the u8 x s8 product (vpmaddubsw) saturates at int16 and needs a second instruction to widen, so
// it multiplies no more pairs per instruction than vpmaddwd on int16 pairs, which is exact. VNNI's
// vpdpwssd multiplies int16 pairs and adds them to the int32 sums in one instruction, with the
// same integers: the two paths agree to the bit, and the choice between them is only speed.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "RowKernels.h"

static inline int kpad(int K) { return (K + 1) & ~1; }
static inline int npad(int N) { return (N + 7) & ~7; }

int vqz_vector_kernels_available(void) {
#if VQZ_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
#else
    return 0;
#endif
}

static int avx512_disabled = -1;   // -1: not yet read from VQZ_NO_AVX512

int vqz_avx512_kernels_available(void) {
#if VQZ_X86
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = vqz_vector_kernels_available() && __builtin_cpu_supports("avx512f") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512vnni");
    }
    if (avx512_disabled < 0) {
        const char *off = getenv("VQZ_NO_AVX512");
        avx512_disabled = off && *off && strcmp(off, "0") != 0;
    }
    return supported && !avx512_disabled;
#else
    return 0;
#endif
}

void vqz_disable_avx512_kernels(int disabled) { avx512_disabled = disabled != 0; }

// floor(sqrt((2^31 - 1) / Kp)), capped at int16's 32767: |w| and |a| both within it keep
// Kp * |w| * |a| below 2^31.
static int32_t shared_limit(int K) {
    const long long budget = 2147483647LL / kpad(K);
    long long r = (long long)sqrt((double)budget);
    while (r * r > budget) r--;
    while ((r + 1) * (r + 1) <= budget) r++;
    return (int32_t)(r < 32767 ? r : 32767);
}

int32_t vqz_weight_limit(int K) { return shared_limit(K); }
int32_t vqz_activation_limit(int K) { return shared_limit(K); }

// rintf for |x| < 2^22, NaN and infinities, without a call: adding 1.5 * 2^23 leaves no fraction
// bits, so the sum is rounded to the nearest integer, ties to even, as rintf rounds.
static inline float round_even(float x) { return (x + 12582912.0f) - 12582912.0f; }

void vqz_pack_weights(int16_t *packed, float *scale, const float *w, int K, int N, int32_t limit) {
    const int Kp = kpad(K), Np = npad(N);
    memset(packed, 0, sizeof(int16_t) * (size_t)Kp * Np);
    float *inv = malloc(sizeof(float) * (size_t)(N > 0 ? N : 1));
    if (!inv) abort();
    const float lim = (float)limit;
    // Rows in order (w is K x N, row-major), so every read is contiguous.
    for (int n = 0; n < N; n++) scale[n] = 0;
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) scale[n] = fmaxf(scale[n], fabsf(w[(size_t)k * N + n]));
    for (int n = 0; n < N; n++) {
        const float amax = scale[n];
        // An all-zero column keeps scale 0: its products are 0 whatever the integers.
        scale[n] = amax / lim;
        inv[n] = amax > 0 ? lim / amax : 0;
    }
    for (int k = 0; k < K; k++) {
        for (int n = 0; n < N; n++) {
            // |w * inv| is at most lim (plus rounding): within round_even's range.
            float q = round_even(w[(size_t)k * N + n] * inv[n]);
            q = fminf(fmaxf(q, -lim), lim);
            packed[(size_t)(n / 8) * Kp * 8 + (k / 2) * 16 + (n % 8) * 2 + (k % 2)] = (int16_t)q;
        }
    }
    free(inv);
}

float vqz_absmax_naive(const float *x, size_t n, int relu) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, relu ? x[i] : fabsf(x[i]));
    return m;
}

void vqz_quantize_naive(int16_t *dst, const float *x, size_t n, float inv_scale, int32_t limit, int relu) {
    const float lim = (float)limit;
    for (size_t i = 0; i < n; i++) {
        const float v = relu ? fmaxf(x[i], 0) : x[i];
        // Clamped before rounding, as the vector version must (its conversion of an out-of-range
        // float is INT_MIN, not a saturated value).
        dst[i] = (int16_t)rintf(fminf(fmaxf(v * inv_scale, -lim), lim));
    }
}

void vqz_qconv_row_naive(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                         size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                         const float *scale, const float *bias, int relu) {
    const int K = k * row_taps;
    for (int j = 0; j < width; j++) {
        for (int n = 0; n < N; n++) {
            const int16_t *group = B + (size_t)(n / 8) * K * 8;
            int32_t acc = 0;
            for (int ky = 0; ky < k; ky++) {
                const int16_t *a = rows[ky] + (size_t)j * in_stride;
                for (int t = 0; t < row_taps; t++) {
                    const int kk = ky * row_taps + t;
                    acc += (int32_t)a[t] * group[(kk / 2) * 16 + (n % 8) * 2 + (kk % 2)];
                }
            }
            float y = fmaf((float)acc, scale[n], bias ? bias[n] : 0);
            if (skip) y = skip[(size_t)j * out_stride + n] + y;
            if (relu) y = y > 0 ? y : 0;
            out[(size_t)j * out_stride + n] = y;
        }
    }
}

#if VQZ_X86
AVX2 static float absmax_avx2(const float *x, size_t n, int relu) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        m = _mm256_max_ps(m, relu ? v : _mm256_andnot_ps(sign, v));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float r = vqz_absmax_naive(x + i, n - i, relu);
    for (int j = 0; j < 8; j++) r = fmaxf(r, lanes[j]);
    return r;
}

AVX2 static void quantize_avx2(int16_t *dst, const float *x, size_t n, float inv_scale, int32_t limit, int relu) {
    const __m256 inv = _mm256_set1_ps(inv_scale), hi = _mm256_set1_ps((float)limit), lo = _mm256_set1_ps(-(float)limit);
    const __m256 zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        if (relu) { a = _mm256_max_ps(a, zero); b = _mm256_max_ps(b, zero); }
        a = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(a, inv), lo), hi);
        b = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(b, inv), lo), hi);
        // cvtps rounds to nearest even (the default MXCSR mode, as rintf); packs interleaves the
        // 128-bit lanes, the permute puts them back in order.
        __m256i q = _mm256_packs_epi32(_mm256_cvtps_epi32(a), _mm256_cvtps_epi32(b));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_permute4x64_epi64(q, 0xD8));
    }
    vqz_quantize_naive(dst + i, x + i, n - i, inv_scale, limit, relu);
}

static inline int32_t load_pair(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// A tile's int32 sums (pixel i's 16 channels at sums + 16 i, the second 8 only when wide) scaled,
// biased and stored through store_channels, as the naive twin's epilogue does.
AVX2 static inline void store_tile(float *out, size_t out_stride, const float *skip, const int32_t *sums, int j0,
                                   int pixels, int wide, int n0, int N, const float *scale, const float *bias, int relu) {
    for (int h = 0; h < 1 + wide; h++) {
        const int n = n0 + 8 * h;
        const __m256 s = _mm256_loadu_ps(scale + n), b = _mm256_loadu_ps(bias + n);
        for (int i = 0; i < pixels; i++) {
            const __m256 y = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(sums + 16 * i + 8 * h))), s, b);
            const size_t at = (size_t)(j0 + i) * out_stride + n;
            store_channels(out + at, skip ? skip + at : NULL, y, N - n < 8 ? N - n : 8, relu);
        }
    }
}

// The scales and biases padded to whole 8-channel groups (zeros past N), so the epilogue loads 8 lanes.
static inline void pad_channels(float *sc, float *bi, const float *scale, const float *bias, int N, int Np) {
    for (int n = 0; n < Np; n++) {
        sc[n] = n < N ? scale[n] : 0;
        bi[n] = n < N && bias ? bias[n] : 0;
    }
}

// One tile of up to 6 output pixels by 16 (wide) or 8 channels: 12 (or 6) int32 accumulators,
// each step one pair of taps: a broadcast pair of the input times 8 channels' pairs of weights
// (vpmaddwd), added in int32. Pixel i reads its window from the k input rows at j * in_stride, so
// the input needs no im2col; row_taps is even, so a pair never straddles rows. Pixels past
// `pixels` read pixel 0's window and are not stored, so the loop has no tail.
AVX2 static inline __attribute__((always_inline)) void row_tile(
    float *out, size_t out_stride, const float *skip, const int16_t *const *rows, size_t in_stride,
    int row_taps, int k, int j0, int pixels, const int16_t *B0, const int16_t *B1, int wide,
    int n0, int N, const float *scale, const float *bias, int relu) {
    __m256i c[6][2];
    for (int i = 0; i < 6; i++) c[i][0] = c[i][1] = _mm256_setzero_si256();
    int p = 0;
    for (int ky = 0; ky < k; ky++) {
        const int16_t *a[6];
        for (int i = 0; i < 6; i++) a[i] = rows[ky] + (size_t)(j0 + (i < pixels ? i : 0)) * in_stride;
        for (int q = 0; q < row_taps / 2; q++, p++) {
            const __m256i b0 = _mm256_loadu_si256((const __m256i *)(B0 + 16 * p));
            const __m256i b1 = wide ? _mm256_loadu_si256((const __m256i *)(B1 + 16 * p)) : b0;
            for (int i = 0; i < 6; i++) {
                const __m256i ai = _mm256_set1_epi32(load_pair(a[i] + 2 * q));
                c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(ai, b0));
                if (wide) c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(ai, b1));
            }
        }
    }
    // Through memory for the run-time pixel count, after the loop, so the sums stay in registers.
    int32_t sums[6][16];
    for (int i = 0; i < 6; i++) {
        _mm256_storeu_si256((__m256i *)sums[i], c[i][0]);
        _mm256_storeu_si256((__m256i *)(sums[i] + 8), c[i][1]);
    }
    store_tile(out, out_stride, skip, sums[0], j0, pixels, wide, n0, N, scale, bias, relu);
}

AVX2 static void qconv_row_avx2(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                                size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                                const float *scale, const float *bias, int relu) {
    const int K = k * row_taps, Np = npad(N), groups = Np / 8;
    float sc[Np], bi[Np];
    pad_channels(sc, bi, scale, bias, N, Np);
    for (int g = 0; g < groups; g += 2) {
        const int wide = g + 1 < groups;
        const int16_t *B0 = B + (size_t)g * K * 8, *B1 = B0 + (size_t)K * 8;
        for (int j0 = 0; j0 < width; j0 += 6) {
            const int pixels = width - j0 < 6 ? width - j0 : 6;
            if (wide)
                row_tile(out, out_stride, skip, rows, in_stride, row_taps, k, j0, pixels, B0, B1, 1, 8 * g, N, sc, bi, relu);
            else
                row_tile(out, out_stride, skip, rows, in_stride, row_taps, k, j0, pixels, B0, B1, 0, 8 * g, N, sc, bi, relu);
        }
    }
}

// The VNNI tile: up to 12 output pixels by 16 channels (two of the packed 8-channel groups side by
// side in a zmm register), each step one pair of taps: a broadcast pair of the input times the 16
// channels' pairs of weights, added to the int32 sums by vpdpwssd. Pixels past `pixels` read pixel
// 0's window and are not stored, as in row_tile. On AMD Zen 4 this multiplies no more pairs per
// cycle than AVX2's vpmaddwd (a 512-bit instruction takes two cycles' halves), but it drops the
// separate add: 10-15% off the integer decoder, measured.
VNNI static inline __attribute__((always_inline)) void row_tile_vnni(
    float *out, size_t out_stride, const float *skip, const int16_t *const *rows, size_t in_stride,
    int row_taps, int k, int j0, int pixels, const int16_t *B0, const int16_t *B1, int wide,
    int n0, int N, const float *scale, const float *bias, int relu) {
    __m512i c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm512_setzero_si512();
    int p = 0;
    for (int ky = 0; ky < k; ky++) {
        const int16_t *a[12];
        for (int i = 0; i < 12; i++) a[i] = rows[ky] + (size_t)(j0 + (i < pixels ? i : 0)) * in_stride;
        for (int q = 0; q < row_taps / 2; q++, p++) {
            const __m512i b = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(B0 + 16 * p))),
                                                 _mm256_loadu_si256((const __m256i *)(B1 + 16 * p)), 1);
            for (int i = 0; i < 12; i++) c[i] = _mm512_dpwssd_epi32(c[i], _mm512_set1_epi32(load_pair(a[i] + 2 * q)), b);
        }
    }
    int32_t sums[12][16];
    for (int i = 0; i < 12; i++) _mm512_storeu_si512(sums[i], c[i]);
    store_tile(out, out_stride, skip, sums[0], j0, pixels, wide, n0, N, scale, bias, relu);
}

VNNI static void qconv_row_vnni(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                                size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                                const float *scale, const float *bias, int relu) {
    const int K = k * row_taps, Np = npad(N), groups = Np / 8;
    float sc[Np], bi[Np];
    pad_channels(sc, bi, scale, bias, N, Np);
    for (int g = 0; g < groups; g += 2) {
        // A last, odd group fills both halves and stores one.
        const int wide = g + 1 < groups;
        const int16_t *B0 = B + (size_t)g * K * 8, *B1 = wide ? B0 + (size_t)K * 8 : B0;
        for (int j0 = 0; j0 < width; j0 += 12)
            row_tile_vnni(out, out_stride, skip, rows, in_stride, row_taps, k, j0, width - j0 < 12 ? width - j0 : 12,
                          B0, B1, wide, 8 * g, N, sc, bi, relu);
    }
}
#endif

float vqz_absmax(const float *x, size_t n, int relu) {
#if VQZ_X86
    if (vqz_vector_kernels_available()) return absmax_avx2(x, n, relu);
#endif
    return vqz_absmax_naive(x, n, relu);
}

void vqz_quantize(int16_t *dst, const float *x, size_t n, float inv_scale, int32_t limit, int relu) {
#if VQZ_X86
    if (vqz_vector_kernels_available()) { quantize_avx2(dst, x, n, inv_scale, limit, relu); return; }
#endif
    vqz_quantize_naive(dst, x, n, inv_scale, limit, relu);
}


void vqz_qconv_row(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                   size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                   const float *scale, const float *bias, int relu) {
    if (width <= 0 || N <= 0) return;
#if VQZ_X86
    if (vqz_avx512_kernels_available()) {
        qconv_row_vnni(out, out_stride, skip, rows, in_stride, row_taps, k, width, B, N, scale, bias, relu);
        return;
    }
    if (vqz_vector_kernels_available()) {
        qconv_row_avx2(out, out_stride, skip, rows, in_stride, row_taps, k, width, B, N, scale, bias, relu);
        return;
    }
#endif
    vqz_qconv_row_naive(out, out_stride, skip, rows, in_stride, row_taps, k, width, B, N, scale, bias, relu);
}
