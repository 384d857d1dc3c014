#pragma once
// Memory for what the kernels stream on every pass (packed weights, activations, the packed kernel's copy of its
// inputs): blocks of 2 MB or more on the kernel's 2 MB pages where it allows them. Transparent huge pages in
// "madvise" mode, Debian's default, are used only where a program asks.
//
// Why: a bert-base's weights span 85,000 pages of 4 KB, far more than the processor's address cache (TLB) holds, so
// every 4 KB of weights read costs a page-table walk, and inside a virtual machine each walk is two (the guest's
// and the host's tables). With the weights on 2 MB pages a bert-base fill-mask was 6% faster at 16 tokens, which
// stream all the weights for little arithmetic, and 3% at 128 and 512; with the activations too, another 14% at 512
// tokens, whose activations are megabytes (medians of 6-12 interleaved rounds).
//
// Only the whole 2 MB stretches of a block are asked for; its tail keeps small pages, so a 2.4 MB matrix costs
// 2.4 MB and not 4. Where the kernel refuses (THP "never"), the memory is ordinary. First touching a huge page is
// cheaper than touching 512 small ones (70 against 180 ms for 340 MB here), except in a virtual machine whose host
// has taken the free memory back (free page reporting), where it took up to 1.1 s.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include <sys/mman.h>

namespace bertscope {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t(2) << 20;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return std::allocator<T>().allocate(n);
    // aligned to a huge page; the bytes before it (glibc maps a little more and starts inside) are never touched
    void* p = std::aligned_alloc(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
    if (!p) throw std::bad_alloc();
    ::madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only: failure leaves small pages
    return static_cast<T*>(p);
  }
  // Elements made without a value are left as they are (default-initialised), so that a block's pages are first
  // touched, and zeroed by the kernel, by the threads that fill it and not once more by the vector beforehand.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHugePage) return std::allocator<T>().deallocate(p, n);
    std::free(p);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

// Floats the kernels stream: packed weights, the CPU backend's tensors, the packed kernel's copy of its inputs.
using HugePageFloats = std::vector<float, HugePageAllocator<float>>;

}  // namespace bertscope
