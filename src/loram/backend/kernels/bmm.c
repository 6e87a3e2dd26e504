/*
 * Batched float32 matrix product C[b] = A[b] · B[b] (row-major, untransposed) in WebAssembly SIMD128.
 * tfjs-backend-wasm 4.22 sends every batched matMul (attention scores and values, and their gradients) to a
 * scalar fallback that runs at ~2 GFLOPS; this register-blocked 4×8 micro-kernel is the replacement.
 * Build: src/loram/backend/kernels/build.sh (clang --target=wasm32 -msimd128, no libc).
 */
#include <wasm_simd128.h>

typedef unsigned int u32;

static void gemm(const float *A, const float *B, float *C, u32 M, u32 K, u32 N) {
  u32 i = 0;
  for (; i + 4 <= M; i += 4) {
    const float *a0 = A + (i + 0) * K, *a1 = A + (i + 1) * K, *a2 = A + (i + 2) * K, *a3 = A + (i + 3) * K;
    u32 j = 0;
    for (; j + 8 <= N; j += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = wasm_f32x4_splat(0);
      v128_t c10 = wasm_f32x4_splat(0), c11 = wasm_f32x4_splat(0);
      v128_t c20 = wasm_f32x4_splat(0), c21 = wasm_f32x4_splat(0);
      v128_t c30 = wasm_f32x4_splat(0), c31 = wasm_f32x4_splat(0);
      const float *bp = B + j;
      for (u32 p = 0; p < K; p++, bp += N) {
        v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
        v128_t x0 = wasm_f32x4_splat(a0[p]), x1 = wasm_f32x4_splat(a1[p]);
        v128_t x2 = wasm_f32x4_splat(a2[p]), x3 = wasm_f32x4_splat(a3[p]);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, b1));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, b1));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, b1));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, b1));
      }
      float *c = C + i * N + j;
      wasm_v128_store(c, c00); wasm_v128_store(c + 4, c01); c += N;
      wasm_v128_store(c, c10); wasm_v128_store(c + 4, c11); c += N;
      wasm_v128_store(c, c20); wasm_v128_store(c + 4, c21); c += N;
      wasm_v128_store(c, c30); wasm_v128_store(c + 4, c31);
    }
    for (; j < N; j++) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (u32 p = 0; p < K; p++) {
        float b = B[p * N + j];
        s0 += a0[p] * b; s1 += a1[p] * b; s2 += a2[p] * b; s3 += a3[p] * b;
      }
      C[(i + 0) * N + j] = s0; C[(i + 1) * N + j] = s1; C[(i + 2) * N + j] = s2; C[(i + 3) * N + j] = s3;
    }
  }
  for (; i < M; i++) {
    const float *a = A + i * K;
    float *c = C + i * N;
    for (u32 j = 0; j < N; j++) c[j] = 0;
    for (u32 p = 0; p < K; p++) {
      float x = a[p];
      const float *b = B + p * N;
      for (u32 j = 0; j < N; j++) c[j] += x * b[j];
    }
  }
}

/* batchA or batchB may be 1 (broadcast); batch = max(batchA, batchB). */
__attribute__((export_name("bmm")))
void bmm(const float *A, const float *B, float *C, u32 batchA, u32 batchB, u32 M, u32 K, u32 N) {
  u32 batch = batchA > batchB ? batchA : batchB;
  for (u32 b = 0; b < batch; b++) {
    const float *a = A + (batchA == 1 ? 0 : b) * M * K;
    const float *bb = B + (batchB == 1 ? 0 : b) * K * N;
    gemm(a, bb, C + b * M * N, M, K, N);
  }
}

extern unsigned char __heap_base;
__attribute__((export_name("heap_base")))
u32 heap_base(void) { return (u32)&__heap_base; }
