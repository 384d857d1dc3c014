#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// elementwise: one op over every element i (the op is a push constant, so one pipeline serves them all).
//   OP_ACTIVATE      out = act(a)
//   OP_ACT_BACKWARD  out = b * act'(a)           (a: the activation's input, b: the gradient of its output)
//   OP_ADD           out = a + b
//   OP_FILL          out = value
//   OP_DROPOUT       out = keep(seed, i) ? a * value : 0   (value = 1 / (1 - p); the same hash as the CPU)
// Bindings: 0 a, 1 b, 2 out (out may be a or b: each element is read before it is written).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint count; uint op; int act; float value; uint seed; float p; } p;

#define OP_ACTIVATE 0
#define OP_ACT_BACKWARD 1
#define OP_ADD 2
#define OP_FILL 3
#define OP_DROPOUT 4

uint hash(uint x) {
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
  return x;
}

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint seed_hash = hash(p.seed);
  for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
    float r;
    if (p.op == OP_ACTIVATE) r = activate(a[i], p.act);
    else if (p.op == OP_ACT_BACKWARD) r = b[i] * activation_slope(a[i], p.act);
    else if (p.op == OP_ADD) r = a[i] + b[i];
    else if (p.op == OP_FILL) r = p.value;
    else r = float(hash(i * 0x9e3779b9u + seed_hash) >> 8) * (1.0 / 16777216.0) >= p.p ? a[i] * p.value : 0.0;
    out_[i] = r;
  }
}
