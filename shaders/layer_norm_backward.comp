#version 450
// layer_norm_backward, per row n: xhat = (x - mean) * rstd; g = dy * gamma;
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); also writes xhat for the gamma gradient (column_sums).
// One workgroup per row (grid-stride over rows).
// Bindings: 0 x (N, H), 1 dy (N, H), 2 gamma (H), 3 dx (N, H), 4 xhat (N, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Dy { float dy[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) writeonly buffer Dx { float dx[]; };
layout(std430, binding = 4) buffer Xhat { float xhat[]; };
layout(push_constant) uniform Params { uint rows; uint hidden; float eps; } p;

shared float partial[256];

float reduce_sum(float v) {
  uint tid = gl_LocalInvocationID.x;
  partial[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) partial[tid] += partial[tid + s];
    barrier();
  }
  float total = partial[0];
  barrier();
  return total;
}

void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  float h = float(p.hidden);
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    uint base = row * p.hidden;
    float s = 0.0;
    for (uint c = tid; c < p.hidden; c += wg) s += x[base + c];
    float mean = reduce_sum(s) / h;
    float sq = 0.0;
    for (uint c = tid; c < p.hidden; c += wg) { float d = x[base + c] - mean; sq += d * d; }
    float rstd = inversesqrt(reduce_sum(sq) / h + p.eps);
    float sg = 0.0, sgx = 0.0;
    for (uint c = tid; c < p.hidden; c += wg) {
      float xh = (x[base + c] - mean) * rstd;
      xhat[base + c] = xh;
      float g = dy[base + c] * gamma[c];
      sg += g;
      sgx += g * xh;
    }
    float mean_g = reduce_sum(sg) / h;
    float mean_gx = reduce_sum(sgx) / h;
    for (uint c = tid; c < p.hidden; c += wg)
      dx[base + c] = rstd * (dy[base + c] * gamma[c] - mean_g - xhat[base + c] * mean_gx);
  }
}
