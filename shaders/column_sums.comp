#version 450
// column_sums: out[c] += sum_n a[n, c] * (use_b ? b[n, c] : 1). Bias gradients (sum of dy) and LayerNorm gamma
// gradients (sum of dy * xhat). One thread per column, so there are no races and the sum order is fixed.
// Bindings: 0 a (N, C), 1 b (N, C), 2 out (C).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint rows; uint columns; uint use_b; } p;

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint col = gl_GlobalInvocationID.x; col < p.columns; col += step) {
    float sum = 0.0;
    for (uint r = 0; r < p.rows; ++r) {
      uint i = r * p.columns + col;
      sum += p.use_b != 0 ? a[i] * b[i] : a[i];
    }
    out_[col] += sum;
  }
}
