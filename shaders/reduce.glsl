// Workgroup-wide sum and max for one-workgroup-per-row shaders (up to 256 threads). Every thread passes its value
// and gets the whole workgroup's result; every thread must call (they contain barriers).
// Two forms, compiled as two SPIR-V modules (shaders/CMakeLists.txt, "variants: subgroups"):
//   - USE_SUBGROUPS: add (or max) across the subgroup in one instruction, then across the subgroups' results in
//     shared memory. The subgroup size is the device's own, read at run time (gl_NumSubgroups).
//   - otherwise: a tree reduction through shared memory (any Vulkan device).
// Both add in a fixed order, so a result does not change from run to run.
#ifdef USE_SUBGROUPS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
shared float reduce_partial[256];  // one value per subgroup (at most 256 of size 1)

float reduce_sum(float v) {
  float s = subgroupAdd(v);
  if (subgroupElect()) reduce_partial[gl_SubgroupID] = s;
  barrier();
  float total = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) total += reduce_partial[i];
  barrier();  // reduce_partial is reused by the next reduction
  return total;
}

float reduce_max(float v) {
  float m = subgroupMax(v);
  if (subgroupElect()) reduce_partial[gl_SubgroupID] = m;
  barrier();
  float total = reduce_partial[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) total = max(total, reduce_partial[i]);
  barrier();
  return total;
}
#else
shared float reduce_partial[256];  // one value per thread

float reduce_sum(float v) {
  uint tid = gl_LocalInvocationID.x;
  reduce_partial[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) reduce_partial[tid] += reduce_partial[tid + s];
    barrier();
  }
  float total = reduce_partial[0];
  barrier();
  return total;
}

float reduce_max(float v) {
  uint tid = gl_LocalInvocationID.x;
  reduce_partial[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
    if (tid < s) reduce_partial[tid] = max(reduce_partial[tid], reduce_partial[tid + s]);
    barrier();
  }
  float total = reduce_partial[0];
  barrier();
  return total;
}
#endif
