#version 450
// scale_heads: out[b, a, i, j] = probs[b, a, i, j] * scale[a], or * scale[b, a] for a mask per sentence (Hugging
// Face's head_mask: 0 switches a head off). One thread per element (grid-stride). Bindings: 0 probs (B, A, T, T),
// 1 scale (A or B*A values: element i's map, i / (T*T) = b*A + a, modulo their count), 2 out (may be probs: each
// element is read before it is written).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Probs { float probs[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint count; uint map; uint scales; } p;  // map = T * T

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) out_[i] = probs[i] * scale[(i / p.map) % p.scales];
}
