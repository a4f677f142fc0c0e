// Winograd F(2x2, 3x3) for the 3x3, stride-1, padding-1 convolutions that make up most of the
// tokenizer's work: each 2x2 block of outputs costs 16 products per (input, output) channel
// pair instead of 36, for transforms that are additions only (Lavin and Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015). The direct kernel already runs at one core's FMA
// peak, so fewer products is what is left to gain.
//
// Per pair of output rows, in chunks of tiles that keep the transformed data in L2:
//   1. the input transform V = B^T d B of every 4x4 input window (stride 2), for each channel;
//   2. for each of the 16 points, M = V U: a 1x1 convolution on the direct kernel, with the
//      weights transformed once per call (U = G g G^T, vqz_winograd_pack);
//   3. the output transform A^T M A, then the bias, the skip and the ReLU, as vqz_conv_row does.
// The transforms are additions in a fixed order and the products are the direct kernel's fixed
// chains of FMAs, so the naive twin agrees to the bit and nothing depends on the CPU or threads.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "RowKernels.h"

size_t vqz_winograd_packed_count(int Cin, int N) { return 16 * vqz_conv_packed_count(Cin, N); }

// Tiles per chunk: the chunk's 16 transformed inputs and 16 products stay within about 512 KB.
int vqz_winograd_chunk(int Cin, int N) {
    const int widest = Cin > N ? Cin : N, tiles = 4096 / widest / 6 * 6;
    return tiles < 6 ? 6 : tiles;
}

size_t vqz_winograd_scratch_count(int Cin, int N) {
    return (size_t)16 * vqz_winograd_chunk(Cin, N) * (size_t)(Cin + N);
}

// The rows of G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] applied to three values.
static void transform_taps(const float g[3], float h[4]) {
    h[0] = g[0];
    h[1] = 0.5f * ((g[0] + g[1]) + g[2]);
    h[2] = 0.5f * ((g[0] - g[1]) + g[2]);
    h[3] = g[2];
}

void vqz_winograd_transform_weights(float *u, const float *w, int Cin, int N) {
    const size_t plane = (size_t)Cin * N;
    for (int c = 0; c < Cin; c++) {
        // Output channels innermost: every read and write runs along a contiguous row, and the
        // loop vectorises (each value takes transform_taps's steps, in its order).
        const float *tap[9];
        for (int t = 0; t < 9; t++) tap[t] = w + ((size_t)t * Cin + c) * N;
        float *point[16];
        for (int p = 0; p < 16; p++) point[p] = u + p * plane + (size_t)c * N;
#pragma clang loop vectorize(assume_safety)   // the 16 points and the 9 taps are disjoint rows
        for (int n = 0; n < N; n++) {
            float h[3][4], g[3];
            for (int kx = 0; kx < 3; kx++) {   // G g: each column of taps
                for (int ky = 0; ky < 3; ky++) g[ky] = tap[ky * 3 + kx][n];
                transform_taps(g, h[kx]);
            }
            for (int a = 0; a < 4; a++) {      // (G g) G^T: each row of the result
                float t[4];
                for (int kx = 0; kx < 3; kx++) g[kx] = h[kx][a];
                transform_taps(g, t);
                for (int b = 0; b < 4; b++) point[a * 4 + b][n] = t[b];
            }
        }
    }
}

void vqz_winograd_pack(float *packed, const float *w, int Cin, int N) {
    const size_t per = vqz_conv_packed_count(Cin, N), plane = (size_t)Cin * N;
    float *u = malloc(sizeof(float) * 16 * plane);
    if (!u) abort();
    vqz_winograd_transform_weights(u, w, Cin, N);
    for (int p = 0; p < 16; p++) vqz_conv_pack(packed + p * per, u + p * plane, Cin, N);
    free(u);
}

// B^T d B for four rows d[i][j] (i the row, j the column of the 4x4 window), written to v[4i + j].
// Rows first, then columns; the naive and vector paths spell the same additions.
#define INPUT_TRANSFORM(T, d, v, SUB, ADD)                                                      \
    do {                                                                                        \
        T u_[4][4];                                                                             \
        for (int j_ = 0; j_ < 4; j_++) {                                                        \
            u_[0][j_] = SUB(d[0][j_], d[2][j_]);                                                \
            u_[1][j_] = ADD(d[1][j_], d[2][j_]);                                                \
            u_[2][j_] = SUB(d[2][j_], d[1][j_]);                                                \
            u_[3][j_] = SUB(d[1][j_], d[3][j_]);                                                \
        }                                                                                       \
        for (int i_ = 0; i_ < 4; i_++) {                                                        \
            v[4 * i_ + 0] = SUB(u_[i_][0], u_[i_][2]);                                          \
            v[4 * i_ + 1] = ADD(u_[i_][1], u_[i_][2]);                                          \
            v[4 * i_ + 2] = SUB(u_[i_][2], u_[i_][1]);                                          \
            v[4 * i_ + 3] = SUB(u_[i_][1], u_[i_][3]);                                          \
        }                                                                                       \
    } while (0)

// A^T m A for the 16 products m[4a + b], A^T = [1 1 1 0; 0 1 -1 -1]: y[r][x] for the 2x2 outputs.
#define OUTPUT_TRANSFORM(T, m, y, SUB, ADD)                                                     \
    do {                                                                                        \
        T s_[2][4];                                                                             \
        for (int b_ = 0; b_ < 4; b_++) {                                                        \
            s_[0][b_] = ADD(ADD(m[b_], m[4 + b_]), m[8 + b_]);                                  \
            s_[1][b_] = SUB(SUB(m[4 + b_], m[8 + b_]), m[12 + b_]);                             \
        }                                                                                       \
        for (int r_ = 0; r_ < 2; r_++) {                                                        \
            y[r_][0] = ADD(ADD(s_[r_][0], s_[r_][1]), s_[r_][2]);                               \
            y[r_][1] = SUB(SUB(s_[r_][1], s_[r_][2]), s_[r_][3]);                               \
        }                                                                                       \
    } while (0)

#define SCALAR_ADD(a, b) ((a) + (b))
#define SCALAR_SUB(a, b) ((a) - (b))

// A call's tiles: G pairs of output rows, each of `per_pair` tiles, numbered u = g * per_pair + t.
// Tile u reads input rows 2g .. 2g + 3 from padded column 2t, and writes output rows 2g and
// 2g + 1 (those below out_rows) at columns 2t and 2t + 1 (those below width).
typedef struct {
    float *out;
    const float *skip;
    size_t row_stride;
    int out_rows, width, per_pair, Cin, N;
    const float *const *rows;
} Tiles;

static inline const float *tile_input(const Tiles *T, int u, int i) {
    return T->rows[2 * (u / T->per_pair) + i] + (size_t)2 * (u % T->per_pair) * T->Cin;
}

// Offset of output (r, q) of tile u from out, or -1 when it lies outside the output.
static inline ptrdiff_t tile_output(const Tiles *T, int u, int r, int q) {
    const int row = 2 * (u / T->per_pair) + r, col = 2 * (u % T->per_pair) + q;
    if (row >= T->out_rows || col >= T->width) return -1;
    return (ptrdiff_t)row * (ptrdiff_t)T->row_stride + (ptrdiff_t)col * T->N;
}

// The scalar input transform of channel c of tiles [u0, u0 + tiles) into v[16][tiles][Cin].
static void input_scalar(float *v, const Tiles *T, int u0, int tiles, int c) {
    const size_t plane = (size_t)tiles * T->Cin;
    for (int t = 0; t < tiles; t++) {
        float d[4][4], x[16];
        for (int i = 0; i < 4; i++) {
            const float *a = tile_input(T, u0 + t, i);
            for (int j = 0; j < 4; j++) d[i][j] = a[(size_t)j * T->Cin + c];
        }
        INPUT_TRANSFORM(float, d, x, SCALAR_SUB, SCALAR_ADD);
        for (int p = 0; p < 16; p++) v[p * plane + (size_t)t * T->Cin + c] = x[p];
    }
}

// The scalar output transform of channel n of tiles [u0, u0 + tiles) from m[16][tiles][N]: bias,
// skip and ReLU as vqz_conv_row applies them.
static void output_scalar(const Tiles *T, const float *m, int u0, int tiles, int n, float bias, int relu) {
    const size_t plane = (size_t)tiles * T->N;
    for (int t = 0; t < tiles; t++) {
        float x[16], y[2][2];
        for (int p = 0; p < 16; p++) x[p] = m[p * plane + (size_t)t * T->N + n];
        OUTPUT_TRANSFORM(float, x, y, SCALAR_SUB, SCALAR_ADD);
        for (int r = 0; r < 2; r++) {
            for (int q = 0; q < 2; q++) {
                const ptrdiff_t at = tile_output(T, u0 + t, r, q);
                if (at < 0) continue;
                float z = y[r][q] + bias;
                if (T->skip) z = T->skip[at + n] + z;
                if (relu) z = z > 0 ? z : 0;
                T->out[at + n] = z;
            }
        }
    }
}

// The products of one chunk: for each point p, m[p] = v[p] U[p], a 1x1 convolution over `tiles`
// pixels. `naive` picks the twin of the direct kernel.
static void products(float *m, const float *v, const float *packed, int Cin, int N, int tiles, int naive) {
    const size_t per = vqz_conv_packed_count(Cin, N);
    for (int p = 0; p < 16; p++) {
        const float *row = v + (size_t)p * tiles * Cin;
        float *dst = m + (size_t)p * tiles * N;
        if (naive)
            vqz_conv_row_naive(dst, N, NULL, &row, Cin, Cin, 1, tiles, packed + p * per, N, NULL, 0);
        else
            vqz_conv_row(dst, N, NULL, &row, Cin, Cin, 1, tiles, packed + p * per, N, NULL, 0);
    }
}

static Tiles tiles_of(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                      int Cin, int width, int N) {
    return (Tiles){.out = out, .skip = skip, .row_stride = row_stride, .out_rows = out_rows, .width = width,
                   .per_pair = (width + 1) / 2, .Cin = Cin, .N = N, .rows = rows};
}

#if VQZ_X86
AVX2 static void input_avx2(float *v, const Tiles *T, int u0, int tiles) {
    const int Cin = T->Cin;
    const size_t plane = (size_t)tiles * Cin;
    for (int t = 0; t < tiles; t++) {
        const float *a[4];
        for (int i = 0; i < 4; i++) a[i] = tile_input(T, u0 + t, i);
        int c = 0;
        for (; c + 8 <= Cin; c += 8) {
            __m256 d[4][4], x[16];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[i][j] = _mm256_loadu_ps(a[i] + (size_t)j * Cin + c);
            INPUT_TRANSFORM(__m256, d, x, _mm256_sub_ps, _mm256_add_ps);
            for (int p = 0; p < 16; p++) _mm256_storeu_ps(v + p * plane + (size_t)t * Cin + c, x[p]);
        }
        for (; c < Cin; c++) {
            float d[4][4], x[16];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[i][j] = a[i][(size_t)j * Cin + c];
            INPUT_TRANSFORM(float, d, x, SCALAR_SUB, SCALAR_ADD);
            for (int p = 0; p < 16; p++) v[p * plane + (size_t)t * Cin + c] = x[p];
        }
    }
}

AVX2 static void output_avx2(const Tiles *T, const float *m, int u0, int tiles, const float *bias, int relu) {
    const int N = T->N;
    const size_t plane = (size_t)tiles * N;
    for (int t = 0; t < tiles; t++) {
        ptrdiff_t at[2][2];
        for (int r = 0; r < 2; r++)
            for (int q = 0; q < 2; q++) at[r][q] = tile_output(T, u0 + t, r, q);
        for (int n = 0; n < N; n += 8) {
            const int count = N - n < 8 ? N - n : 8;
            __m256 x[16], y[2][2];
            if (count == 8) {
                for (int p = 0; p < 16; p++) x[p] = _mm256_loadu_ps(m + p * plane + (size_t)t * N + n);
            } else {
                float lanes[8] = {0};
                for (int p = 0; p < 16; p++) {
                    for (int l = 0; l < count; l++) lanes[l] = m[p * plane + (size_t)t * N + n + l];
                    x[p] = _mm256_loadu_ps(lanes);
                }
            }
            OUTPUT_TRANSFORM(__m256, x, y, _mm256_sub_ps, _mm256_add_ps);
            float bl[8] = {0};
            for (int l = 0; l < count; l++) bl[l] = bias ? bias[n + l] : 0;
            const __m256 bv = _mm256_loadu_ps(bl);
            for (int r = 0; r < 2; r++) {
                for (int q = 0; q < 2; q++) {
                    if (at[r][q] < 0) continue;
                    const ptrdiff_t o = at[r][q] + n;
                    store_channels(T->out + o, T->skip ? T->skip + o : NULL, _mm256_add_ps(y[r][q], bv), count, relu);
                }
            }
        }
    }
}

#endif

// The chunks of one call, through the vector transforms and kernel where `vector`, else through
// their naive twins.
static void winograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                          int Cin, int width, const float *packed, int N, const float *bias, int relu,
                          float *scratch, int vector) {
    const Tiles T = tiles_of(out, row_stride, out_rows, skip, rows, Cin, width, N);
    const int chunk = vqz_winograd_chunk(Cin, N), all = (out_rows + 1) / 2 * T.per_pair;
    float *v = scratch, *m = scratch + (size_t)16 * chunk * Cin;
    for (int u0 = 0; u0 < all; u0 += chunk) {
        const int tiles = all - u0 < chunk ? all - u0 : chunk;
#if VQZ_X86
        if (vector) {
            input_avx2(v, &T, u0, tiles);
            products(m, v, packed, Cin, N, tiles, 0);
            output_avx2(&T, m, u0, tiles, bias, relu);
            continue;
        }
#endif
        for (int c = 0; c < Cin; c++) input_scalar(v, &T, u0, tiles, c);
        products(m, v, packed, Cin, N, tiles, 1);
        for (int n = 0; n < N; n++) output_scalar(&T, m, u0, tiles, n, bias ? bias[n] : 0, relu);
    }
}

void vqz_winograd_rows_naive(float *out, size_t row_stride, int out_rows, const float *skip,
                             const float *const *rows, int Cin, int width, const float *packed, int N,
                             const float *bias, int relu, float *scratch) {
    winograd_rows(out, row_stride, out_rows, skip, rows, Cin, width, packed, N, bias, relu, scratch, 0);
}

void vqz_winograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                       int Cin, int width, const float *packed, int N, const float *bias, int relu, float *scratch) {
    if (width <= 0 || N <= 0 || out_rows <= 0) return;
    winograd_rows(out, row_stride, out_rows, skip, rows, Cin, width, packed, N, bias, relu, scratch,
                  VQZ_X86 && vqz_vector_kernels_available());
}

// The integer variant for the decoder (int16 inference): the same tiles and transforms, with the
// transformed inputs quantized (one scale for the tensor: |B^T d B| <= 4 max |d|) and each point's
// product on the integer row kernel against that point's quantized weights.
size_t vqz_qwinograd_scratch_count(int Cin, int N) {
    const size_t chunk = (size_t)vqz_winograd_chunk(Cin, N);
    return 16 * chunk * (size_t)(Cin + N) + 8 * chunk * (size_t)Cin;   // v, m, then v quantized (int16)
}

static void qwinograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                           int Cin, int width, const int16_t *const *packed, const float *const *scale, int N,
                           float inv_scale, int32_t limit, const float *bias, int relu, float *scratch, int vector) {
    const Tiles T = tiles_of(out, row_stride, out_rows, skip, rows, Cin, width, N);
    const int chunk = vqz_winograd_chunk(Cin, N), all = (out_rows + 1) / 2 * T.per_pair;
    float *v = scratch, *m = scratch + (size_t)16 * chunk * Cin;
    int16_t *vq = (int16_t *)(m + (size_t)16 * chunk * N);
    for (int u0 = 0; u0 < all; u0 += chunk) {
        const int tiles = all - u0 < chunk ? all - u0 : chunk;
        const size_t count = (size_t)16 * tiles * Cin;
#if VQZ_X86
        if (vector) {
            input_avx2(v, &T, u0, tiles);
            vqz_quantize(vq, v, count, inv_scale, limit, 0);
            for (int p = 0; p < 16; p++) {
                const int16_t *row = vq + (size_t)p * tiles * Cin;
                vqz_qconv_row(m + (size_t)p * tiles * N, N, NULL, &row, Cin, Cin, 1, tiles, packed[p], N, scale[p], NULL, 0);
            }
            output_avx2(&T, m, u0, tiles, bias, relu);
            continue;
        }
#endif
        for (int c = 0; c < Cin; c++) input_scalar(v, &T, u0, tiles, c);
        vqz_quantize_naive(vq, v, count, inv_scale, limit, 0);
        for (int p = 0; p < 16; p++) {
            const int16_t *row = vq + (size_t)p * tiles * Cin;
            vqz_qconv_row_naive(m + (size_t)p * tiles * N, N, NULL, &row, Cin, Cin, 1, tiles, packed[p], N, scale[p], NULL, 0);
        }
        for (int n = 0; n < N; n++) output_scalar(&T, m, u0, tiles, n, bias ? bias[n] : 0, relu);
    }
}

void vqz_qwinograd_rows_naive(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                              int Cin, int width, const int16_t *const *packed, const float *const *scale, int N,
                              float inv_scale, int32_t limit, const float *bias, int relu, float *scratch) {
    qwinograd_rows(out, row_stride, out_rows, skip, rows, Cin, width, packed, scale, N, inv_scale, limit, bias, relu,
                   scratch, 0);
}

void vqz_qwinograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                        int Cin, int width, const int16_t *const *packed, const float *const *scale, int N,
                        float inv_scale, int32_t limit, const float *bias, int relu, float *scratch) {
    if (width <= 0 || N <= 0 || out_rows <= 0) return;
    qwinograd_rows(out, row_stride, out_rows, skip, rows, Cin, width, packed, scale, N, inv_scale, limit, bias, relu,
                   scratch, VQZ_X86 && vqz_vector_kernels_available());
}
