#version 450
// scatter_add_rows: dx[rows[r], c] += dy[r, c] (the backward of gather_rows; rows are distinct, checked on the host).
// Bindings: 0 dy (R, H), 1 rows (R) int, 2 dx (N, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };
layout(std430, binding = 1) readonly buffer Rows { int rows[]; };
layout(std430, binding = 2) buffer Dx { float dx[]; };
layout(push_constant) uniform Params { uint count; uint hidden; } p;

void main() {
  uint total = p.count * p.hidden;
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint e = gl_GlobalInvocationID.x; e < total; e += step)
    dx[uint(rows[e / p.hidden]) * p.hidden + e % p.hidden] += dy[e];
}
