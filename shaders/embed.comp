#version 450
// embed: out[r, c] = word[ids[r], c] + position[position_ids[r], c] + token_type[type_ids[r], c]
// All three id arrays are checked against the table sizes on the host before upload.
// Bindings: 0 ids (R) int, 1 position_ids (R) int, 2 type_ids (R) int, 3 word (V, H), 4 position (P, H),
// 5 token_type (Y, H), 6 out (R, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Ids { int ids[]; };
layout(std430, binding = 1) readonly buffer PositionIds { int position_ids[]; };
layout(std430, binding = 2) readonly buffer TypeIds { int type_ids[]; };
layout(std430, binding = 3) readonly buffer Word { float word[]; };
layout(std430, binding = 4) readonly buffer Position { float position[]; };
layout(std430, binding = 5) readonly buffer TokenType { float token_type[]; };
layout(std430, binding = 6) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint rows; uint hidden; } p;

void main() {
  uint total = p.rows * p.hidden;
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += step) {
    uint r = i / p.hidden, c = i % p.hidden;
    out_[i] = word[uint(ids[r]) * p.hidden + c] + position[uint(position_ids[r]) * p.hidden + c] +
              token_type[uint(type_ids[r]) * p.hidden + c];
  }
}
