#version 450
// gather_rows: out[r, c] = x[rows[r], c]   (row indices checked on the host)
// Bindings: 0 x (N, H), 1 rows (R) int, 2 out (R, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Rows { int rows[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint count; uint hidden; } p;

void main() {
  uint total = p.count * p.hidden;
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint e = gl_GlobalInvocationID.x; e < total; e += step)
    out_[e] = x[uint(rows[e / p.hidden]) * p.hidden + e % p.hidden];
}
