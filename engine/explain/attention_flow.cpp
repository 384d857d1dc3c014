#include "explain/attention_flow.h"

#include <algorithm>
#include <queue>
#include <string>

#include "core/error.h"

namespace bertscope {

std::vector<double> residual_attention(const float* layer, int heads, int tokens) {
  const size_t T = static_cast<size_t>(tokens);
  std::vector<double> a(T * T, 0.0);  // (T, T)
  for (int h = 0; h < heads; ++h)
    for (size_t i = 0; i < T * T; ++i) a[i] += 0.5 * layer[static_cast<size_t>(h) * T * T + i] / heads;
  for (size_t i = 0; i < T; ++i) {
    a[i * T + i] += 0.5;
    double sum = 0;
    for (size_t j = 0; j < T; ++j) sum += a[i * T + j];
    for (size_t j = 0; j < T; ++j) a[i * T + j] /= sum;  // sum >= 0.5: the identity's share
  }
  return a;
}

namespace {
void check_layers(const std::vector<std::vector<float>>& layers, int heads, int tokens) {
  const size_t size = static_cast<size_t>(heads) * tokens * tokens;
  if (layers.empty() || heads < 1 || tokens < 1) throw Error("attention rollout and flow need at least one layer, head and token");
  for (const auto& l : layers)
    if (l.size() != size) throw Error("internal: attention maps of the wrong size");
}
}  // namespace

std::vector<std::vector<float>> attention_rollout(const std::vector<std::vector<float>>& layers, int heads, int tokens) {
  check_layers(layers, heads, tokens);
  const size_t T = static_cast<size_t>(tokens);
  std::vector<double> rollout(T * T, 0.0);  // (T, T) through the layers so far; the identity before the first
  for (size_t i = 0; i < T; ++i) rollout[i * T + i] = 1.0;
  std::vector<std::vector<float>> out;
  for (const auto& maps : layers) {
    const std::vector<double> a = residual_attention(maps.data(), heads, tokens);
    std::vector<double> next(T * T, 0.0);  // A' rollout
    for (size_t i = 0; i < T; ++i)
      for (size_t k = 0; k < T; ++k)
        for (size_t j = 0; j < T; ++j) next[i * T + j] += a[i * T + k] * rollout[k * T + j];
    rollout = std::move(next);
    out.emplace_back(rollout.begin(), rollout.end());
  }
  return out;
}

namespace {

// Dinic's maximum flow on a small graph with real capacities (residuals below kEps count as none).
class MaxFlow {
 public:
  explicit MaxFlow(int nodes) : adjacency_(static_cast<size_t>(nodes)), level_(static_cast<size_t>(nodes)), next_(static_cast<size_t>(nodes)) {}

  void add_edge(int from, int to, double capacity) {
    adjacency_[static_cast<size_t>(from)].push_back(static_cast<int>(edges_.size()));
    edges_.push_back({to, capacity});
    adjacency_[static_cast<size_t>(to)].push_back(static_cast<int>(edges_.size()));
    edges_.push_back({from, 0.0});  // the residual edge, at index ^ 1
    capacity_.push_back(capacity);
    capacity_.push_back(0.0);
  }

  double run(int source, int sink) {
    for (size_t e = 0; e < edges_.size(); ++e) edges_[e].residual = capacity_[e];  // a fresh flow problem
    double total = 0;
    while (levels(source, sink)) {
      std::fill(next_.begin(), next_.end(), 0);
      for (double pushed; (pushed = push(source, sink, 1e300)) > kEps;) total += pushed;
    }
    return total;
  }

 private:
  static constexpr double kEps = 1e-12;
  struct Edge {
    int to;
    double residual;
  };

  bool levels(int source, int sink) {  // breadth-first distances from the source over usable edges
    std::fill(level_.begin(), level_.end(), -1);
    std::queue<int> q;
    level_[static_cast<size_t>(source)] = 0;
    q.push(source);
    while (!q.empty()) {
      const int v = q.front();
      q.pop();
      for (int e : adjacency_[static_cast<size_t>(v)]) {
        const Edge& edge = edges_[static_cast<size_t>(e)];
        if (edge.residual > kEps && level_[static_cast<size_t>(edge.to)] < 0) {
          level_[static_cast<size_t>(edge.to)] = level_[static_cast<size_t>(v)] + 1;
          q.push(edge.to);
        }
      }
    }
    return level_[static_cast<size_t>(sink)] >= 0;
  }

  double push(int v, int sink, double limit) {  // one augmenting path along increasing levels
    if (v == sink) return limit;
    auto& list = adjacency_[static_cast<size_t>(v)];
    for (int& i = next_[static_cast<size_t>(v)]; i < static_cast<int>(list.size()); ++i) {
      const int e = list[static_cast<size_t>(i)];
      Edge& edge = edges_[static_cast<size_t>(e)];
      if (edge.residual <= kEps || level_[static_cast<size_t>(edge.to)] != level_[static_cast<size_t>(v)] + 1) continue;
      const double pushed = push(edge.to, sink, std::min(limit, edge.residual));
      if (pushed > kEps) {
        edge.residual -= pushed;
        edges_[static_cast<size_t>(e ^ 1)].residual += pushed;
        return pushed;
      }
    }
    return 0;
  }

  std::vector<Edge> edges_;
  std::vector<double> capacity_;
  std::vector<std::vector<int>> adjacency_;
  std::vector<int> level_, next_;
};

}  // namespace

std::vector<float> attention_flow(const std::vector<std::vector<float>>& layers, int heads, int tokens, int layer,
                                  bool normalise) {
  check_layers(layers, heads, tokens);
  if (tokens > kAttentionFlowMaxTokens)
    throw Error("attention flow takes at most " + std::to_string(kAttentionFlowMaxTokens) + " tokens (a maximum flow for "
                "every pair of tokens); this input has " + std::to_string(tokens) + ". Use rollout, or a shorter text");
  if (layer < 0 || layer >= static_cast<int>(layers.size()))
    throw Error("layer " + std::to_string(layer) + " is out of range 0.." + std::to_string(layers.size() - 1));
  const int T = tokens;
  std::vector<std::vector<double>> a;  // A'_k for k = 0..layer, each (T, T)
  for (int k = 0; k <= layer; ++k) a.push_back(residual_attention(layers[static_cast<size_t>(k)].data(), heads, T));
  // Node k*T + t: position t before layer k (k = 0: the input tokens), after layer `layer` for k = layer + 1.
  auto node = [T](int k, int t) { return k * T + t; };
  std::vector<float> flow(static_cast<size_t>(T) * T, 0.0f);  // (T, T) [output position i][input token j]
#pragma omp parallel for schedule(dynamic)
  for (int j = 0; j < T; ++j) {  // one graph per input token j, the sink: other input tokens are dead ends, left out
    MaxFlow graph((layer + 2) * T);
    for (int k = 0; k <= layer; ++k)
      for (int i = 0; i < T; ++i)
        for (int m = 0; m < T; ++m)
          if (k > 0 || m == j) graph.add_edge(node(k + 1, i), node(k, m), a[static_cast<size_t>(k)][static_cast<size_t>(i) * T + m]);
    for (int i = 0; i < T; ++i) flow[static_cast<size_t>(i) * T + j] = static_cast<float>(graph.run(node(layer + 1, i), node(0, j)));
  }
  for (int i = 0; i < T && normalise; ++i) {  // rows to sum 1, as the paper's compute_flows does
    float sum = 0;
    for (int j = 0; j < T; ++j) sum += flow[static_cast<size_t>(i) * T + j];
    if (sum > 0)
      for (int j = 0; j < T; ++j) flow[static_cast<size_t>(i) * T + j] /= sum;
  }
  return flow;
}

}  // namespace bertscope
