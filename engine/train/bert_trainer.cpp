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

BertTrainer::BertTrainer(const Pretrained& model, Backend& backend, const TrainerOptions& options)
    : source_(model.folder), config_(model.config), backend_(backend), options_(options) {
  if (options_.dropout < 0 || options_.dropout >= 1) throw Error("dropout must be in [0, 1)");
  if (labelled_head() && options_.labels.size() < 2) throw Error("classification needs two or more labels");
  if (options_.frozen_layers < 0 || options_.frozen_layers > config_.num_hidden_layers)
    throw Error("can freeze 0 to " + std::to_string(config_.num_hidden_layers) + " layers of this model");
  const Checkpoint ckpt(source_);
  const int H = config_.hidden_size, V = config_.vocab_size;
  const Architecture& arch = config_.architecture();
  const TensorNames& n = arch.names;
  // The encoder: every parameter from the checkpoint; the embeddings and the lowest `frozen_layers` layers stay fixed.
  EncoderRefs values = lay_out_encoder(config_, [&](const EncoderTensorSpec& spec) {
    const bool decay = spec.kind == ParamKind::Table || spec.kind == ParamKind::Weight;  // not biases, not LayerNorm
    Param* p = add_param(ckpt, spec.name, spec.shape, decay, Source::Checkpoint);
    p->trainable = options_.frozen_layers == 0 || spec.layer >= options_.frozen_layers;
    return &p->value;
  });
  encoder_grads_ = lay_out_encoder(config_, [&](const EncoderTensorSpec& spec) { return &find_param(spec.name).grad; });
  encoder_ = std::make_unique<Encoder>(config_, backend_, std::move(values));
  word_ = &find_param(n.encoder(n.word));

  if (options_.head == TrainHead::SequenceClassification) {
    const int L = static_cast<int>(options_.labels.size());
    const std::string out_weight = n.sequence_out + ".weight";
    // BERT's and DistilBERT's token classifiers share the sequence classifier's name: never take one for the other.
    const bool token_checkpoint = std::any_of(config_.architectures.begin(), config_.architectures.end(),
        [&](const std::string& c) { return head_of_class(arch, c) == HeadKind::TokenClassification; });
    const bool has_classifier = ckpt.has(out_weight) && !token_checkpoint;
    pooler_ = add_linear(ckpt, n.sequence_dense, H, H, token_checkpoint ? Source::Init : Source::CheckpointOrInit);
    // Keep a classifier only when it has the same labels; anything else starts fresh. (A config without id2label
    // means Hugging Face's LABEL_0, LABEL_1, ...)
    if (token_checkpoint) config_.id2label.clear();
    if (config_.id2label.empty() && has_classifier) {
      const auto& stored = *ckpt.resolve(out_weight);
      const auto& shape = ckpt.file_of(stored).tensors().at(stored).shape;
      for (std::int64_t i = 0; !shape.empty() && i < shape[0]; ++i) config_.id2label[int(i)] = "LABEL_" + std::to_string(i);
    }
    bool same_labels = has_classifier && static_cast<int>(config_.id2label.size()) == L;
    for (int i = 0; same_labels && i < L; ++i) same_labels = config_.id2label.at(i) == options_.labels[static_cast<size_t>(i)];
    classifier_ = add_linear(ckpt, n.sequence_out, L, H, same_labels ? Source::Checkpoint : Source::Init);
    head_is_new_ = !same_labels;
    config_.id2label.clear();
    for (int i = 0; i < L; ++i) config_.id2label[i] = options_.labels[static_cast<size_t>(i)];
  } else if (options_.head == TrainHead::TokenClassification) {
    // Hugging Face's *ForTokenClassification: the encoder without a pooler, and `classifier` over every position.
    // Keep the checkpoint's classifier only when it is a token classifier with the same labels (BERT's and
    // DistilBERT's sequence classifiers have the same name and shape).
    const int L = static_cast<int>(options_.labels.size());
    const bool token_checkpoint = std::any_of(config_.architectures.begin(), config_.architectures.end(),
        [&](const std::string& c) { return head_of_class(arch, c) == HeadKind::TokenClassification; });
    bool same_labels = token_checkpoint && ckpt.has(n.token_classifier + ".weight") && static_cast<int>(config_.id2label.size()) == L;
    for (int i = 0; same_labels && i < L; ++i)
      same_labels = config_.id2label.count(i) && config_.id2label.at(i) == options_.labels[static_cast<size_t>(i)];
    classifier_ = add_linear(ckpt, n.token_classifier, L, H, same_labels ? Source::Checkpoint : Source::Init);
    head_is_new_ = !same_labels;
    config_.id2label.clear();
    for (int i = 0; i < L; ++i) config_.id2label[i] = options_.labels[static_cast<size_t>(i)];
  } else if (options_.head == TrainHead::QuestionAnswering) {
    // Hugging Face's *ForQuestionAnswering: the encoder without a pooler, and qa_outputs (start, end) over every
    // position; a question-answering checkpoint's own is kept.
    head_is_new_ = !ckpt.has(n.question_answering + ".weight");
    qa_outputs_ = add_linear(ckpt, n.question_answering, 2, H, Source::CheckpointOrInit);
    config_.id2label.clear();
  } else {
    head_is_new_ = false;  // the checkpoint's masked-LM head, always
    if (!ckpt.has(n.mlm_transform + ".weight"))
      throw Error("masked-LM training needs a checkpoint with a masked-LM head (" + n.mlm_transform + ")");
    if (ckpt.has(n.mlm_decoder) && !decoder_is_tied(ckpt, n.encoder(n.word), n.mlm_decoder))
      throw Error("this checkpoint's masked-LM decoder is not tied to the word embeddings; only tied decoders can be trained");
    mlm_transform_ = add_linear(ckpt, n.mlm_transform, H, H);
    mlm_norm_ = add_norm(ckpt, n.mlm_norm);
    const bool alias = !ckpt.has(n.mlm_bias) && !n.mlm_bias_alias.empty();
    mlm_bias_ = add_param(ckpt, alias ? n.mlm_bias_alias : n.mlm_bias, {V}, false, Source::Checkpoint);
    mlm_bias_->name = n.mlm_bias;
  }
}

// A stored decoder that equals the word embeddings (pytorch_model.bin keeps both names for the one tied tensor).
bool BertTrainer::decoder_is_tied(const Checkpoint& ckpt, const std::string& word, const std::string& decoder) {
  std::vector<float> a_converted, b_converted;
  const int H = config_.hidden_size, V = config_.vocab_size;
  const auto a = ckpt.read(word, {V, H}, a_converted);
  const auto b = ckpt.read(decoder, {V, H}, b_converted);
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Param& BertTrainer::find_param(const std::string& name) {
  for (const auto& p : params_)
    if (p->name == name) return *p;
  throw Error("internal: no parameter " + name);
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

std::vector<std::vector<float>> BertTrainer::parameter_values() const {
  std::vector<std::vector<float>> values;
  values.reserve(params_.size());
  for (const auto& p : params_) {
    values.emplace_back(static_cast<size_t>(p->value.numel()));
    backend_.download(p->value, values.back());
  }
  return values;
}

void BertTrainer::set_parameter_values(const std::vector<std::vector<float>>& values) {
  if (values.size() != params_.size()) throw Error("internal: parameter values of another model");
  for (size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i];
    if (static_cast<std::int64_t>(values[i].size()) != p.value.numel()) throw Error("internal: parameter " + p.name + " changed size");
    // value = copy + 0, written into the parameter's own tensor: the encoder keeps pointing at it.
    const Tensor copy = backend_.upload(std::span<const float>(values[i]), p.value.shape());
    Tensor zeros = backend_.empty(p.value.shape());
    backend_.fill(zeros, 0.0f);
    backend_.add(copy, zeros, p.value);
  }
}

void BertTrainer::save(const fs::path& out, StDType dtype, const std::function<void(const fs::path&)>& extra,
                       bool (*replaceable)(const std::string&)) const {
  StagedFolder folder(out, replaceable);  // refuses any folder that is not empty, but a run's own checkpoint
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

  nlohmann::json config = config_.raw;  // the source's config.json as read, with what training changes below
  config.erase("bertscope_untrained");
  const Architecture& arch = config_.architecture();
  if (labelled_head()) {
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (const auto& [id, label] : config_.id2label) {
      id2label[std::to_string(id)] = label;
      label2id[label] = id;
    }
    config["id2label"] = id2label;
    config["label2id"] = label2id;
  }
  if (options_.head == TrainHead::SequenceClassification) {
    config["architectures"] = {class_name(arch, HeadKind::SequenceClassification)};
    config["problem_type"] = "single_label_classification";
  } else if (options_.head == TrainHead::TokenClassification) {
    config["architectures"] = {class_name(arch, HeadKind::TokenClassification)};
    config.erase("problem_type");  // a sequence classifier's; token classifiers have none
  } else if (options_.head == TrainHead::QuestionAnswering) {
    config["architectures"] = {class_name(arch, HeadKind::QuestionAnswering)};
    // Hugging Face sizes qa_outputs by num_labels (BERT) or refuses anything but 2 (DistilBERT): a source's other
    // label count must not come along. Without these fields it is the default, 2.
    for (const char* field : {"id2label", "label2id", "num_labels", "_num_labels", "problem_type"}) config.erase(field);
  } else {
    config["architectures"] = {class_name(arch, HeadKind::MaskedLM)};
  }
  write_file_atomically(tmp / "config.json", config_json_text(config));
  copy_tokenizer_files(source_, tmp);
  if (extra) extra(tmp);
  folder.commit();
}

}  // namespace bertscope
