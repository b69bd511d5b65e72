// Shared device helpers for every NativeSeg kernel. Compiled by NVRTC (no CUDA headers available, so
// everything here is self-contained) and by g++ under tests/Emulation/cuda_emulation.h, which defines
// NATIVESEG_EMULATION and the CUDA built-ins.
#pragma once

#ifndef NATIVESEG_EMULATION
typedef unsigned int uint32_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned char uint8_t;
#define NS_INFINITY __int_as_float(0x7f800000)
#define NS_NAN __int_as_float(0x7fc00000)
// Dynamic shared memory: one extern array in CUDA, a per-block host buffer under emulation.
#define NS_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#else
#define NS_INFINITY __builtin_huge_valf()
#define NS_NAN __builtin_nanf("")
#define NS_DYNAMIC_SHARED(type, name) type* name = (type*)ns_emulation_dynamic_shared()
#endif

// Grid-stride loop over [0, n): kernels stay correct for any grid size the launcher picks.
#define NS_GRID_LOOP(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (int64_t)(n); i += (int64_t)blockDim.x * gridDim.x)

// IEEE half <-> float without cuda_fp16.h. Round-to-nearest-even, as __float2half does.
struct ns_half { unsigned short bits; };

__device__ inline float ns_half_to_float(ns_half h)
{
    unsigned int sign = (unsigned int)(h.bits & 0x8000u) << 16;
    unsigned int exponent = (h.bits >> 10) & 0x1fu;
    unsigned int mantissa = h.bits & 0x3ffu;
    unsigned int bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400u) == 0) { mantissa <<= 1; exponent--; }
            mantissa &= 0x3ffu;
            bits = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    return __int_as_float((int)bits);
}

__device__ inline ns_half ns_float_to_half(float f)
{
    unsigned int x = (unsigned int)__float_as_int(f);
    unsigned int sign = (x >> 16) & 0x8000u;
    unsigned int absx = x & 0x7fffffffu;
    ns_half h;
    if (absx >= 0x7f800000u) {  // inf or nan
        h.bits = (unsigned short)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
        return h;
    }
    if (absx >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf
        h.bits = (unsigned short)(sign | 0x7c00u);
        return h;
    }
    if (absx < 0x38800000u) {  // subnormal half or zero
        if (absx < 0x33000000u) { h.bits = (unsigned short)sign; return h; }
        unsigned int e = absx >> 23;
        unsigned int m = (absx & 0x7fffffu) | 0x800000u;
        unsigned int shift = 126 - e;  // 14 - (e - 127) + 13 - 1 ... aligns to the 10-bit subnormal field
        unsigned int r = m >> shift;
        unsigned int rem = m & ((1u << shift) - 1u);
        unsigned int half_point = 1u << (shift - 1);
        if (rem > half_point || (rem == half_point && (r & 1u))) r++;
        h.bits = (unsigned short)(sign | r);
        return h;
    }
    unsigned int r = ((absx >> 13) - (112u << 10));
    unsigned int rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
    h.bits = (unsigned short)(sign | r);
    return h;
}
