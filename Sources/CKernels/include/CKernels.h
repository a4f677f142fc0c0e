#ifndef VQZ_CKERNELS_H
#define VQZ_CKERNELS_H
// Convolution kernels for inference: int16 weights (one scale per output channel) times int16
// activations (one scale per tensor), summed exactly in int32 (IntKernels.c), direct f32
// convolution of one output row (DirectConv.c), and Winograd F(2x2, 3x3) for the 3x3 convolutions
// with many channels (Winograd.c).
//
// Legend: N output channels, K the reduction (k*k*Cin). Kp = K rounded up to even (the integer
// kernel takes K in pairs), Np = N rounded up to 8.
// Every fast kernel has a naive twin (suffix _naive) computing the same integers and the same
// float epilogue, so the two agree bit for bit; the tests compare them on odd shapes.
#include <stddef.h>
#include <stdint.h>

// 1 when this CPU runs the vector kernels (AVX2 + FMA, detected at run time); 0 means the
// dispatching functions below run their naive twins, which are slower than sgemm: callers then
// keep im2col and sgemm, in f32.
int vqz_vector_kernels_available(void);

// 1 when the integer product runs on AVX-512 VNNI (vpdpwssd): the CPU has it, and neither the
// environment (VQZ_NO_AVX512=1, for timing the AVX2 path) nor vqz_disable_avx512_kernels turned it
// off. The integers are the same either way, so this changes the speed only.
int vqz_avx512_kernels_available(void);
void vqz_disable_avx512_kernels(int disabled);

// The integer ranges for a reduction of K: weights within +-vqz_weight_limit(K) and activations
// within +-vqz_activation_limit(K), so that K products cannot overflow int32 (and each under
// int16's range). The two share the budget equally: about 11 bits each at K = 288, 10 at 1152.
int32_t vqz_weight_limit(int K);
int32_t vqz_activation_limit(int K);

// Weights w[K][N] (row-major f32) quantized per column: scale[n] = max_k |w[k][n]| / limit and
// q = round(w / scale). Written into packed[Np * Kp] int16 in the kernel's order: 8-column groups,
// each [Kp/2][8][2] (for each pair of k, the 8 columns' two values side by side).
void vqz_pack_weights(int16_t *packed, float *scale, const float *w, int K, int N, int32_t limit);

// max |x| over n floats, or max(0, max x) when relu (the input will go through a ReLU).
float vqz_absmax(const float *x, size_t n, int relu);
float vqz_absmax_naive(const float *x, size_t n, int relu);

// dst[i] = round-to-nearest-even(max(0, x[i]) or x[i], times inv_scale), clamped to +-limit.
void vqz_quantize(int16_t *dst, const float *x, size_t n, float inv_scale, int32_t limit, int relu);
void vqz_quantize_naive(int16_t *dst, const float *x, size_t n, float inv_scale, int32_t limit, int relu);

// The integer twin of vqz_conv_row below: one output row from k rows of int16 input (quantized,
// padded), with B packed by vqz_pack_weights for K = k * row_taps:
// out[j * out_stride + n] = relu?(skip + fma(float(sum), scale[n], bias[n])), the sum exact in
// int32 when |input| <= vqz_activation_limit(K). row_taps must be even (the kernel takes the taps
// in pairs; pad an odd row with a zero weight). bias may be NULL (zero).
void vqz_qconv_row(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                   size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                   const float *scale, const float *bias, int relu);
void vqz_qconv_row_naive(float *out, size_t out_stride, const float *skip, const int16_t *const *rows,
                         size_t in_stride, int row_taps, int k, int width, const int16_t *B, int N,
                         const float *scale, const float *bias, int relu);

// Direct f32 convolution. The weights w[K][N] (K = k * row_taps, row-major as Conv2d stores them)
// are packed into panels of vqz_conv_panel_width(N) columns (8 when N <= 8, else 16), zero-padded:
// packed holds vqz_conv_packed_count(K, N) floats.
int vqz_conv_panel_width(int N);
size_t vqz_conv_packed_count(int K, int N);
void vqz_conv_pack(float *packed, const float *w, int K, int N);

// One output row of `width` pixels: for pixel j and channel n,
//   out[j * out_stride + n] = relu?(skip[j * out_stride + n] + (sum + bias[n]))
// where sum runs, as a chain of fused multiply-adds from 0, over ky < k and t < row_taps of
// rows[ky][j * in_stride + t] * w[ky * row_taps + t][n]. rows[ky] are the k input rows of the
// window (already padded, so every read is in bounds: j * in_stride + row_taps floats each);
// in_stride = stride * Cin and row_taps = k * Cin for a k x k convolution over NHWC. skip and bias
// may be NULL. The dispatching version runs AVX2 + FMA where vqz_vector_kernels_available() says so,
// else the naive twin, and the two agree to the bit.
void vqz_conv_row(float *out, size_t out_stride, const float *skip, const float *const *rows,
                  size_t in_stride, int row_taps, int k, int width, const float *packed, int N,
                  const float *bias, int relu);
void vqz_conv_row_naive(float *out, size_t out_stride, const float *skip, const float *const *rows,
                        size_t in_stride, int row_taps, int k, int width, const float *packed, int N,
                        const float *bias, int relu);

// Winograd F(2x2, 3x3) for a 3x3, stride-1 convolution over NHWC (Winograd.c). The weights
// w[9 * Cin][N] (as vqz_conv_pack takes them) are transformed into 16 packed matrices:
// vqz_winograd_packed_count floats, each laid out as vqz_conv_pack lays out a [Cin][N] matrix.
size_t vqz_winograd_packed_count(int Cin, int N);
void vqz_winograd_pack(float *packed, const float *w, int Cin, int N);
// The transformed weights themselves, U = G g G^T for each of the 16 points: u[16][Cin][N].
void vqz_winograd_transform_weights(float *u, const float *w, int Cin, int N);
// Tiles per chunk, and the scratch (floats) one call needs: give each thread its own.
int vqz_winograd_chunk(int Cin, int N);
size_t vqz_winograd_scratch_count(int Cin, int N);

// out_rows output rows of `width` pixels from the out_rows + 2 (rounded up to even, + 2) padded
// input rows of their windows: rows[i] holds 2 * ceil(width / 2) + 2 pixels of Cin floats (the left
// pad first; pixels past the image zero). Output row r is out + r * row_stride, pixel j at j * N;
// skip (may be NULL) has the same layout, and each output is relu?(skip + (sum + bias[n])) as in
// vqz_conv_row. The work goes in chunks of vqz_winograd_chunk tiles (2x2 outputs), so give
// several rows per call when the rows are narrow. The sums differ from vqz_conv_row's by rounding
// only; the naive twin agrees with the fast path to the bit.
void vqz_winograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                       int Cin, int width, const float *packed, int N, const float *bias, int relu, float *scratch);
void vqz_winograd_rows_naive(float *out, size_t row_stride, int out_rows, const float *skip,
                             const float *const *rows, int Cin, int width, const float *packed, int N,
                             const float *bias, int relu, float *scratch);

// The integer twin of vqz_winograd_rows (the decoder's int16 inference): the transformed inputs
// quantized as vqz_quantize does (inv_scale, limit; |B^T d B| <= 4 max |d| bounds them), and each
// point p's product on vqz_qconv_row against packed[p] (vqz_pack_weights of point p's [Cin][N]
// slice of vqz_winograd_transform_weights, K = Cin), dequantized by scale[p][n] (the weight scale
// times the activation scale). Cin must be even. The output transform, bias, skip and ReLU are the
// f32 path's. Scratch: vqz_qwinograd_scratch_count floats per thread.
size_t vqz_qwinograd_scratch_count(int Cin, int N);
void vqz_qwinograd_rows(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                        int Cin, int width, const int16_t *const *packed, const float *const *scale, int N,
                        float inv_scale, int32_t limit, const float *bias, int relu, float *scratch);
void vqz_qwinograd_rows_naive(float *out, size_t row_stride, int out_rows, const float *skip, const float *const *rows,
                              int Cin, int width, const int16_t *const *packed, const float *const *scale, int N,
                              float inv_scale, int32_t limit, const float *bias, int relu, float *scratch);

// The fixed-order kernels of entropy coding (FixedOrder.c): the same bits on every CPU, batch split
// and thread count, as the decoder of a prior-coded file needs. out[rows][dout] = bias + inp * weight
// (weight [din][dout] row-major), each output summed over din in ascending order, one multiply and
// one add per term, never fused (Swift's fixedOrderAffineNaive is the twin).
void vqz_fixed_affine(float *out, const float *inp, const float *weight, const float *bias, int rows, int din, int dout);
// dst[j] = e^(src[j] - offset) for arguments <= 0, by fixed IEEE-754 steps (0
// below -87 and for NaN); the naive twin takes one value at a time.
void vqz_fixed_exp(float *dst, const float *src, int n, float offset);
void vqz_fixed_exp_naive(float *dst, const float *src, int n, float offset);

// n little-endian float16 values at src (any alignment) to float32 (Float16.c): F16C where the CPU
// has it, else the naive twin; the conversion is exact, so the two agree.
void vqz_f16_to_f32(float *dst, const void *src, size_t n);
void vqz_f16_to_f32_naive(float *dst, const void *src, size_t n);

#endif
