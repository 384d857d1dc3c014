# cmake -DSPV=file.spv -DOUT=file.cpp -DNAME=name -P embed_spirv.cmake : writes the SPIR-V words as a C++ array.
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" nchars)
math(EXPR nbytes "${nchars} / 2")
math(EXPR nwords "${nbytes} / 4")
# SPIR-V is little-endian 32-bit words; regroup each 4 bytes into one 0x........ literal.
string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])" "0x\\4\\3\\2\\1u," words "${hex}")
file(WRITE ${OUT} "// Generated from ${NAME}.comp by embed_spirv.cmake; do not edit.\n#include <cstddef>\n#include <cstdint>\n"
  "extern const std::uint32_t ${NAME}_spv[] = {${words}};\n"
  "extern const std::size_t ${NAME}_spv_words = ${nwords};\n")
