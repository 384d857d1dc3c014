#version 450
// cross_entropy, per row n of logits (N, C): loss = logsumexp(z) - z[label]; dz = (softmax(z) - onehot) * scale.
// Rows with label < 0 are ignored (loss 0, gradient 0). One workgroup per row (grid-stride over rows).
// Bindings: 0 logits (N, C), 1 labels (N) int, 2 losses (N), 3 dlogits (N, C).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer Labels { int labels[]; };
layout(std430, binding = 2) writeonly buffer Loss { float loss[]; };
layout(std430, binding = 3) writeonly buffer Dz { float dz[]; };
layout(push_constant) uniform Params { uint rows; uint classes; float scale; } p;

shared float partial[256];

float reduce(float v, bool take_max) {
  uint tid = gl_LocalInvocationID.x;
  partial[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) partial[tid] = take_max ? max(partial[tid], partial[tid + s]) : partial[tid] + partial[tid + s];
    barrier();
  }
  float r = partial[0];
  barrier();
  return r;
}

void main() {
  uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
    uint base = row * p.classes;
    int label = labels[row];
    if (label < 0) {
      for (uint c = tid; c < p.classes; c += wg) dz[base + c] = 0.0;
      if (tid == 0) loss[row] = 0.0;
      continue;
    }
    float m = -3.4e38;
    for (uint c = tid; c < p.classes; c += wg) m = max(m, z[base + c]);
    m = reduce(m, true);
    float s = 0.0;
    for (uint c = tid; c < p.classes; c += wg) s += exp(z[base + c] - m);
    s = reduce(s, false);
    for (uint c = tid; c < p.classes; c += wg)
      dz[base + c] = (exp(z[base + c] - m) / s - (c == uint(label) ? 1.0 : 0.0)) * p.scale;
    if (tid == 0) loss[row] = log(s) + m - z[base + uint(label)];
  }
}
