#pragma once
// The SPIR-V of every shader in shaders/, compiled and validated at build time (see shaders/CMakeLists.txt).
#include <cstdint>
#include <span>
#include <string_view>

namespace bertscope::gpu {

// Empty span when no shader has this name.
std::span<const std::uint32_t> shader_spirv(std::string_view name);

}  // namespace bertscope::gpu
