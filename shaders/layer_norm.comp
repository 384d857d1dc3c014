#version 450
#extension GL_GOOGLE_include_directive : require
// variants: subgroups (reduce.glsl)
// layer_norm: y = (v - mean(v)) / sqrt(var(v) + eps) * gamma + beta, v = x + residual (residual if has_residual)
// One workgroup per row (grid-stride over rows). out may alias x: every element is read before the final pass.
// Bindings: 0 x (N, H), 1 residual (N, H), 2 gamma (H), 3 beta (H), 4 out (N, H).
layout(local_size_x_id = 0) in;
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Residual { float residual[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, binding = 4) buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint rows; uint hidden; uint has_residual; float eps; } p;

float value(uint i) { return x[i] + (p.has_residual != 0 ? residual[i] : 0.0); }

void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    uint base = row * p.hidden;
    float s = 0.0;
    for (uint c = tid; c < p.hidden; c += wg) s += value(base + c);
    float mean = reduce_sum(s) / float(p.hidden);
    float sq = 0.0;
    for (uint c = tid; c < p.hidden; c += wg) { float d = value(base + c) - mean; sq += d * d; }
    float inv_std = inversesqrt(reduce_sum(sq) / float(p.hidden) + p.eps);
    for (uint c = tid; c < p.hidden; c += wg) out_[base + c] = (value(base + c) - mean) * inv_std * gamma[c] + beta[c];
    barrier();  // the whole row is written before the group moves on (out may alias x)
  }
}
