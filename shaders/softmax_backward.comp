#version 450
// softmax_backward, per row i of every (batch, head): ds = probs * (dprobs - sum_j dprobs_j probs_j) * scale,
// written over dprobs. One workgroup per row (grid-stride over rows).
// Bindings: 0 probs (rows, T), 1 dprobs (rows, T) in, dscores out.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer P { float probs[]; };
layout(std430, binding = 1) buffer D { float d[]; };
layout(push_constant) uniform Params { uint rows; uint seq; float scale; } p;

shared float partial[256];

void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    uint base = row * p.seq;
    float s = 0.0;
    for (uint j = tid; j < p.seq; j += wg) s += d[base + j] * probs[base + j];
    partial[tid] = s;
    barrier();
    for (uint k = wg / 2; k > 0; k >>= 1) {
      if (tid < k) partial[tid] += partial[tid + k];
      barrier();
    }
    float dot = partial[0];
    barrier();
    for (uint j = tid; j < p.seq; j += wg) d[base + j] = probs[base + j] * (d[base + j] - dot) * p.scale;
  }
}
