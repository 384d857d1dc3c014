#version 450
// attention_context: context[b, i, a*D + c] = sum_j probs[b, a, i, j] * v[b, j, a*D + c]
// One thread per output element (grid-stride).
// Bindings: 0 probs (B, A, T, T), 1 v (B*T, H), 2 context (B*T, H).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Probs { float probs[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };
layout(std430, binding = 2) writeonly buffer Context { float context[]; };
layout(push_constant) uniform Params { uint batch; uint seq; uint hidden; uint heads; } p;

void main() {
  uint d = p.hidden / p.heads;
  uint total = p.batch * p.seq * p.hidden;
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint e = gl_GlobalInvocationID.x; e < total; e += step) {
    uint col = e % p.hidden, row = e / p.hidden;  // row = b * T + i
    uint b = row / p.seq, i = row % p.seq, a = col / d;
    uint pbase = ((b * p.heads + a) * p.seq + i) * p.seq;
    float s = 0.0;
    for (uint j = 0; j < p.seq; ++j) s += probs[pbase + j] * v[(b * p.seq + j) * p.hidden + col];
    context[e] = s;
  }
}
