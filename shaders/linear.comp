#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef WEIGHTS_F16
#extension GL_EXT_shader_16bit_storage : require
#endif
#include "common.glsl"
// linear: out[n, m] = act(sum_k x[n, k] * w[m, k] + bias[m])   (PyTorch's Linear: w is (out, in))
// variants: f16 -- compiled again as linear_f16 with w stored as float16_t (gpu/kernel_variants.h): each weight is
// widened to float as it is staged in shared memory, so the products and sums stay float32. Storage only: no F16
// arithmetic (shaderFloat16) is needed.
// Tiled: each 16x16 workgroup computes a TILE x TILE output tile, PER x PER per thread, staging 16-wide K slices of
// x and w in shared memory. PER is specialization constant 1, chosen per device (gpu/kernel_variants.h): 2, 4 or 8,
// a tile of 32, 64 or 128. Any N, K, M (edges are zero-filled).
// Bindings: 0 x (N, K), 1 w (M, K), 2 bias (M), 3 out (N, M).
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
#ifdef WEIGHTS_F16
layout(std430, binding = 1) readonly buffer W { float16_t w[]; };
#else
layout(std430, binding = 1) readonly buffer W { float w[]; };
#endif
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint n; uint k; uint m; uint has_bias; int act; } p;

layout(constant_id = 1) const uint PER = 4;
const uint TILE = 16 * PER, BK = 16;
shared float xs[BK][TILE + 1];  // xs[kk][row in tile]
shared float ws[BK][TILE + 1];  // ws[kk][col in tile]

void main() {
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint tid = ty * 16 + tx;
  uint row0 = gl_WorkGroupID.y * TILE, col0 = gl_WorkGroupID.x * TILE;
  float acc[PER][PER];
  for (uint i = 0; i < PER; ++i) for (uint j = 0; j < PER; ++j) acc[i][j] = 0.0;

  for (uint k0 = 0; k0 < p.k; k0 += BK) {
    // 256 threads load TILE x 16 of x and of w: PER elements each, consecutive threads along K for coalescing.
    for (uint e = tid; e < TILE * BK; e += 256) {
      uint r = e / BK, kk = e % BK;
      uint gk = k0 + kk;
      uint gr = row0 + r, gc = col0 + r;
      xs[kk][r] = (gr < p.n && gk < p.k) ? x[gr * p.k + gk] : 0.0;
      ws[kk][r] = (gc < p.m && gk < p.k) ? float(w[gc * p.k + gk]) : 0.0;
    }
    barrier();
    for (uint kk = 0; kk < BK; ++kk) {
      float a[PER], b[PER];
      for (uint i = 0; i < PER; ++i) a[i] = xs[kk][ty + 16 * i];
      for (uint j = 0; j < PER; ++j) b[j] = ws[kk][tx + 16 * j];
      for (uint i = 0; i < PER; ++i) for (uint j = 0; j < PER; ++j) acc[i][j] += a[i] * b[j];
    }
    barrier();
  }
  for (uint i = 0; i < PER; ++i) {
    uint r = row0 + ty + 16 * i;
    if (r >= p.n) continue;
    for (uint j = 0; j < PER; ++j) {
      uint c = col0 + tx + 16 * j;
      if (c >= p.m) continue;
      float v = acc[i][j] + (p.has_bias != 0 ? bias[c] : 0.0);
      out_[r * p.m + c] = activate(v, p.act);
    }
  }
}
