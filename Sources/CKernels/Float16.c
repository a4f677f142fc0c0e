// float16 to float32 for loading weight files: the conversion Swift's Float(Float16) makes one value
// at a time through a library call on x86-64 was 15 ms of every command's model load; F16C converts
// eight values per instruction. Both are exact (every float16 is a float32), so the two agree.
#include "CKernels.h"

#include <string.h>

#include "RowKernels.h"

void vqz_f16_to_f32_naive(float *dst, const void *src, size_t n) {
    const unsigned char *bytes = src;
    for (size_t i = 0; i < n; i++) {
        const uint32_t h = (uint32_t)bytes[2 * i] | (uint32_t)bytes[2 * i + 1] << 8;
        const uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f;
        uint32_t mantissa = h & 0x3ff, bits;
        if (exponent == 0x1f) {
            // Infinities, and NaNs made quiet with their payload kept, as F16C does.
            bits = sign | 0x7f800000u | (mantissa ? 0x400000u | mantissa << 13 : 0);
        } else if (exponent != 0) {
            bits = sign | (exponent + 112) << 23 | mantissa << 13;
        } else if (mantissa == 0) {
            bits = sign;
        } else {
            // A subnormal float16 is a normal float32: shift the leading one out.
            int e = 113;
            while (!(mantissa & 0x400)) {
                mantissa <<= 1;
                e--;
            }
            bits = sign | (uint32_t)e << 23 | (mantissa & 0x3ff) << 13;
        }
        memcpy(dst + i, &bits, 4);
    }
}

#if VQZ_X86
__attribute__((target("avx,f16c"))) static void f16_to_f32_f16c(float *dst, const void *src, size_t n) {
    const unsigned char *bytes = src;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(bytes + 2 * i))));
    vqz_f16_to_f32_naive(dst + i, bytes + 2 * i, n - i);
}
#endif

void vqz_f16_to_f32(float *dst, const void *src, size_t n) {
#if VQZ_X86
    static int f16c = -1;
    if (f16c < 0) {
        __builtin_cpu_init();
        f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    }
    if (f16c) {
        f16_to_f32_f16c(dst, src, n);
        return;
    }
#endif
    vqz_f16_to_f32_naive(dst, src, n);
}
