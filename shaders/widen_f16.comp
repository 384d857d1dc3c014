#version 450
#extension GL_EXT_shader_16bit_storage : require
// widen_f16: out[i] = float(in[i]): an F16 weight matrix (the f16 variant, gpu/kernel_variants.h) as float32, for
// linear_backward_input, whose matmul has no F16 form (saliency runs backward through an inference model's weights).
// Bindings: 0 in (count) float16, 1 out (count).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer In { float16_t in_[]; };
layout(std430, binding = 1) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Params { uint count; } p;

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.count; i += step) out_[i] = float(in_[i]);
}
