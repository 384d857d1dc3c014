#version 450
// adamw: one AdamW step per element (PyTorch's order: decoupled weight decay, then the bias-corrected Adam update).
//   g = grad * grad_scale; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//   w -= lr * wd * w; w -= lr * (m / c1) / (sqrt(v / c2) + eps), c1 = 1 - b1^t, c2 = 1 - b2^t (from the host).
// Bindings: 0 param, 1 grad, 2 m, 3 v.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer Param { float w[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer M { float m1[]; };
layout(std430, binding = 3) buffer V { float m2[]; };
layout(push_constant) uniform Params {
  uint count; float lr; float beta1; float beta2; float eps; float weight_decay; float grad_scale; float c1; float c2;
} p;

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) {
    float g = grad[i] * p.grad_scale;
    float m = p.beta1 * m1[i] + (1.0 - p.beta1) * g;
    float v = p.beta2 * m2[i] + (1.0 - p.beta2) * g * g;
    m1[i] = m;
    m2[i] = v;
    float x = w[i];
    x -= p.lr * p.weight_decay * x;
    w[i] = x - p.lr * (m / p.c1) / (sqrt(v / p.c2) + p.eps);
  }
}
