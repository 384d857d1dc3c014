#include "cpu/cpu_backend.h"

#include "cpu/blas_setup.h"
#include "cpu/huge_pages.h"
#include "cpu/packed_linear.h"
#include "cpu/skinny_linear.h"
#include "cpu/vector_math.h"

#include <cblas.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

#include "core/error.h"

namespace bertscope {

// A CPU tensor's values: blocks of 2 MB or more on huge pages (huge_pages.h); a new one's values are unset.
using HostFloats = HugePageFloats;

// Freed F32 buffers, kept for reuse by size. Training allocates the same activation shapes every step, and on
// these machines touching freshly mapped memory costs more than the arithmetic (zeroing 75 MB of new pages took
// ~100 ms against ~2 ms for reused ones), so reusing buffers makes a training step much faster.
class BufferPool {
 public:
  HostFloats take(size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(n);
    if (it == free_.end()) return HostFloats(n);
    HostFloats v = std::move(it->second);
    free_.erase(it);
    bytes_ -= n * sizeof(float);
    return v;  // contents undefined (Backend::empty promises nothing)
  }
  void give(HostFloats&& v) {
    const size_t bytes = v.size() * sizeof(float);
    if (bytes < kMinBytes) return;  // small buffers are cheap to allocate
    std::lock_guard<std::mutex> lock(mutex_);
    if (bytes_ + bytes > kMaxBytes) return;  // let it go back to the system
    bytes_ += bytes;
    free_.emplace(v.size(), std::move(v));
  }

 private:
  static constexpr size_t kMinBytes = 64 * 1024, kMaxBytes = size_t(1) << 30;
  std::mutex mutex_;
  std::multimap<size_t, HostFloats> free_;
  size_t bytes_ = 0;
};

namespace {

// Host memory: owned (a vector) or borrowed from a memory-mapped file kept alive by `keep_alive`.
struct CpuStorage final : TensorStorage {
  ~CpuStorage() override {
    if (pool && !owned_f32.empty()) pool->give(std::move(owned_f32));
  }
  std::shared_ptr<BufferPool> pool;  // where owned_f32 goes back to
  HostFloats owned_f32;
  std::vector<std::int32_t> owned_i32;
  const void* borrowed = nullptr;
  std::shared_ptr<const void> keep_alive;
  // upload_inference_weight's linear weight in packed_linear's layout; then `borrowed` is the weights as the
  // file stores them, or null where they were converted (and only this copy is kept).
  std::unique_ptr<PackedWeight> packed;

  const void* data() const {
    if (borrowed) return borrowed;
    if (packed) throw Error("internal: an op other than linear read a packed inference weight");
    return owned_f32.empty() ? static_cast<const void*>(owned_i32.data()) : owned_f32.data();
  }
};

CpuStorage& storage_of(const Tensor& t) {
  auto* s = dynamic_cast<CpuStorage*>(t.storage());
  if (!s) throw Error("internal: tensor does not belong to the CPU backend");
  return *s;
}

void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("internal: shape mismatch in CPU op ") + what);
}


}  // namespace

CpuBackend::CpuBackend() : pool_(std::make_shared<BufferPool>()) {}
CpuBackend::~CpuBackend() = default;

std::string CpuBackend::name() const {
  // e.g. "CPU (OpenBLAS SkylakeX, 2 threads)": the kernel family tells a slow run's cause (see blas_setup.h)
  return std::string("CPU (OpenBLAS ") + blas_kernel_name() + ", " + std::to_string(openblas_get_num_threads()) +
         " threads)";
}

const float* CpuBackend::f32(const Tensor& t) { return static_cast<const float*>(storage_of(t).data()); }
float* CpuBackend::f32_mut(Tensor& t) {
  auto& s = storage_of(t);
  if (s.borrowed || s.packed) throw Error("internal: writing to a read-only (memory-mapped or packed) tensor");
  return s.owned_f32.data();
}
const std::int32_t* CpuBackend::i32(const Tensor& t) { return static_cast<const std::int32_t*>(storage_of(t).data()); }

Tensor CpuBackend::empty(const Shape& shape, DType dtype) {
  auto s = std::make_unique<CpuStorage>();
  if (dtype == DType::F32) {
    s->owned_f32 = pool_->take(static_cast<size_t>(element_count(shape)));
    s->pool = pool_;
  } else {
    s->owned_i32.assign(element_count(shape), 0);
  }
  return Tensor(std::move(s), shape, dtype);
}

Tensor CpuBackend::upload(std::span<const float> data, const Shape& shape) {
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload");
  auto s = std::make_unique<CpuStorage>();
  s->owned_f32 = pool_->take(data.size());
  s->pool = pool_;
  std::copy(data.begin(), data.end(), s->owned_f32.begin());
  return Tensor(std::move(s), shape, DType::F32);
}

Tensor CpuBackend::upload(std::span<const std::int32_t> data, const Shape& shape) {
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload");
  auto s = std::make_unique<CpuStorage>();
  s->owned_i32.assign(data.begin(), data.end());
  return Tensor(std::move(s), shape, DType::I32);
}

Tensor CpuBackend::adopt(std::span<const float> data, const Shape& shape, std::shared_ptr<const void> keep_alive) {
  bool aligned = reinterpret_cast<std::uintptr_t>(data.data()) % alignof(float) == 0;
  if (!keep_alive || !aligned) return upload(data, shape);
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "adopt");
  auto s = std::make_unique<CpuStorage>();
  s->borrowed = data.data();
  s->keep_alive = std::move(keep_alive);
  return Tensor(std::move(s), shape, DType::F32);
}

Tensor CpuBackend::upload_inference_weight(std::span<const float> data, const Shape& shape,
                                          std::shared_ptr<const void> keep_alive) {
  if (shape.size() != 2 || packed_panel_width() == 0)
    return adopt(data, shape, std::move(keep_alive));
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload_inference_weight");
  auto s = std::make_unique<CpuStorage>();
  const std::int64_t M = shape[0], K = shape[1];
  const bool mapped = keep_alive && reinterpret_cast<std::uintptr_t>(data.data()) % alignof(float) == 0;
  // From a memory-mapped file, the rows already copied are handed back to the kernel as we go (MADV_PAGEOUT
  // drops clean file pages and never changes what the memory holds): the packed copy then replaces them in
  // memory instead of doubling it. They are read again from the file only if backward or download needs them.
  auto release = [&](std::int64_t first, std::int64_t end) {
    if (!mapped) return;
    const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const std::uintptr_t from = (reinterpret_cast<std::uintptr_t>(data.data() + first * K) + page - 1) / page * page;
    const std::uintptr_t to = reinterpret_cast<std::uintptr_t>(data.data() + end * K) / page * page;
    if (from < to) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_PAGEOUT);
  };
  s->packed = std::make_unique<PackedWeight>(pack_weight(data.data(), M, K, packed_panel_width(), release));
  if (mapped) {
    s->borrowed = data.data();
    s->keep_alive = std::move(keep_alive);
  }
  return Tensor(std::move(s), shape, DType::F32);
}

const float* CpuBackend::weight_rows(const Tensor& w, std::vector<float>& copy) {
  const CpuStorage& s = storage_of(w);
  if (!s.packed || s.borrowed) return f32(w);
  copy.resize(static_cast<size_t>(w.numel()));
  unpack_weight(*s.packed, copy.data());
  return copy.data();
}

void CpuBackend::download(const Tensor& t, std::span<float> out) {
  require(static_cast<std::int64_t>(out.size()) == t.numel(), "download");
  if (const auto& packed = storage_of(t).packed; packed && !storage_of(t).borrowed) {
    unpack_weight(*packed, out.data());
  } else if (t.dtype() == DType::F32) {
    std::memcpy(out.data(), f32(t), out.size() * sizeof(float));
  } else {
    const std::int32_t* src = i32(t);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(src[i]);
  }
}

void CpuBackend::embed(const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids, const Tensor& word,
                       const Tensor& position, const Tensor& token_type, Tensor& out) {
  const std::int64_t rows = ids.numel(), H = word.dim(1);
  require(out.dim(0) == rows && out.dim(1) == H && type_ids.numel() == rows && position_ids.numel() == rows, "embed");
  const std::int32_t* id = i32(ids);
  const std::int32_t* pos = i32(position_ids);
  const std::int32_t* tt = i32(type_ids);
  const float *W = f32(word), *P = f32(position), *TT = f32(token_type);
  float* y = f32_mut(out);  // (B*T, H)
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* w = W + static_cast<std::int64_t>(id[r]) * H;
    const float* p = P + static_cast<std::int64_t>(pos[r]) * H;
    const float* t = TT + static_cast<std::int64_t>(tt[r]) * H;
    for (std::int64_t c = 0; c < H; ++c) y[r * H + c] = w[c] + p[c] + t[c];
  }
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta,
                            float eps, Tensor& out) {
  const std::int64_t N = x.dim(0), H = x.dim(1);
  require(out.numel() == x.numel() && gamma.numel() == H && (!residual || residual->numel() == x.numel()),
          "layer_norm");
  const float* X = f32(x);
  const float* R = residual ? f32(*residual) : nullptr;
  const float *g = f32(gamma), *b = f32(beta);
  float* Y = f32_mut(out);  // may alias x: each row is read fully before it is written
  // Rows handed out 16 at a time rather than half to each thread: a thread that joins late (waking one takes tens of
  // microseconds, about what a short input's LayerNorm takes in all) then leaves its rows to the other.
#pragma omp parallel for schedule(dynamic, 16)
  for (std::int64_t r = 0; r < N; ++r) layer_norm_row(X + r * H, R ? R + r * H : nullptr, g, b, eps, Y + r * H, H);
}

void CpuBackend::linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) {
  const std::int64_t N = x.dim(0), K = x.dim(1), M = weight.dim(0);
  require(weight.dim(1) == K && out.dim(0) == N && out.dim(1) == M && (!bias || bias->numel() == M), "linear");
  float* Y = f32_mut(out);  // (N, M)
  const float* b = bias ? f32(*bias) : nullptr;
  if (const PackedWeight* packed = storage_of(weight).packed.get()) {
    // The kernel adds the bias, and its threads apply the activation to their own columns while they are in cache.
    const FinishColumns activate = [](float* y, std::int64_t rows, std::int64_t stride, std::int64_t col,
                                      std::int64_t cols, const void* context) {
      const Activation a = *static_cast<const Activation*>(context);
      activate_rows(y + col, rows, stride, cols, a);
    };
    packed_linear(f32(x), N, *packed, b, Y, act == Activation::None ? nullptr : activate, &act);
    return;
  }
  bool bias_added = false;
  if (N > kSkinnyLinearMaxRows || !skinny_linear(f32(x), f32(weight), Y, N, M, K)) {
    // Y = X (N, K) * W^T (K, M); a few rows (a short input) by the kernel that reads the weights only once.
    // With a bias, Y starts as the bias in every row and the product is added to it (beta = 1): with beta = 0
    // OpenBLAS clears Y first (sgemm_beta, 4.7% of a pre-training step) and the bias took another pass.
    if (b) {
#pragma omp parallel for
      for (std::int64_t r = 0; r < N; ++r) std::copy(b, b + M, Y + r * M);
      bias_added = true;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, M, K, 1.0f, f32(x), K, f32(weight), K,
                bias_added ? 1.0f : 0.0f, Y, M);
  }
  if ((!b || bias_added) && act == Activation::None) return;
#pragma omp parallel for
  for (std::int64_t r = 0; r < N; ++r) {
    float* row = Y + r * M;
    if (b && !bias_added)
      for (std::int64_t c = 0; c < M; ++c) row[c] += b[c];
    if (act != Activation::None) activate_in_place(row, M, act);
  }
}

void CpuBackend::linears_of_one_input(const Tensor& x, std::span<const LinearInto> products) {
  // Packed weights of one shape (the attention's query, key and value of a model opened for inference): one call
  // of the kernel. Anything else, one product at a time.
  std::vector<PackedLinearInto> packed;
  for (const LinearInto& p : products) {
    const PackedWeight* w = storage_of(*p.weight).packed.get();
    require(p.weight->dim(1) == x.dim(1) && p.out->dim(0) == x.dim(0) && p.out->dim(1) == p.weight->dim(0),
            "linears_of_one_input");
    if (!w || w->K != x.dim(1) || (!packed.empty() && w->panel != packed[0].weight->panel)) {
      Backend::linears_of_one_input(x, products);
      return;
    }
    packed.push_back({w, p.bias ? f32(*p.bias) : nullptr, f32_mut(*p.out)});
  }
  packed_linears(f32(x), x.dim(0), packed);
}

// Attention runs one (sentence, head) pair per OpenMP task, each with its own single-threaded sgemm (OpenBLAS
// runs on one thread inside a parallel region): one fork and join per layer instead of three per head, which at
// 128 tokens were most of attention's time.

void CpuBackend::attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) {
  const std::int64_t B = mask.dim(0), T = mask.dim(1), H = q.dim(1), D = H / heads;
  require(q.dim(0) == B * T && k.numel() == q.numel() && probs.numel() == B * heads * T * T, "attention_probs");
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const std::int32_t* m = i32(mask);  // (B, T)
  float* P = f32_mut(probs);          // (B, A, T, T)
  const float *Qall = f32(q), *Kall = f32(k);
#pragma omp parallel for schedule(static)
  for (std::int64_t pair = 0; pair < B * heads; ++pair) {
    const std::int64_t b = pair / heads, a = pair % heads;
    float* S = P + pair * T * T;  // (T, T) scores for this head
    const float* Q = Qall + b * T * H + a * D;
    const float* Kh = Kall + b * T * H + a * D;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, scale, Q, H, Kh, H, 0.0f, S, T);
    const std::int32_t* keep = m + b * T;  // (T) 0 for a masked key (padding)
    for (std::int64_t i = 0; i < T; ++i) masked_softmax_inplace(S + i * T, keep, T);
  }
}

void CpuBackend::attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) {
  const std::int64_t H = v.dim(1), D = H / heads, T = probs.dim(3), B = probs.dim(0);
  require(v.dim(0) == B * T && context.numel() == v.numel(), "attention_context");
  float* C = f32_mut(context);  // (B*T, H)
  const float *Pall = f32(probs), *Vall = f32(v);
#pragma omp parallel for schedule(static)
  for (std::int64_t pair = 0; pair < B * heads; ++pair) {
    const std::int64_t b = pair / heads, a = pair % heads;
    const float* P = Pall + pair * T * T;     // (T, T)
    const float* V = Vall + b * T * H + a * D;  // (T, D), row stride H
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, P, T, V, H, 0.0f, C + b * T * H + a * D, H);
  }
}

bool CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, int heads,
                           const Tensor* head_scale, Tensor& context) {
  const std::int64_t B = mask.dim(0), T = mask.dim(1), H = q.dim(1), D = H / heads;
  require(q.dim(0) == B * T && k.numel() == q.numel() && v.numel() == q.numel() && context.numel() == q.numel(),
          "attention");
  const std::int64_t S = head_scale ? head_scale->numel() : 0;  // A, or B * A
  require(!head_scale || S == heads || S == B * heads, "attention head_scale");
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const std::int32_t* m = i32(mask);  // (B, T)
  const float *Qall = f32(q), *Kall = f32(k), *Vall = f32(v), *factor = head_scale ? f32(*head_scale) : nullptr;
  float* C = f32_mut(context);  // (B*T, H)
  // A block of query rows of one head at a time: its scores (kRows, T) stay in cache from the product through the
  // softmax to the product with the values, and the maps of a long input are never held whole (at 512 tokens a
  // batch of 32 sentences would need 400 MB for them). Blocks of 256 rows: each block's products copy the head's
  // keys and values again, which made blocks of 64 slower at 512 tokens.
  constexpr std::int64_t kRows = 256;
  const std::int64_t blocks = (T + kRows - 1) / kRows;
  // Jobs are handed out one at a time, so that a thread that joins late takes fewer of them.
#pragma omp parallel
  {
    thread_local std::vector<float> scores;  // (rows, T), kept between calls
    if (scores.size() < static_cast<size_t>(std::min(kRows, T) * T)) scores.resize(std::min(kRows, T) * T);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t job = 0; job < B * heads * blocks; ++job) {
      const std::int64_t pair = job / blocks, b = pair / heads, a = pair % heads, i0 = (job % blocks) * kRows;
      const std::int64_t rows = std::min(kRows, T - i0);
      const float* Q = Qall + (b * T + i0) * H + a * D;  // (rows, D), row stride H
      const float* Kh = Kall + b * T * H + a * D;         // (T, D)
      const float* V = Vall + b * T * H + a * D;          // (T, D)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, T, D, scale, Q, H, Kh, H, 0.0f, scores.data(), T);
      for (std::int64_t i = 0; i < rows; ++i) masked_softmax_inplace(scores.data() + i * T, m + b * T, T);
      const float f = factor ? factor[pair % S] : 1.0f;  // the head mask scales the maps, so the context
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, T, f, scores.data(), T, V, H, 0.0f,
                  C + (b * T + i0) * H + a * D, H);
    }
  }
  return true;
}

void CpuBackend::scale_heads(const Tensor& probs, const Tensor& head_scale, Tensor& out) {
  const std::int64_t B = probs.dim(0), A = probs.dim(1), map = probs.dim(2) * probs.dim(3);  // map = T * T
  const std::int64_t S = head_scale.numel();  // A, or B * A
  require((S == A || S == B * A) && out.numel() == probs.numel(), "scale_heads");
  const float* scale = f32(head_scale);
  const float* P = f32(probs);
  float* O = f32_mut(out);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t a = 0; a < A; ++a)
      for (std::int64_t i = (b * A + a) * map, end = i + map; i < end; ++i) O[i] = P[i] * scale[(b * A + a) % S];
}

void CpuBackend::gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) {
  const std::int64_t H = x.dim(1), R = rows.numel();
  require(out.dim(0) == R && out.dim(1) == H, "gather_rows");
  const std::int32_t* idx = i32(rows);
  for (std::int64_t r = 0; r < R; ++r) {
    if (idx[r] < 0 || idx[r] >= x.dim(0)) throw Error("internal: gather_rows index out of range");
    std::memcpy(f32_mut(out) + r * H, f32(x) + idx[r] * H, H * sizeof(float));
  }
}

}  // namespace bertscope
