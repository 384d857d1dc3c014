#version 450
// matmul: C = op(A) op(B) (+ C when accumulate), for a batch of matrices. op(X) is X or X^T.
// The backward passes use it: dx = dy w, dw += dy^T x, and the per-head attention products.
// A is (M, K) after op, B is (K, N) after op, C is (M, N); ld* are row strides of the stored matrices.
// Batch z = outer * inner_count + inner; each matrix starts at outer * *_outer + inner * *_inner.
// Tiled like linear.comp: 16x16 threads compute a 64x64 tile of C, 4x4 each, K staged 16 at a time.
// Bindings: 0 A, 1 B, 2 C.
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(push_constant) uniform Params {
  uint m, n, k, lda, ldb, ldc;
  uint trans_a, trans_b, accumulate, inner_count;
  uint a_outer, a_inner, b_outer, b_inner, c_outer, c_inner;
} p;

const uint TILE = 64, BK = 16, PER = 4;
shared float as_[BK][TILE + 1];  // as_[kk][row of C in tile]
shared float bs[BK][TILE + 1];   // bs[kk][column of C in tile]

float load_a(uint base, uint i, uint kk) { return p.trans_a != 0 ? a[base + kk * p.lda + i] : a[base + i * p.lda + kk]; }
float load_b(uint base, uint kk, uint j) { return p.trans_b != 0 ? b[base + j * p.ldb + kk] : b[base + kk * p.ldb + j]; }

void main() {
  uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  uint tid = ty * 16 + tx;
  uint row0 = gl_WorkGroupID.y * TILE, col0 = gl_WorkGroupID.x * TILE;
  uint outer = gl_WorkGroupID.z / p.inner_count, inner = gl_WorkGroupID.z % p.inner_count;
  uint a_base = outer * p.a_outer + inner * p.a_inner;
  uint b_base = outer * p.b_outer + inner * p.b_inner;
  uint c_base = outer * p.c_outer + inner * p.c_inner;
  float acc[PER][PER];
  for (uint i = 0; i < PER; ++i) for (uint j = 0; j < PER; ++j) acc[i][j] = 0.0;

  for (uint k0 = 0; k0 < p.k; k0 += BK) {
    for (uint e = tid; e < TILE * BK; e += 256) {
      uint r = e / BK, kk = e % BK, gk = k0 + kk;
      as_[kk][r] = (row0 + r < p.m && gk < p.k) ? load_a(a_base, row0 + r, gk) : 0.0;
      bs[kk][r] = (col0 + r < p.n && gk < p.k) ? load_b(b_base, gk, col0 + r) : 0.0;
    }
    barrier();
    for (uint kk = 0; kk < BK; ++kk) {
      float x[PER], y[PER];
      for (uint i = 0; i < PER; ++i) x[i] = as_[kk][ty + 16 * i];
      for (uint j = 0; j < PER; ++j) y[j] = bs[kk][tx + 16 * j];
      for (uint i = 0; i < PER; ++i) for (uint j = 0; j < PER; ++j) acc[i][j] += x[i] * y[j];
    }
    barrier();
  }
  for (uint i = 0; i < PER; ++i) {
    uint r = row0 + ty + 16 * i;
    if (r >= p.m) continue;
    for (uint j = 0; j < PER; ++j) {
      uint col = col0 + tx + 16 * j;
      if (col >= p.n) continue;
      uint at = c_base + r * p.ldc + col;
      c[at] = acc[i][j] + (p.accumulate != 0 ? c[at] : 0.0);
    }
  }
}
