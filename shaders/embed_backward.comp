#version 450
// embed_backward: dword[ids[n]] += dy[n], dposition[position_ids[n]] += dy[n], dtype[type_ids[n]] += dy[n].
// One thread per hidden column walks all rows in order: repeated ids never race, and no float atomics are needed.
// Bindings: 0 dy (N, H), 1 ids (N), 2 position_ids (N), 3 type_ids (N), 4 dword (V, H), 5 dposition (P, H),
// 6 dtype (Y, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Dy { float dy[]; };
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };
layout(std430, binding = 3) readonly buffer Types { int types[]; };
layout(std430, binding = 4) buffer Word { float dword[]; };
layout(std430, binding = 5) buffer Pos { float dpos[]; };
layout(std430, binding = 6) buffer Type { float dtype[]; };
layout(push_constant) uniform Params { uint rows; uint hidden; } p;

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint h = gl_GlobalInvocationID.x; h < p.hidden; h += step) {
    for (uint n = 0; n < p.rows; ++n) {
      float g = dy[n * p.hidden + h];
      dword[uint(ids[n]) * p.hidden + h] += g;
      dpos[uint(positions[n]) * p.hidden + h] += g;
      dtype[uint(types[n]) * p.hidden + h] += g;
    }
  }
}
