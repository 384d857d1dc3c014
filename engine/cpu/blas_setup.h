#pragma once
// OpenBLAS picks its kernels when it is loaded, before main(), from the CPU model, and Debian 12's OpenBLAS 0.3.21
// does not know newer CPUs: on AMD Zen 4 and on Intel Emerald Rapids (family 6 model 207) it falls back to its
// generic Prescott kernels, 2-3x slower on bert-base than the AVX-512 (SkylakeX) kernels those CPUs run fine.
// So when OpenBLAS chose kernels weaker than the CPU supports and OPENBLAS_CORETYPE is unset, this sets it to the
// best the CPU can run.
//
// OpenMP threads that wait for work spin for a while before sleeping (libgomp: 300,000 spins by default). On a
// machine with other work running (a pre-training run, a build) that spinning steals the cores the other threads
// need: a 16-token fill-mask took 1,080 ms instead of 120. A spin count of 1,000 costs nothing when the machine is
// idle (56-62 ms either way) and matches OMP_WAIT_POLICY=passive under load, so it is set when the user set neither.
//
// Both are read when the libraries load, before main(), so this sets them and re-executes the program once.
// Call first thing in main().
namespace bertscope {

void prepare_cpu_runtime(char** argv);

// The kernel family OpenBLAS uses in this process ("SkylakeX", "Haswell", "Prescott", ...), for messages.
const char* blas_kernel_name();

}  // namespace bertscope
