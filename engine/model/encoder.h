#pragma once
// Encoder: the post-LayerNorm Transformer encoder every family shares (embeddings, then layers of self-attention
// and a feed-forward block), written once against the Backend interface. Inference (BertModel) and training
// (BertTrainer) both run it; training asks it to apply dropout and to keep what its backward pass needs.
// Where the families differ (tensor names, position ids, token types, activation) comes from the config's
// Architecture.
//
// Shapes: B sentences, T tokens each (padded), N = B*T, H hidden, A heads, I intermediate, V vocabulary.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "model/config.h"
#include "text/tokenizer.h"  // TokenBatch

namespace bertscope {

// Throws Error when a batch is malformed or holds ids outside the model's tables (the kernels index with them).
void check_token_batch(const TokenBatch& batch, const ModelConfig& config);

// Where the encoder's parameters are kept: pointers into a model's weights, or into a trainer's parameter values
// or gradients (the same layout serves all three).
struct LinearRef {
  Tensor* weight = nullptr;  // (out, in), PyTorch's layout
  Tensor* bias = nullptr;    // (out)
};
struct NormRef {
  Tensor* gamma = nullptr;  // (H)
  Tensor* beta = nullptr;   // (H)
};
struct EncoderLayerRefs {
  LinearRef query, key, value;  // (H, H)
  LinearRef attention_output;   // (H, H)
  NormRef attention_norm;
  LinearRef intermediate;       // (I, H)
  LinearRef output;             // (H, I)
  NormRef output_norm;
};
struct EncoderRefs {
  Tensor* word = nullptr;        // (V, H)
  Tensor* position = nullptr;    // (max_position_embeddings, H)
  Tensor* token_type = nullptr;  // (type_vocab_size, H); null for families without token types
  NormRef embedding_norm;
  std::vector<EncoderLayerRefs> layers;
};

// One encoder parameter as a checkpoint stores it.
enum class ParamKind { Table, Weight, Bias, NormWeight, NormBias };
struct EncoderTensorSpec {
  std::string name;  // Hugging Face's full name, e.g. "distilbert.transformer.layer.0.attention.q_lin.weight"
  Shape shape;
  ParamKind kind;
  int layer = -1;    // -1: the embeddings
};

// Walks the encoder's parameters in Hugging Face's order, asks `place` where each one is kept, and returns the
// layout. The only place the encoder's names and shapes are spelled out.
EncoderRefs lay_out_encoder(const ModelConfig& config, const std::function<Tensor*(const EncoderTensorSpec&)>& place);
std::vector<EncoderTensorSpec> encoder_tensor_specs(const ModelConfig& config);

// One layer's activations, kept for the backward pass (all (N, H) unless noted).
struct LayerActivations {
  Tensor input;          // the layer's input
  Tensor q, k, v;
  Tensor probs;          // (B, A, T, T) attention probabilities
  Tensor probs_dropped;  // after attention dropout and the head mask (empty when neither applies: probs is used)
  Tensor head_scale;     // (A) the layer's row of the head mask, when it switches a head off (empty otherwise)
  Tensor context;
  Tensor sum1;           // dropout(attention output) + input: the first LayerNorm's input
  Tensor x1;             // after the first LayerNorm
  Tensor inner_pre;      // (N, I) before the activation (training only; inference fuses it into the linear)
  Tensor inner;          // (N, I) after it
  Tensor sum2;           // dropout(output dense) + x1: the second LayerNorm's input
};

// Hugging Face's head_mask: 1 keeps a head, 0 switches it off (its attention probabilities are multiplied by 0 after
// the softmax and dropout, so it adds nothing to its layer's output). A layer whose heads are all on costs nothing.
struct HeadMask {
  int layers = 0, heads = 0;
  std::vector<float> keep;  // (layers, heads), row-major; empty: every head on

  static HeadMask all_on(int layers, int heads) { return {layers, heads, std::vector<float>(size_t(layers) * heads, 1.0f)}; }
  bool empty() const { return keep.empty(); }
  float& at(int layer, int head) { return keep.at(size_t(layer) * heads + head); }
  float at(int layer, int head) const { return keep.at(size_t(layer) * heads + head); }
  bool switches_off_any(int layer) const;  // any head of `layer` not at 1
  int heads_off() const;                   // heads at 0, over all layers
};

// How to run the encoder.
struct EncoderRun {
  float dropout = 0;                                    // training: hidden and attention dropout
  std::function<std::uint32_t(int site)> dropout_seed;  // each dropout site's seed (needed when dropout > 0)
  bool keep_attentions = false;
  bool keep_hidden_states = false;
  bool for_backward = false;  // keep every layer's activations
  const HeadMask* head_mask = nullptr;  // null or empty: every head on
  // One mask per sentence of the batch instead (ranking heads: a different head off in each); empty ones keep all.
  const std::vector<HeadMask>* sentence_head_masks = nullptr;
  // (N, H) word + position + type embeddings to start from instead of looking the batch's ids up (integrated
  // gradients' interpolated inputs); the pass takes it over. The batch still gives the shape and the mask.
  Tensor* embedding_sum = nullptr;
  // Backward pass: called per layer (last first) with its attention context (N, H) (probabilities times values,
  // after the head mask, before the output projection) and that context's gradient (N, H). Per head, the sum of
  // their product is the gradient with respect to the head's gate in head_mask (Michel et al. 2019).
  std::function<void(int layer, const Tensor& context, const Tensor& dcontext)> on_context_gradient;
  // Inference that reads only these rows of the output (fill-mask's masked tokens): after the last layer's
  // attention, which every row feeds, the rest of that layer runs on these rows alone, and `hidden` is (R, H) in
  // this order. Not with keep_hidden_states (the last layer's input is kept whole there) or for_backward.
  const std::vector<std::int32_t>* output_rows = nullptr;
};

struct EncoderOutput {
  Tensor hidden;                      // (N, H) last layer; (R, H) with EncoderRun::output_rows
  std::vector<Tensor> attentions;     // per layer (B, A, T, T), when asked for
  // When asked for: the embedding output and the output of every layer but the last (which is `hidden`).
  std::vector<Tensor> hidden_states;  // each (N, H)

  // Hugging Face's hidden_states[i]: 0 = embeddings, i = output of layer i (1-based).
  const Tensor& layer_output(size_t i) const { return i < hidden_states.size() ? hidden_states[i] : hidden; }

  int batch = 0, seq_len = 0;  // B, T
  // Kept for the backward pass (EncoderRun::for_backward); empty otherwise.
  EncoderRun run;
  Tensor ids, position_ids, type_ids, mask;  // (N), (N), (N), (B, T)
  Tensor embedding_sum;                      // (N, H) word + position + type: the embedding LayerNorm's input
  std::vector<LayerActivations> layers;
};

class Encoder {
 public:
  Encoder(const ModelConfig& config, Backend& backend, EncoderRefs weights);

  EncoderOutput forward(const TokenBatch& batch, const EncoderRun& run = {});

  // Backward from dhidden (N, H), the gradient of the last layer's output (overwritten). Adds every gradient into
  // `grads` (the same layout as the weights) for the layers from `frozen_layers` up, and for the embeddings when
  // nothing is frozen. Frees each layer's activations as it goes.
  void backward(EncoderOutput& pass, Tensor& dhidden, const EncoderRefs& grads, int frozen_layers);
  // The same backward pass for the gradient of the embedding sum (N, H) (word + position + type, the embedding
  // LayerNorm's input) alone: no parameter gradient is computed. What saliency asks (explain/saliency.h).
  Tensor input_gradient(EncoderOutput& pass, Tensor& dhidden);
  // The embedding sum (N, H) of a batch: word[ids] + position + type. `word_ids` (N), when given, replaces the ids
  // for the word table only (positions still come from the batch's ids): a baseline of [PAD] words.
  Tensor embed(const TokenBatch& batch, const std::vector<std::int32_t>* word_ids = nullptr);

  // The dropout sites the encoder uses (0: embeddings, then 3 per layer): heads number theirs from here, so a
  // resumed run draws the same masks.
  int dropout_sites() const { return 1 + static_cast<int>(weights_.layers.size()) * kSitesPerLayer; }
  const EncoderRefs& weights() const { return weights_; }

 private:
  static constexpr int kSitesPerLayer = 3;
  void backward_linear(const LinearRef& w, const LinearRef& g, const Tensor& dy, const Tensor& x, Tensor& dx,
                       bool accumulate);
  // backward's body; with `dembedding_sum`, stops at the embedding sum's gradient (and `g` may hold no linear grads).
  void backward_to(EncoderOutput& pass, Tensor& dhidden, const EncoderRefs& g, int frozen_layers, Tensor* dembedding_sum);
  // The layer's head mask row as a tensor, (A) or per sentence (B, A); empty when that layer's heads are all on.
  Tensor head_scale(const HeadMask* mask, const std::vector<HeadMask>* per_sentence, int layer);

  ModelConfig config_;
  Backend& backend_;
  EncoderRefs weights_;
  Tensor no_token_types_, no_token_types_grad_;  // (1, H) zeros stand in for a missing table; the grad is discarded
};

}  // namespace bertscope
