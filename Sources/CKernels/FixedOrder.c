// The fixed-order kernels of entropy coding, vectorised: the affine layer and exp of the context
// prior, whose results must be the same bits on every machine, batch split and thread count,
// since a decoder rebuilds the probabilities the encoder coded with. Each has its scalar twin (the
// affine's is fixedOrderAffineNaive in Sources/NN/Core/FixedOrder.swift, the exp's is here), which
// the tests compare with bit for bit; the committed prior-coded files pin the bits themselves.
//
// Vectorisation runs across outputs, never across a sum, and every step is one IEEE-754 multiply
// or add: the pragma keeps the compiler from fusing a multiply and an add into an FMA, which
// would round once instead of twice and change the bits.
#include "CKernels.h"

#include <string.h>

#include "RowKernels.h"

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// One output, the scalar way: bias, then each term in ascending order.
static inline float affine_one(const float *x, const float *weight, float bias, int din, int dout, int j) {
    float acc = bias;
    for (int i = 0; i < din; i++) {
        const float p = x[i] * weight[(size_t)i * dout + j];
        acc = acc + p;
    }
    return acc;
}

static void affine_scalar(float *out, const float *inp, const float *weight, const float *bias, int rows, int din,
                          int dout, int from) {
    for (int r = 0; r < rows; r++)
        for (int j = from; j < dout; j++) out[(size_t)r * dout + j] = affine_one(inp + (size_t)r * din, weight, bias[j], din, dout, j);
}

#if VQZ_X86
// Up to 4 rows share each load of a weight row (the weights are the memory traffic); rows past
// `rows` repeat row 0 and are not stored. 4 rows by 4 vectors: 16 sums in registers.
#define AFFINE_TILE(VEC, LOADU, STOREU, SET1, MUL, ADD, LANES)                                                   \
    int j = 0;                                                                                                   \
    for (; j + 4 * LANES <= dout; j += 4 * LANES) {                                                              \
        VEC a[4][4];                                                                                             \
        for (int v = 0; v < 4; v++) a[0][v] = a[1][v] = a[2][v] = a[3][v] = LOADU(bias + j + v * LANES);          \
        for (int i = 0; i < din; i++) {                                                                          \
            const float *w = weight + (size_t)i * dout + j;                                                      \
            const VEC w0 = LOADU(w), w1 = LOADU(w + LANES), w2 = LOADU(w + 2 * LANES), w3 = LOADU(w + 3 * LANES); \
            for (int r = 0; r < 4; r++) {                                                                        \
                const VEC x = SET1(x_rows[r][i]);                                                                \
                a[r][0] = ADD(a[r][0], MUL(x, w0));                                                              \
                a[r][1] = ADD(a[r][1], MUL(x, w1));                                                              \
                a[r][2] = ADD(a[r][2], MUL(x, w2));                                                              \
                a[r][3] = ADD(a[r][3], MUL(x, w3));                                                              \
            }                                                                                                    \
        }                                                                                                        \
        for (int r = 0; r < rows; r++)                                                                           \
            for (int v = 0; v < 4; v++) STOREU(out + (size_t)r * dout + j + v * LANES, a[r][v]);                  \
    }                                                                                                            \
    for (; j + LANES <= dout; j += LANES) {                                                                      \
        VEC a[4];                                                                                                \
        for (int r = 0; r < 4; r++) a[r] = LOADU(bias + j);                                                      \
        for (int i = 0; i < din; i++) {                                                                          \
            const VEC w0 = LOADU(weight + (size_t)i * dout + j);                                                 \
            for (int r = 0; r < 4; r++) a[r] = ADD(a[r], MUL(SET1(x_rows[r][i]), w0));                           \
        }                                                                                                        \
        for (int r = 0; r < rows; r++) STOREU(out + (size_t)r * dout + j, a[r]);                                  \
    }                                                                                                            \
    affine_scalar(out, inp, weight, bias, rows, din, dout, j);

AVX2 static void affine_avx2(float *out, const float *inp, const float *weight, const float *bias, int rows, int din, int dout) {
    const float *x_rows[4];
    for (int r = 0; r < 4; r++) x_rows[r] = inp + (size_t)(r < rows ? r : 0) * din;
    AFFINE_TILE(__m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_mul_ps, _mm256_add_ps, 8)
}

VNNI static void affine_avx512(float *out, const float *inp, const float *weight, const float *bias, int rows, int din, int dout) {
    const float *x_rows[4];
    for (int r = 0; r < 4; r++) x_rows[r] = inp + (size_t)(r < rows ? r : 0) * din;
    AFFINE_TILE(__m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_mul_ps, _mm512_add_ps, 16)
}
#endif

void vqz_fixed_affine(float *out, const float *inp, const float *weight, const float *bias, int rows, int din, int dout) {
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int n = rows - r0 < 4 ? rows - r0 : 4;
        float *o = out + (size_t)r0 * dout;
        const float *x = inp + (size_t)r0 * din;
#if VQZ_X86
        if (vqz_avx512_kernels_available()) { affine_avx512(o, x, weight, bias, n, din, dout); continue; }
        if (vqz_vector_kernels_available()) { affine_avx2(o, x, weight, bias, n, din, dout); continue; }
#endif
        affine_scalar(o, x, weight, bias, n, din, dout, 0);
    }
}

// e^x for x <= 0 (0 below -87 and for NaN): n = round(x / ln 2) by the 1.5 * 2^23 trick; r = x - n ln 2
// with ln 2 split Cody-Waite style into a part with few mantissa bits (n * hi is exact) and the
// rest, so r keeps its precision (|r| <= ln 2 / 2); e^r by its Taylor series to degree 7
// (truncation error under 1e-8); times 2^n put in the exponent bits. These steps are the
// definition prior-coded files depend on: the vector versions take the same ones.
static const float exp_log2e = 1.44269504f, exp_round = 12582912.0f;
static const float exp_ln2_hi = 0.693359375f, exp_ln2_lo = -2.1219444e-4f;

static inline float exp_one(float x) {
    if (!(x >= -87.0f)) return 0;
    const float n = (x * exp_log2e + exp_round) - exp_round;
    const float r = (x - n * exp_ln2_hi) - n * exp_ln2_lo;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1;
    p = p * r + 1;
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

void vqz_fixed_exp_naive(float *dst, const float *src, int n, float offset) {
    for (int j = 0; j < n; j++) dst[j] = exp_one(src[j] - offset);
}

#if VQZ_X86
// The steps of exp_one on LANES values at a time, for VEC of the AVX2 or AVX-512 width; lanes where
// !(x >= -87), NaN included, become 0 (KEEP_AT_LEAST).
#define EXP_VECTOR(VEC, P, SUFFIX, LANES, KEEP_AT_LEAST)                                                    \
    int j = 0;                                                                                          \
    for (; j + LANES <= n; j += LANES) {                                                                \
        const VEC x = P##_sub_ps(P##_loadu_ps(src + j), P##_set1_ps(offset));                           \
        const VEC nn = P##_sub_ps(P##_add_ps(P##_mul_ps(x, P##_set1_ps(exp_log2e)), P##_set1_ps(exp_round)), \
                                  P##_set1_ps(exp_round));                                              \
        const VEC r = P##_sub_ps(P##_sub_ps(x, P##_mul_ps(nn, P##_set1_ps(exp_ln2_hi))),                 \
                                 P##_mul_ps(nn, P##_set1_ps(exp_ln2_lo)));                              \
        VEC p = P##_set1_ps(1.0f / 5040);                                                               \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f / 720));                                      \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f / 120));                                      \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f / 24));                                       \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f / 6));                                        \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(0.5f));                                            \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f));                                            \
        p = P##_add_ps(P##_mul_ps(p, r), P##_set1_ps(1.0f));                                            \
        const VEC scale = P##_castsi##SUFFIX##_ps(                                                      \
            P##_slli_epi32(P##_add_epi32(P##_cvtps_epi32(nn), P##_set1_epi32(127)), 23));               \
        P##_storeu_ps(dst + j, KEEP_AT_LEAST(P##_mul_ps(p, scale), x));                                 \
    }                                                                                                   \
    vqz_fixed_exp_naive(dst + j, src + j, n - j, offset);

AVX2 static inline __m256 keep_at_least_avx2(__m256 v, __m256 x) {
    return _mm256_and_ps(v, _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ));
}
VNNI static inline __m512 keep_at_least_avx512(__m512 v, __m512 x) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_GE_OQ), v);
}

AVX2 static void exp_avx2(float *dst, const float *src, int n, float offset) {
    EXP_VECTOR(__m256, _mm256, 256, 8, keep_at_least_avx2)
}
VNNI static void exp_avx512(float *dst, const float *src, int n, float offset) {
    EXP_VECTOR(__m512, _mm512, 512, 16, keep_at_least_avx512)
}
#endif

void vqz_fixed_exp(float *dst, const float *src, int n, float offset) {
#if VQZ_X86
    if (vqz_avx512_kernels_available()) { exp_avx512(dst, src, n, offset); return; }
    if (vqz_vector_kernels_available()) { exp_avx2(dst, src, n, offset); return; }
#endif
    vqz_fixed_exp_naive(dst, src, n, offset);
}
