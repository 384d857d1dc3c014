// BertTrainer: parameters (load, initialise, save). The passes are in bert_trainer_passes.cpp.
#include "train/bert_trainer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "model/model_folder.h"
#include "model/safetensors.h"

namespace fs = std::filesystem;

namespace bertscope {

BertTrainer::~BertTrainer() = default;

Param* BertTrainer::add_param(const Checkpoint& ckpt, const std::string& name, const Shape& shape, bool decay,
                              Source source) {
  auto p = std::make_unique<Param>();
  p->name = name;
  p->decay = decay;
  if (source == Source::Checkpoint || (source == Source::CheckpointOrInit && ckpt.has(name))) {
    std::vector<float> converted;
    auto data = ckpt.read(name, shape, converted);  // throws, naming the tensor, when missing or mis-shaped
    p->value = backend_.upload(data, shape);        // a writable copy, never the read-only mapping
  } else {
    std::vector<float> values(static_cast<size_t>(element_count(shape)), 0.0f);
    if (shape.size() == 2) {  // Hugging Face's _init_weights: N(0, initializer_range) matrices, zero biases
      std::mt19937 rng(options_.seed + static_cast<std::uint32_t>(std::hash<std::string>{}(name)));
      std::normal_distribution<float> normal(0.0f, 0.02f);
      for (auto& v : values) v = normal(rng);
    }
    p->value = backend_.upload(std::span<const float>(values), shape);
  }
  p->grad = backend_.empty(shape);
  params_.push_back(std::move(p));
  return params_.back().get();
}

BertTrainer::Linear BertTrainer::add_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in,
                                            Source source) {
  return {add_param(ckpt, prefix + ".weight", {out, in}, true, source),
          add_param(ckpt, prefix + ".bias", {out}, false, source)};
}

BertTrainer::Norm BertTrainer::add_norm(const Checkpoint& ckpt, const std::string& prefix) {
  const int H = config_.hidden_size;
  return {add_param(ckpt, prefix + ".weight", {H}, false, Source::Checkpoint),
          add_param(ckpt, prefix + ".bias", {H}, false, Source::Checkpoint)};
}

BertTrainer::BertTrainer(const fs::path& folder, Backend& backend, const TrainerOptions& options)
    : source_(folder), config_(BertConfig::load(folder / "config.json")), backend_(backend), options_(options) {
  if (options_.dropout < 0 || options_.dropout >= 1) throw Error("dropout must be in [0, 1)");
  if (options_.head == TrainHead::SequenceClassification && options_.labels.size() < 2)
    throw Error("classification needs two or more labels");
  if (options_.frozen_layers < 0 || options_.frozen_layers > config_.num_hidden_layers)
    throw Error("can freeze 0 to " + std::to_string(config_.num_hidden_layers) + " layers of this model");
  const Checkpoint ckpt(folder);
  const int H = config_.hidden_size, I = config_.intermediate_size, V = config_.vocab_size;
  word_ = add_param(ckpt, "bert.embeddings.word_embeddings.weight", {V, H}, true, Source::Checkpoint);
  position_ = add_param(ckpt, "bert.embeddings.position_embeddings.weight", {config_.max_position_embeddings, H}, true,
                        Source::Checkpoint);
  token_type_ = add_param(ckpt, "bert.embeddings.token_type_embeddings.weight", {config_.type_vocab_size, H}, true,
                          Source::Checkpoint);
  embedding_norm_ = add_norm(ckpt, "bert.embeddings.LayerNorm");
  for (int l = 0; l < config_.num_hidden_layers; ++l) {
    const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
    Layer w;
    w.query = add_linear(ckpt, p + "attention.self.query", H, H);
    w.key = add_linear(ckpt, p + "attention.self.key", H, H);
    w.value = add_linear(ckpt, p + "attention.self.value", H, H);
    w.attention_output = add_linear(ckpt, p + "attention.output.dense", H, H);
    w.attention_norm = add_norm(ckpt, p + "attention.output.LayerNorm");
    w.intermediate = add_linear(ckpt, p + "intermediate.dense", I, H);
    w.output = add_linear(ckpt, p + "output.dense", H, I);
    w.output_norm = add_norm(ckpt, p + "output.LayerNorm");
    layers_.push_back(w);
  }
  const size_t encoder_params_frozen = options_.frozen_layers > 0 ? 5 + 16 * static_cast<size_t>(options_.frozen_layers) : 0;
  for (size_t i = 0; i < encoder_params_frozen; ++i) params_[i]->trainable = false;

  if (options_.head == TrainHead::SequenceClassification) {
    const int L = static_cast<int>(options_.labels.size());
    pooler_ = add_linear(ckpt, "bert.pooler.dense", H, H, Source::CheckpointOrInit);
    // Keep a classifier only when it has the same labels; anything else starts fresh. (A config without id2label
    // means Hugging Face's LABEL_0, LABEL_1, ...)
    if (config_.id2label.empty() && ckpt.has("classifier.weight")) {
      const auto& stored = *ckpt.resolve("classifier.weight");
      const auto& shape = ckpt.file_of(stored).tensors().at(stored).shape;
      for (std::int64_t i = 0; !shape.empty() && i < shape[0]; ++i) config_.id2label[int(i)] = "LABEL_" + std::to_string(i);
    }
    bool same_labels = ckpt.has("classifier.weight") && static_cast<int>(config_.id2label.size()) == L;
    for (int i = 0; same_labels && i < L; ++i) same_labels = config_.id2label.at(i) == options_.labels[static_cast<size_t>(i)];
    classifier_ = add_linear(ckpt, "classifier", L, H, same_labels ? Source::Checkpoint : Source::Init);
    config_.id2label.clear();
    for (int i = 0; i < L; ++i) config_.id2label[i] = options_.labels[static_cast<size_t>(i)];
  } else {
    if (!ckpt.has("cls.predictions.transform.dense.weight"))
      throw Error("masked-LM training needs a checkpoint with a masked-LM head (cls.predictions.*)");
    if (ckpt.has("cls.predictions.decoder.weight"))
      throw Error("this checkpoint's masked-LM decoder is not tied to the word embeddings; only tied decoders can be trained");
    mlm_transform_ = add_linear(ckpt, "cls.predictions.transform.dense", H, H);
    mlm_norm_ = add_norm(ckpt, "cls.predictions.transform.LayerNorm");
    mlm_bias_ = add_param(ckpt, ckpt.has("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias",
                          {V}, false, Source::Checkpoint);
    mlm_bias_->name = "cls.predictions.bias";
  }
}

const Param& BertTrainer::param(const std::string& name) const {
  for (const auto& p : params_)
    if (p->name == name) return *p;
  throw Error("internal: no parameter " + name);
}

void BertTrainer::check_loss(double loss, int step) const {
  if (std::isfinite(loss)) return;
  std::string culprit = "no weight or gradient is NaN/Inf yet (the input or the learning rate is the likely cause)";
  std::vector<float> host;
  for (const auto& p : params_) {
    for (const auto& [what, tensor] : {std::pair{"weights", &p->value}, {"gradients", &p->grad}}) {
      if (tensor->numel() == 0) continue;
      host.resize(static_cast<size_t>(tensor->numel()));
      backend_.download(*tensor, host);
      if (std::any_of(host.begin(), host.end(), [](float x) { return !std::isfinite(x); })) {
        culprit = std::string("first non-finite tensor: ") + p->name + " (" + what + ")";
        break;
      }
    }
    if (culprit.rfind("first", 0) == 0) break;
  }
  throw Error("training stopped at step " + std::to_string(step) + ": the loss is " + (std::isnan(loss) ? "NaN" : "infinite") +
              "; " + culprit + ". Nothing was saved; try a lower learning rate");
}

std::int64_t BertTrainer::trainable_parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : params_)
    if (p->trainable) n += p->value.numel();
  return n;
}

void BertTrainer::save(const fs::path& out, StDType dtype, const std::function<void(const fs::path&)>& extra) const {
  StagedFolder folder(out);  // refuses a folder of the user's that is not a model
  const fs::path& tmp = folder.path();
  // Tensors: every parameter under its Hugging Face name (the tied decoder is not stored, as Hugging Face does).
  std::vector<std::vector<float>> host;
  std::vector<StWriteTensor> tensors;
  host.reserve(params_.size());
  for (const auto& p : params_) {
    host.emplace_back(static_cast<size_t>(p->value.numel()));
    backend_.download(p->value, host.back());
  }
  for (size_t i = 0; i < params_.size(); ++i) tensors.push_back({params_[i]->name, params_[i]->value.shape(), host[i]});
  write_safetensors(tmp / "model.safetensors", tensors, dtype, {{"format", "pt"}});

  nlohmann::json config = read_json_file(source_ / "config.json");
  config.erase("bertscope_untrained");
  if (options_.head == TrainHead::SequenceClassification) {
    config["architectures"] = {"BertForSequenceClassification"};
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (const auto& [id, label] : config_.id2label) {
      id2label[std::to_string(id)] = label;
      label2id[label] = id;
    }
    config["id2label"] = id2label;
    config["label2id"] = label2id;
    config["problem_type"] = "single_label_classification";
  } else {
    config["architectures"] = {"BertForMaskedLM"};
  }
  write_file_atomically(tmp / "config.json", config.dump(2) + "\n");
  copy_tokenizer_files(source_, tmp);
  if (extra) extra(tmp);
  folder.commit();
}

}  // namespace bertscope
