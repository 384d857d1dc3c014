#pragma once
// The packed_linear kernel, written once over an instruction set (Isa: a vector type V of kWidth floats with zero,
// load, store, broadcast and fma). Included only by packed_linear_avx512.cpp and packed_linear_avx2.cpp, each
// compiled for its instruction set, inside their anonymous namespaces; like skinny_linear_kernel.h it includes no
// standard header, so no library function compiled for the newer instruction set can reach other CPUs.
//
// Layout: the weights W (M, K) are packed once into panels of kPanel = 2 * kWidth output columns, each panel
// stored k-major: Wp[p][k][j] = W[p * kPanel + j][k] (zero past M). A tile of MR input rows times one panel keeps
// its MR x 2 accumulators in registers while k runs: per k it loads two weight vectors and broadcasts MR inputs,
// so every weight loaded serves MR rows and nothing is summed across a vector at the end. The inputs are copied
// first into the same k-major order per tile (Xt[k][r]), so the broadcasts read one stream: read in place, the rows
// of a tile lie K floats apart and with K = 3,072 all fall in one set of the first-level cache.

// Weights to fetch into the cache while a tile runs: `lines` cache lines (16 floats each) from `from` on, spread
// evenly over the tile's steps of k (see packed_panels).
struct Fetch {
  const float* from = nullptr;
  std::int64_t lines = 0;
};

// Y[r][j] (+)= sum over k in [k0, k1) of Xt[k][r] * Wp[k][j] for MR rows and one panel, fetching `ahead` (the
// slice it reads, where nothing fetched it before) and `next` (a share of a slice read later) meanwhile. `first`:
// start from the bias (or zero) instead of what Y holds. `cols` < kPanel: the panel is the last and only `cols`
// outputs exist.
template <class Isa, int MR>
inline void packed_tile(const float* Xt, const float* Wp, Fetch ahead, Fetch next, std::int64_t k0, std::int64_t k1,
                        const float* bias, float* Y, std::int64_t ldy, int cols, bool first) {
  constexpr int W = Isa::kWidth, P = 2 * W;
  typename Isa::V acc[MR][2];
  float edge[MR][P];  // the last panel's tile, staged so that only its `cols` outputs are read and written
  const bool full = cols == P;
  if (!full && !first)
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < P; ++j) edge[r][j] = j < cols ? Y[r * ldy + j] : 0.0f;
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < 2; ++h) {
      if (first) acc[r][h] = bias ? Isa::load(bias + h * W) : Isa::zero();
      else acc[r][h] = Isa::load(full ? Y + r * ldy + h * W : edge[r] + h * W);
    }
  }
  const std::int64_t steps = k1 - k0;
  std::int64_t owed_ahead = 0, owed_next = 0;  // lines per `steps` steps, one line at a time (Bresenham)
  for (std::int64_t k = k0; k < k1; ++k) {
    for (owed_ahead += ahead.lines; owed_ahead >= steps; owed_ahead -= steps, ahead.from += 16)
      __builtin_prefetch(ahead.from);
    for (owed_next += next.lines; owed_next >= steps; owed_next -= steps, next.from += 16)
      __builtin_prefetch(next.from);
    const typename Isa::V w0 = Isa::load(Wp + k * P), w1 = Isa::load(Wp + k * P + W);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const typename Isa::V x = Isa::broadcast(Xt + k * MR + r);
      acc[r][0] = Isa::fma(w0, x, acc[r][0]);
      acc[r][1] = Isa::fma(w1, x, acc[r][1]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < 2; ++h) Isa::store(full ? Y + r * ldy + h * W : edge[r] + h * W, acc[r][h]);
    if (!full)
      for (int j = 0; j < cols; ++j) Y[r * ldy + j] = edge[r][j];
  }
}

// One tile of `rows` (1..kMaxRows) input rows: the row count is a template argument so the accumulators stay in
// registers.
template <class Isa, int MR = Isa::kMaxRows>
inline void packed_tile_rows(int rows, const float* Xt, const float* Wp, Fetch ahead, Fetch next, std::int64_t k0,
                             std::int64_t k1, const float* bias, float* Y, std::int64_t ldy, int cols, bool first) {
  if constexpr (MR > 1) {
    if (rows < MR)
      return packed_tile_rows<Isa, MR - 1>(rows, Xt, Wp, ahead, next, k0, k1, bias, Y, ldy, cols, first);
  }
  packed_tile<Isa, MR>(Xt, Wp, ahead, next, k0, k1, bias, Y, ldy, cols, first);
}

// N rows in ceil(N / kMaxRows) tiles of near-equal size (20 rows are two tiles of 10, not 14 and 6): the first
// `count - extra` tiles have `base` rows, the rest one more.
template <class Isa>
struct RowTiles {
  explicit RowTiles(std::int64_t N)
      : count((N + Isa::kMaxRows - 1) / Isa::kMaxRows), base(N / count), extra(N % count) {}
  std::int64_t start(std::int64_t t) const { return t * base + (t > count - extra ? t - (count - extra) : 0); }
  int rows(std::int64_t t) const { return static_cast<int>(start(t + 1) - start(t)); }
  std::int64_t count, base, extra;
};

// R rows of X (R, K) into dst k-major (dst[k * R + r] = X[r][k]). The row count is a template argument, as the
// tiles' is, so that the loop over the rows unrolls: as a run-time count it was a scalar loop, 2.8% of a 512-token
// pass (2.0% unrolled).
template <int R>
void pack_rows(const float* X, std::int64_t K, float* dst) {
  for (std::int64_t k = 0; k < K; ++k)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) dst[k * R + r] = X[r * K + k];
}
template <int R>
void pack_rows(int rows, const float* X, std::int64_t K, float* dst) {  // rows (1..R) made a template argument
  if constexpr (R > 1) {
    if (rows < R) return pack_rows<R - 1>(rows, X, K, dst);
  }
  pack_rows<R>(X, K, dst);
}

// Copies tile t of X (N, K) into Xt k-major: the tile starting at row r0 with R rows holds X[r0 + r][k] at
// Xt[r0 * K + k * R + r].
template <class Isa>
void pack_tile(const float* X, std::int64_t K, const RowTiles<Isa>& tiles, std::int64_t t, float* Xt) {
  const std::int64_t r0 = tiles.start(t);
  pack_rows<Isa::kMaxRows>(tiles.rows(t), X + r0 * K, K, Xt + r0 * K);
}

// Steps of k per block, and how far ahead of its own reads a tile fetches a slice nothing fetched before.
constexpr std::int64_t kKBlock = 384, kAhead = 32, kLine = 16;  // kLine: floats in a cache line

// Tile t of `tiles`' equal share of a slice of `lines` cache lines starting at `slice` (null: nothing to fetch).
inline Fetch share_of(const float* slice, std::int64_t lines, std::int64_t t, std::int64_t tiles) {
  if (!slice) return {};
  const std::int64_t from = lines * t / tiles, to = lines * (t + 1) / tiles;
  return {slice + from * kLine, to - from};
}

// The fetch ahead of a tile's own reads of a panel's rows [k0, k1), kAhead steps ahead, for a slice nothing
// fetched before (`panel` is read at k * P).
template <class Isa>
inline Fetch ahead_of(const float* panel, std::int64_t k0, std::int64_t k1, std::int64_t K) {
  constexpr std::int64_t P = 2 * Isa::kWidth;
  const std::int64_t start = k0 + kAhead, end = k1 + kAhead < K ? k1 + kAhead : K;
  return end > start ? Fetch{panel + start * P, (end - start) * P / kLine} : Fetch{};
}

// Y[:, p0 * kPanel, p1 * kPanel) = X · W^T + bias for the panels [p0, p1) of a packed weight with M outputs, from
// the inputs as pack_tile leaves them. Blocked so that what is reused stays in cache: kKBlock steps of k at a time
// (a panel's slice is then kKBlock x kPanel floats, a tile's kKBlock x kMaxRows), and a group of at most
// kPanelGroup panels per pass over the tiles (their slices fit the second-level cache).
//
// Memory: each (k block, group) pair fetches the next pair's slices while its tiles run, every tile an equal share
// of each slice, so that memory is busy through all the tiles and not only while the first one reads (the
// hardware's prefetcher stops at each 4 KB page). With 15 rows, two tiles of 7 and 8, that was 7-10% faster than
// fetching only in the last tile. A slice nothing fetched before (the first pair's, or one panel more than the pair
// before had) is fetched by the first tile, kAhead steps ahead of its own reads.
template <class Isa>
void packed_panels(const float* Xt, std::int64_t N, std::int64_t K, const float* Wp, std::int64_t M,
                   const float* bias, float* Y, std::int64_t p0, std::int64_t p1) {
  constexpr std::int64_t P = 2 * Isa::kWidth, kPanelGroup = 8;
  const RowTiles<Isa> tiles(N);
  // The panels in groups of near-equal size, the larger first, so that within a k block a group never has more
  // panels than the one before it.
  const std::int64_t groups = (p1 - p0 + kPanelGroup - 1) / kPanelGroup;
  auto group_start = [&](std::int64_t q) { return p0 + (p1 - p0) * q / groups; };
  std::int64_t fetched = 0;  // how many of this pair's slices the pair before fetched
  for (std::int64_t k0 = 0; k0 < K; k0 += kKBlock) {
    const std::int64_t k1 = k0 + kKBlock < K ? k0 + kKBlock : K;
    for (std::int64_t q = 0; q < groups; ++q) {
      const std::int64_t g = group_start(q), g1 = group_start(q + 1);
      // the next pair: the next group, or the first group of the next k block
      const bool wrap = q + 1 == groups;
      const std::int64_t next_k0 = wrap ? k1 : k0, next_g = wrap ? p0 : g1;
      const std::int64_t next_g1 = wrap ? group_start(1) : group_start(q + 2);
      const std::int64_t next_k1 = next_k0 + kKBlock < K ? next_k0 + kKBlock : K;
      const std::int64_t next_lines = next_k0 < K ? (next_k1 - next_k0) * P / kLine : 0;  // per slice
      for (std::int64_t t = 0; t < tiles.count; ++t) {
        const std::int64_t row = tiles.start(t);
        const int rows = tiles.rows(t);
        for (std::int64_t p = g; p < g1; ++p) {
          const std::int64_t col = p * P;
          const int cols = static_cast<int>(M - col < P ? M - col : P);
          const float* panel = Wp + p * K * P;
          // this tile's share of the next pair's slice of the same place, if the next pair has one
          const std::int64_t next_p = next_g + (p - g);
          const float* next_slice = next_p < next_g1 ? Wp + next_p * K * P + next_k0 * P : nullptr;
          const Fetch next = share_of(next_slice, next_lines, t, tiles.count);
          const Fetch ahead = t == 0 && p - g >= fetched ? ahead_of<Isa>(panel, k0, k1, K) : Fetch{};
          // bias + col is read as a whole panel: the caller pads the bias to a multiple of kPanel
          packed_tile_rows<Isa>(rows, Xt + row * K, panel, ahead, next, k0, k1, bias ? bias + col : nullptr,
                                Y + row * M + col, M, cols, k0 == 0);
        }
      }
      fetched = next_g1 - next_g < g1 - g ? next_g1 - next_g : g1 - g;
    }
  }
}

// Up to 128 rows (packed_linear_threads): the panels of all the products are handed out one at a time from a shared
// count, instead of a fixed share per thread. A thread that joins late (waking one takes about 33 us on a virtual
// machine, against the 100-300 us a short input's product streams) or runs slower then takes fewer, and neither
// sits waiting for the other at the end. Each panel is done whole (every k block, every tile) by whoever claimed
// it; a thread claims its next panel before starting one, so that it can fetch the next slice it will read (the
// next k block of this panel, or the first of the next) while this one runs, every tile an equal share, as
// packed_panels does.
template <class Isa>
void packed_panels_shared(const float* Xt, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                          std::int64_t total, std::int64_t* claimed, FinishColumns finish, const void* context) {
  constexpr std::int64_t P = 2 * Isa::kWidth;
  const RowTiles<Isa> tiles(N);
  auto claim = [&] { return __atomic_fetch_add(claimed, 1, __ATOMIC_RELAXED); };
  struct Panel {
    const PackedProduct* product = nullptr;
    std::int64_t index = 0;  // within the product
    const float* weights = nullptr;  // (K, P)
  };
  auto find = [&](std::int64_t g) {  // panel g of all the products, counted in turn
    Panel panel;
    for (int i = 0; i < count && !panel.product; ++i) {
      const std::int64_t panels = (products[i].M + P - 1) / P;
      if (g < panels) panel = {&products[i], g, products[i].Wp + g * K * P};
      g -= panels;
    }
    return panel;
  };
  bool fetched = false;  // whether the slice about to be read was fetched while the one before it ran
  for (std::int64_t mine = claim(); mine < total;) {
    const std::int64_t after = claim();  // this thread's next panel (total or more: none)
    const Panel panel = find(mine), next_panel = after < total ? find(after) : Panel{};
    const PackedProduct& w = *panel.product;
    const std::int64_t col = panel.index * P;
    const int cols = static_cast<int>(w.M - col < P ? w.M - col : P);
    for (std::int64_t k0 = 0; k0 < K; k0 += kKBlock) {
      const std::int64_t k1 = k0 + kKBlock < K ? k0 + kKBlock : K;
      // the next slice: the next k block of this panel (it follows in memory), or the next panel's first
      const std::int64_t next_k0 = k1 < K ? k1 : 0;
      const float* next = k1 < K ? panel.weights + k1 * P : next_panel.weights;
      const std::int64_t next_lines = next ? (K - next_k0 < kKBlock ? K - next_k0 : kKBlock) * P / kLine : 0;
      for (std::int64_t t = 0; t < tiles.count; ++t) {
        const Fetch share = share_of(next, next_lines, t, tiles.count);
        const Fetch ahead = t == 0 && !fetched ? ahead_of<Isa>(panel.weights, k0, k1, K) : Fetch{};
        packed_tile_rows<Isa>(tiles.rows(t), Xt + tiles.start(t) * K, panel.weights, ahead, share, k0, k1,
                              w.bias ? w.bias + col : nullptr, w.Y + tiles.start(t) * w.M + col, w.M, cols, k0 == 0);
      }
      fetched = next_lines > 0;
    }
    if (finish) finish(w.Y, N, w.M, col, cols, context);
    mine = after;
  }
}

// The products of one input (packed_product.h) on OpenMP threads: together they copy the inputs into Xt (N * K
// floats of scratch), then compute all the products' panels taken in turn, each finishing the columns it computed:
// up to kSharedRows rows panel by panel as threads claim them (packed_panels_shared), above that each a contiguous
// share whose weights it alone reads (packed_panels).
template <class Isa>
void packed_linear_threads(const float* X, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                           float* Xt, FinishColumns finish, const void* context) {
  constexpr std::int64_t P = 2 * Isa::kWidth;
  std::int64_t total = 0;  // panels of all the products
  for (int i = 0; i < count; ++i) total += (products[i].M + P - 1) / P;
  // Up to kSharedRows rows the panels are shared out one at a time. Each panel then reads the inputs' whole copy
  // (Xt), which at 128 rows x 3,072 inputs (1.5 MB) still stays in the second-level cache; with more rows it would
  // come from memory again for every panel (512 rows: 6-9% slower, three rounds), so each thread keeps a fixed
  // share of the panels and sweeps the inputs once per k block.
  constexpr std::int64_t kSharedRows = 128;
  const RowTiles<Isa> tiles(N);
  if (N <= kSharedRows) {
    std::int64_t claimed = 0;       // panels handed out (packed_panels_shared)
    std::int64_t tiles_claimed = 0, tiles_copied = 0;
#pragma omp parallel
    {
      // The row tiles are copied by whoever is there to claim them, so a thread never waits for one still waking;
      // then each waits until all are copied (a few microseconds).
      for (std::int64_t t; (t = __atomic_fetch_add(&tiles_claimed, 1, __ATOMIC_RELAXED)) < tiles.count;) {
        pack_tile<Isa>(X, K, tiles, t, Xt);
        __atomic_fetch_add(&tiles_copied, 1, __ATOMIC_RELEASE);
      }
      while (__atomic_load_n(&tiles_copied, __ATOMIC_ACQUIRE) < tiles.count) __builtin_ia32_pause();
      packed_panels_shared<Isa>(Xt, N, K, products, count, total, &claimed, finish, context);
    }
    return;
  }
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (std::int64_t t = 0; t < tiles.count; ++t) pack_tile<Isa>(X, K, tiles, t, Xt);
    // (the loop's end waits for every thread: each thread then reads all of Xt)
    const std::int64_t threads = omp_get_num_threads(), me = omp_get_thread_num();
    const std::int64_t mine0 = total * me / threads, mine1 = total * (me + 1) / threads;
    std::int64_t first = 0;  // the first panel of product i in the count over all of them
    for (int i = 0; i < count; ++i) {
      const PackedProduct& w = products[i];
      const std::int64_t panels = (w.M + P - 1) / P;
      const std::int64_t p0 = mine0 > first ? mine0 - first : 0, p1 = mine1 - first < panels ? mine1 - first : panels;
      if (p0 < p1) {
        packed_panels<Isa>(Xt, N, K, w.Wp, w.M, w.bias, w.Y, p0, p1);
        const std::int64_t end = p1 * P < w.M ? p1 * P : w.M;
        if (finish) finish(w.Y, N, w.M, p0 * P, end - p0 * P, context);
      }
      first += panels;
    }
  }
}
