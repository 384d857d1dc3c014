#version 450
#extension GL_GOOGLE_include_directive : require
// variants: subgroups (reduce.glsl)
// attention_probs: probs[b, a, i, j] = softmax_j(q[b,i,a,:] . k[b,j,a,:] * scale), keys with mask[b, j] == 0 -> 0
// One workgroup per (query i, head a, sentence b); threads stride over keys j. Head dim D <= 256.
// Bindings: 0 q (B*T, H), 1 k (B*T, H), 2 mask (B, T) int, 3 probs (B, A, T, T).
layout(local_size_x_id = 0) in;
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer Mask { int mask[]; };
layout(std430, binding = 3) buffer Probs { float probs[]; };
layout(push_constant) uniform Params { uint seq; uint hidden; uint heads; float scale; } p;

shared float qrow[256];

void main() {
  uint i = gl_WorkGroupID.x, a = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  uint d = p.hidden / p.heads;
  uint qbase = (b * p.seq + i) * p.hidden + a * d;
  for (uint c = tid; c < d; c += wg) qrow[c] = q[qbase + c];
  barrier();

  uint out_base = ((b * p.heads + a) * p.seq + i) * p.seq;
  float local_max = -3.402823e38;
  for (uint j = tid; j < p.seq; j += wg) {
    float s = 0.0;
    if (mask[b * p.seq + j] != 0) {
      uint kbase = (b * p.seq + j) * p.hidden + a * d;
      for (uint c = 0; c < d; ++c) s += qrow[c] * k[kbase + c];
      s *= p.scale;
      local_max = max(local_max, s);
    }
    probs[out_base + j] = s;
  }
  float row_max = reduce_max(local_max);

  float local_sum = 0.0;
  for (uint j = tid; j < p.seq; j += wg) {
    float e = mask[b * p.seq + j] != 0 ? exp(probs[out_base + j] - row_max) : 0.0;
    probs[out_base + j] = e;
    local_sum += e;
  }
  float row_sum = reduce_sum(local_sum);
  float inv = row_sum > 0.0 ? 1.0 / row_sum : 0.0;
  for (uint j = tid; j < p.seq; j += wg) probs[out_base + j] *= inv;
}
