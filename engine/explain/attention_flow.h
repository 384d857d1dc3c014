#pragma once
// Attention rollout and attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): how much
// each input token feeds each position after several layers, from the attention maps alone. Both first add the
// residual connection to every layer's attention as the paper does, A' = 0.5 * mean over heads + 0.5 * I, with each
// row renormalised to sum to 1 (a layer whose heads are all switched off becomes I). Host functions over the maps
// that AttentionResult and AttentionMaps hand out.
//
// Shapes: L layers, A heads, T tokens; one layer's maps (A, T, T), row = query (the position after the layer),
// column = key (the position before it).
#include <vector>

namespace bertscope {

// A' of one layer (T, T), from its maps `layer` (A, T, T).
std::vector<double> residual_attention(const float* layer, int heads, int tokens);

// Rollout: rollout[l] (T, T) = A'_l A'_(l-1) ... A'_0. Row i: how position i after layer l draws on each input
// token; every row sums to 1. `layers`: per layer (A, T, T).
std::vector<std::vector<float>> attention_rollout(const std::vector<std::vector<float>>& layers, int heads, int tokens);

// Flow is a maximum flow per pair of tokens: inputs longer than this are refused (T^2 flows in a graph of L*T^2 edges).
constexpr int kAttentionFlowMaxTokens = 64;

// Flow through layers 0..`layer` (T, T): row i, the maximum flow from input token j to position i after `layer`,
// in the layered graph whose edge from position i after layer k to position j before it has capacity A'_k[i][j];
// each row then normalised to sum to 1 as the paper's code does (unless `normalise` is false: the raw flows, each
// at most 1). Throws Error for more than 64 tokens.
std::vector<float> attention_flow(const std::vector<std::vector<float>>& layers, int heads, int tokens, int layer,
                                  bool normalise = true);

}  // namespace bertscope
