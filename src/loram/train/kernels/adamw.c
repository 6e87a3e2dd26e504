/*
 * AdamW and its companions over host float32 arrays in WebAssembly SIMD128, for backends whose gradients arrive
 * on the host (ONNX Runtime). V8 does not vectorise JavaScript loops, so the same update in JS costs ~10 ns per
 * weight; here it is one memory-bound pass. The arrays live in an imported memory laid out by wasm-adamw.ts.
 * Build: src/loram/train/kernels/build.sh (clang --target=wasm32 -msimd128, no libc).
 */
#include <wasm_simd128.h>

typedef unsigned int u32;

/*
 * p ← p − stepSize·m/(√(v·invBc2)+eps) − decay·p, with g scaled by gradScale on the way in and
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g² (the update host-adamw.ts documents).
 */
__attribute__((export_name("adamw"))) void adamw(float *p, const float *g, float *m, float *v, u32 n, float gradScale, float beta1, float beta2,
           float stepSize, float invBc2, float eps, float decay) {
  const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
  const v128_t GS = wasm_f32x4_splat(gradScale), B1 = wasm_f32x4_splat(beta1), B2 = wasm_f32x4_splat(beta2);
  const v128_t A1 = wasm_f32x4_splat(a1), A2 = wasm_f32x4_splat(a2), SS = wasm_f32x4_splat(stepSize);
  const v128_t IB = wasm_f32x4_splat(invBc2), EP = wasm_f32x4_splat(eps), DE = wasm_f32x4_splat(decay);
  u32 k = 0;
  for (; k + 4 <= n; k += 4) {
    v128_t gk = wasm_f32x4_mul(wasm_v128_load(g + k), GS);
    v128_t mk = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + k), B1), wasm_f32x4_mul(gk, A1));
    v128_t vk = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + k), B2), wasm_f32x4_mul(wasm_f32x4_mul(gk, gk), A2));
    wasm_v128_store(m + k, mk);
    wasm_v128_store(v + k, vk);
    v128_t old = wasm_v128_load(p + k);
    v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vk, IB)), EP);
    v128_t upd = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_mul(SS, mk), den), wasm_f32x4_mul(DE, old));
    wasm_v128_store(p + k, wasm_f32x4_sub(old, upd));
  }
  for (; k < n; k++) {
    float gk = g[k] * gradScale;
    float mk = m[k] * beta1 + gk * a1;
    float vk = v[k] * beta2 + gk * gk * a2;
    m[k] = mk;
    v[k] = vk;
    float old = p[k];
    p[k] = old - (stepSize * mk) / (__builtin_sqrtf(vk * invBc2) + eps) - decay * old;
  }
}

/* Σ g² in double: float accumulators lose digits over the ~10⁸ terms of a full-weight gradient. */
__attribute__((export_name("sumsq"))) double sumsq(const float *g, u32 n) {
  v128_t s0 = wasm_f64x2_splat(0), s1 = wasm_f64x2_splat(0);
  u32 k = 0;
  for (; k + 4 <= n; k += 4) {
    v128_t x = wasm_v128_load(g + k);
    v128_t sq = wasm_f32x4_mul(x, x);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(sq));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(sq, sq, 2, 3, 0, 1)));
  }
  double s = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1) + wasm_f64x2_extract_lane(s1, 0) +
             wasm_f64x2_extract_lane(s1, 1);
  for (; k < n; k++) s += (double)g[k] * (double)g[k];
  return s;
}

/* a ← a + b (gradient accumulation over micro-batches). */
__attribute__((export_name("add_into"))) void add_into(float *a, const float *b, u32 n) {
  u32 k = 0;
  for (; k + 4 <= n; k += 4) wasm_v128_store(a + k, wasm_f32x4_add(wasm_v128_load(a + k), wasm_v128_load(b + k)));
  for (; k < n; k++) a[k] += b[k];
}

/* Where free memory starts: past the data and the stack the linker placed at the bottom. */
extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) u32 heap_base(void) { return (u32)&__heap_base; }
