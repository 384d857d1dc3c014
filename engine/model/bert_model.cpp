#include "model/bert_model.h"

#include "core/error.h"

namespace bertscope {

Tensor BertModel::load(const Checkpoint& ckpt, const std::string& name, const Shape& shape) {
  std::vector<float> converted;
  std::shared_ptr<const void> keep_alive;
  auto data = ckpt.read(name, shape, converted, &keep_alive);
  if (keep_alive) return backend_.adopt(data, shape, std::move(keep_alive));
  return backend_.upload(data, shape);
}

LinearWeights BertModel::load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in) {
  return {load(ckpt, prefix + ".weight", {out, in}), load(ckpt, prefix + ".bias", {out})};
}

LayerNormWeights BertModel::load_norm(const Checkpoint& ckpt, const std::string& prefix) {
  const int H = config_.hidden_size;
  return {load(ckpt, prefix + ".weight", {H}), load(ckpt, prefix + ".bias", {H})};
}

BertModel::BertModel(const BertConfig& config, const Checkpoint& ckpt, Backend& backend)
    : config_(config), backend_(backend) {
  const int H = config.hidden_size, I = config.intermediate_size, V = config.vocab_size;
  word_embeddings_ = load(ckpt, "bert.embeddings.word_embeddings.weight", {V, H});
  position_embeddings_ = load(ckpt, "bert.embeddings.position_embeddings.weight", {config.max_position_embeddings, H});
  token_type_embeddings_ = load(ckpt, "bert.embeddings.token_type_embeddings.weight", {config.type_vocab_size, H});
  embedding_norm_ = load_norm(ckpt, "bert.embeddings.LayerNorm");
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
    EncoderLayerWeights w;
    w.query = load_linear(ckpt, p + "attention.self.query", H, H);
    w.key = load_linear(ckpt, p + "attention.self.key", H, H);
    w.value = load_linear(ckpt, p + "attention.self.value", H, H);
    w.attention_output = load_linear(ckpt, p + "attention.output.dense", H, H);
    w.attention_norm = load_norm(ckpt, p + "attention.output.LayerNorm");
    w.intermediate = load_linear(ckpt, p + "intermediate.dense", I, H);
    w.output = load_linear(ckpt, p + "output.dense", H, I);
    w.output_norm = load_norm(ckpt, p + "output.LayerNorm");
    layers_.push_back(std::move(w));
  }
  if (ckpt.has("bert.pooler.dense.weight")) {
    has_pooler_ = true;
    pooler_ = load_linear(ckpt, "bert.pooler.dense", H, H);
  }
  if (ckpt.has("cls.predictions.transform.dense.weight")) {
    has_mlm_ = true;
    mlm_transform_ = load_linear(ckpt, "cls.predictions.transform.dense", H, H);
    mlm_norm_ = load_norm(ckpt, "cls.predictions.transform.LayerNorm");
    const std::string bias_name = ckpt.has("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias";
    mlm_decoder_bias_ = load(ckpt, bias_name, {V});
    decoder_tied_ = !ckpt.has("cls.predictions.decoder.weight");  // absent: tied to the word embeddings
    if (!decoder_tied_) mlm_decoder_weight_ = load(ckpt, "cls.predictions.decoder.weight", {V, H});
  }
  if (ckpt.has("cls.seq_relationship.weight")) {
    has_nsp_ = true;
    nsp_ = load_linear(ckpt, "cls.seq_relationship", 2, H);
  }
  if (auto stored = ckpt.resolve("classifier.weight")) {
    const auto& shape = ckpt.file_of(*stored).tensors().at(*stored).shape;
    if (shape.size() != 2 || shape[0] < 1 || shape[1] != H)
      throw Error(ckpt.file_of(*stored).path().string() + ": tensor 'classifier.weight' has shape " +
                  shape_to_string(shape) + ", expected [num_labels, " + std::to_string(H) + "]");
    num_labels_ = static_cast<int>(shape[0]);
    classifier_ = load_linear(ckpt, "classifier", num_labels_, H);
    if (!config_.id2label.empty() && static_cast<int>(config_.id2label.size()) != num_labels_)
      throw Error("config.json: id2label has " + std::to_string(config_.id2label.size()) +
                  " labels but classifier.weight has " + std::to_string(num_labels_) + " rows");
    for (int i = 0; i < num_labels_; ++i)
      if (!config_.id2label.count(i)) config_.id2label[i] = "LABEL_" + std::to_string(i);
  }
  if (ckpt.has("qa_outputs.weight")) {
    has_qa_ = true;
    qa_ = load_linear(ckpt, "qa_outputs", 2, H);
  }
  if ((has_nsp_ || num_labels_ > 0) && !has_pooler_)
    throw Error("checkpoint has a classification head but no pooler (bert.pooler.dense.weight)");
}

std::string BertModel::head_summary() const {
  std::vector<std::string> heads;
  if (has_mlm_) heads.push_back("masked LM");
  if (has_nsp_) heads.push_back("next sentence");
  if (num_labels_ > 0) heads.push_back("classification (" + std::to_string(num_labels_) + " labels)");
  if (has_qa_) heads.push_back("question answering");
  if (heads.empty()) return "encoder only";
  std::string s;
  for (const auto& h : heads) s += (s.empty() ? "" : " + ") + h;
  return s;
}

void check_token_batch(const TokenBatch& in, const BertConfig& config) {
  const std::int64_t N = static_cast<std::int64_t>(in.batch) * in.seq_len;
  if (in.batch <= 0 || in.seq_len <= 0 || static_cast<std::int64_t>(in.ids.size()) != N ||
      in.type_ids.size() != in.ids.size() || in.mask.size() != in.ids.size())
    throw Error("internal: malformed token batch");
  if (in.seq_len > config.max_position_embeddings)
    throw Error("input has " + std::to_string(in.seq_len) + " tokens; this model takes at most " +
                std::to_string(config.max_position_embeddings));
  for (std::int64_t i = 0; i < N; ++i) {  // the shaders index tables with these: check them here
    if (in.ids[i] < 0 || in.ids[i] >= config.vocab_size)
      throw Error("token id " + std::to_string(in.ids[i]) + " is outside the vocabulary of " + std::to_string(config.vocab_size));
    if (in.type_ids[i] < 0 || in.type_ids[i] >= config.type_vocab_size)
      throw Error("token type id " + std::to_string(in.type_ids[i]) + " is outside 0.." + std::to_string(config.type_vocab_size - 1));
  }
}

EncoderOutput BertModel::encode(const TokenBatch& in, bool keep_attentions, bool keep_hidden_states) {
  const int B = in.batch, T = in.seq_len, H = config_.hidden_size, A = config_.num_attention_heads;
  const int I = config_.intermediate_size;
  const std::int64_t N = static_cast<std::int64_t>(B) * T;
  check_token_batch(in, config_);

  Tensor ids = backend_.upload(std::span<const std::int32_t>(in.ids), {N});
  Tensor type_ids = backend_.upload(std::span<const std::int32_t>(in.type_ids), {N});
  Tensor mask = backend_.upload(std::span<const std::int32_t>(in.mask), {B, T});

  EncoderOutput out;
  Tensor x = backend_.empty({N, H});  // (B*T, H)
  backend_.embed(ids, type_ids, word_embeddings_, position_embeddings_, token_type_embeddings_, T, x);
  backend_.layer_norm(x, nullptr, embedding_norm_.gamma, embedding_norm_.beta, config_.layer_norm_eps, x);

  // Scratch tensors, reused by every layer.
  Tensor q = backend_.empty({N, H}), k = backend_.empty({N, H}), v = backend_.empty({N, H});  // (B*T, H)
  Tensor context = backend_.empty({N, H});                                                    // (B*T, H)
  Tensor projected = backend_.empty({N, H});                                                  // (B*T, H)
  Tensor inner = backend_.empty({N, I});                                                      // (B*T, I)
  Tensor probs = backend_.empty({B, A, T, T});                                                // (B, A, T, T)

  Tensor x1 = backend_.empty({N, H});                                                         // (B*T, H)

  for (const EncoderLayerWeights& w : layers_) {
    backend_.linear(x, w.query.weight, &w.query.bias, Activation::None, q);
    backend_.linear(x, w.key.weight, &w.key.bias, Activation::None, k);
    backend_.linear(x, w.value.weight, &w.value.bias, Activation::None, v);
    backend_.attention_probs(q, k, mask, A, probs);
    backend_.attention_context(probs, v, A, context);
    backend_.linear(context, w.attention_output.weight, &w.attention_output.bias, Activation::None, projected);
    backend_.layer_norm(projected, &x, w.attention_norm.gamma, w.attention_norm.beta, config_.layer_norm_eps, x1);
    backend_.linear(x1, w.intermediate.weight, &w.intermediate.bias, Activation::Gelu, inner);
    backend_.linear(inner, w.output.weight, &w.output.bias, Activation::None, projected);
    if (keep_hidden_states) {  // keep this layer's input; the output goes to a fresh tensor
      out.hidden_states.push_back(std::move(x));
      x = backend_.empty({N, H});
    }
    backend_.layer_norm(projected, &x1, w.output_norm.gamma, w.output_norm.beta, config_.layer_norm_eps, x);
    if (keep_attentions) {
      out.attentions.push_back(std::move(probs));
      probs = backend_.empty({B, A, T, T});
    }
  }
  out.hidden = std::move(x);
  return out;
}

}  // namespace bertscope

namespace bertscope {

std::vector<float> BertModel::to_host(const Tensor& t) const {
  std::vector<float> host(static_cast<size_t>(t.numel()));
  backend_.download(t, host);
  return host;
}

std::vector<float> BertModel::mlm_logits(const Tensor& hidden, const std::vector<std::int32_t>& rows) {
  if (!has_mlm_) throw Error("this model has no masked-LM head (cls.predictions.*)");
  if (rows.empty()) return {};
  const std::int64_t R = static_cast<std::int64_t>(rows.size());
  const int H = config_.hidden_size, V = config_.vocab_size;
  for (std::int32_t r : rows)
    if (r < 0 || r >= hidden.dim(0)) throw Error("internal: masked-LM row " + std::to_string(r) + " out of range");
  Tensor index = backend_.upload(std::span<const std::int32_t>(rows), {R});
  Tensor picked = backend_.empty({R, H});  // (R, H)
  backend_.gather_rows(hidden, index, picked);
  Tensor transformed = backend_.empty({R, H});  // (R, H)
  backend_.linear(picked, mlm_transform_.weight, &mlm_transform_.bias, Activation::Gelu, transformed);
  backend_.layer_norm(transformed, nullptr, mlm_norm_.gamma, mlm_norm_.beta, config_.layer_norm_eps, transformed);
  Tensor logits = backend_.empty({R, V});  // (R, V)
  const Tensor& decoder = decoder_tied_ ? word_embeddings_ : mlm_decoder_weight_;
  backend_.linear(transformed, decoder, &mlm_decoder_bias_, Activation::None, logits);
  return to_host(logits);
}

Tensor BertModel::pooled(const Tensor& hidden, int batch, int seq_len) {
  std::vector<std::int32_t> cls_rows(batch);
  for (int b = 0; b < batch; ++b) cls_rows[b] = b * seq_len;  // [CLS] is each sentence's first token
  Tensor index = backend_.upload(std::span<const std::int32_t>(cls_rows), {batch});
  const int H = config_.hidden_size;
  Tensor cls = backend_.empty({batch, H});  // (B, H)
  backend_.gather_rows(hidden, index, cls);
  Tensor pooled = backend_.empty({batch, H});  // (B, H)
  backend_.linear(cls, pooler_.weight, &pooler_.bias, Activation::Tanh, pooled);
  return pooled;
}

std::vector<float> BertModel::classifier_logits(const Tensor& hidden, int batch, int seq_len) {
  if (num_labels_ == 0) throw Error("this model has no sequence-classification head (classifier.*)");
  Tensor p = pooled(hidden, batch, seq_len);
  Tensor logits = backend_.empty({batch, num_labels_});  // (B, L)
  backend_.linear(p, classifier_.weight, &classifier_.bias, Activation::None, logits);
  return to_host(logits);
}

std::vector<float> BertModel::nsp_logits(const Tensor& hidden, int batch, int seq_len) {
  if (!has_nsp_) throw Error("this model has no next-sentence head (cls.seq_relationship.*)");
  Tensor p = pooled(hidden, batch, seq_len);
  Tensor logits = backend_.empty({batch, 2});  // (B, 2)
  backend_.linear(p, nsp_.weight, &nsp_.bias, Activation::None, logits);
  return to_host(logits);
}

std::vector<float> BertModel::qa_logits(const Tensor& hidden) {
  if (!has_qa_) throw Error("this model has no question-answering head (qa_outputs.*)");
  Tensor logits = backend_.empty({hidden.dim(0), 2});  // (B*T, 2): start, end
  backend_.linear(hidden, qa_.weight, &qa_.bias, Activation::None, logits);
  return to_host(logits);
}

}  // namespace bertscope
