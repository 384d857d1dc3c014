#version 450
// sum_squares: sums[slot] = sum_i x[i]^2, by one workgroup (a fixed summation order on every run).
// Bindings: 0 x, 1 sums.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Sums { float sums[]; };
layout(push_constant) uniform Params { uint count; uint slot; } p;

shared float partial[256];

void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  float s = 0.0;
  for (uint i = tid; i < p.count; i += wg) s += x[i] * x[i];
  partial[tid] = s;
  barrier();
  for (uint k = wg / 2; k > 0; k >>= 1) {
    if (tid < k) partial[tid] += partial[tid + k];
    barrier();
  }
  if (tid == 0) sums[p.slot] = partial[0];
}
