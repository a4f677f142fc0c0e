// What the f32 and integer row kernels share: run-time selection of the AVX2 code, and the
// epilogue that adds the skip, applies the ReLU and stores a tile's outputs.
#ifndef VQZ_ROW_KERNELS_H
#define VQZ_ROW_KERNELS_H

// Only the functions whose fast version needs AVX2 are compiled with the target attribute, so the
// files build with the default flags and every entry point runs on any x86-64 (or elsewhere).
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define VQZ_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#define VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

// y (8 channels of one output pixel, bias included) plus skip[0..count), through max(0, .) when
// relu, stored to dst[0..count); count is at most 8, and only the channels below it are read or
// written. The scalar tail does what the vector path does, so both agree with the naive twins.
AVX2 static inline void store_channels(float *dst, const float *skip, __m256 y, int count, int relu) {
    if (count == 8) {
        if (skip) y = _mm256_add_ps(_mm256_loadu_ps(skip), y);
        if (relu) y = _mm256_max_ps(y, _mm256_setzero_ps());
        _mm256_storeu_ps(dst, y);
        return;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, y);
    for (int l = 0; l < count; l++) {
        float v = lanes[l];
        if (skip) v = skip[l] + v;
        if (relu) v = v > 0 ? v : 0;
        dst[l] = v;
    }
}
#else
#define VQZ_X86 0
#endif

#endif
