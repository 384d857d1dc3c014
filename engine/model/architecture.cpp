#include "model/architecture.h"

#include "core/error.h"

namespace bertscope {
namespace {

// BERT's layer and embedding names; RoBERTa shares them under another base.
TensorNames bert_style_names(const std::string& base) {
  TensorNames n;
  n.base = base;
  n.word = "embeddings.word_embeddings.weight";
  n.position = "embeddings.position_embeddings.weight";
  n.token_type = "embeddings.token_type_embeddings.weight";
  n.embedding_norm = "embeddings.LayerNorm";
  n.layer = "encoder.layer.{}.";
  n.query = "attention.self.query";
  n.key = "attention.self.key";
  n.value = "attention.self.value";
  n.attention_output = "attention.output.dense";
  n.attention_norm = "attention.output.LayerNorm";
  n.intermediate = "intermediate.dense";
  n.output = "output.dense";
  n.output_norm = "output.LayerNorm";
  n.question_answering = "qa_outputs";
  n.token_classifier = "classifier";
  return n;
}

Architecture bert() {
  Architecture a;
  a.model_type = "bert";
  a.class_prefix = "Bert";
  a.fields = {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
              "layer_norm_eps", "type_vocab_size"};
  a.fields.classifier_dropout = "classifier_dropout";
  a.names = bert_style_names("bert.");
  a.names.mlm_transform = "cls.predictions.transform.dense";
  a.names.mlm_norm = "cls.predictions.transform.LayerNorm";
  a.names.mlm_decoder = "cls.predictions.decoder.weight";
  a.names.mlm_bias = "cls.predictions.bias";
  a.names.mlm_bias_alias = "cls.predictions.decoder.bias";
  a.names.sequence_dense = "bert.pooler.dense";
  a.names.sequence_out = "classifier";
  a.names.next_sentence = "cls.seq_relationship";
  a.has_next_sentence_head = true;
  return a;
}

Architecture distilbert() {
  Architecture a;
  a.model_type = "distilbert";
  a.class_prefix = "DistilBert";
  a.fields = {"dim", "n_layers", "n_heads", "hidden_dim", "activation", "", "", "seq_classif_dropout"};
  a.fields.qa_dropout = "qa_dropout";
  TensorNames& n = a.names;
  n.base = "distilbert.";
  n.word = "embeddings.word_embeddings.weight";
  n.position = "embeddings.position_embeddings.weight";
  n.embedding_norm = "embeddings.LayerNorm";
  n.layer = "transformer.layer.{}.";
  n.query = "attention.q_lin";
  n.key = "attention.k_lin";
  n.value = "attention.v_lin";
  n.attention_output = "attention.out_lin";
  n.attention_norm = "sa_layer_norm";
  n.intermediate = "ffn.lin1";
  n.output = "ffn.lin2";
  n.output_norm = "output_layer_norm";
  n.mlm_transform = "vocab_transform";
  n.mlm_norm = "vocab_layer_norm";
  n.mlm_decoder = "vocab_projector.weight";
  n.mlm_bias = "vocab_projector.bias";
  n.sequence_dense = "pre_classifier";
  n.sequence_out = "classifier";
  n.sequence_activation = Activation::Relu;
  a.attention_output_dropout = false;
  n.question_answering = "qa_outputs";
  n.token_classifier = "classifier";
  return a;
}

Architecture roberta() {
  Architecture a = bert();
  a.model_type = "roberta";
  a.class_prefix = "Roberta";
  a.names = bert_style_names("roberta.");
  a.names.mlm_transform = "lm_head.dense";
  a.names.mlm_norm = "lm_head.layer_norm";
  a.names.mlm_decoder = "lm_head.decoder.weight";
  a.names.mlm_bias = "lm_head.bias";
  a.names.mlm_bias_alias = "lm_head.decoder.bias";
  a.names.sequence_dense = "classifier.dense";
  a.names.sequence_out = "classifier.out_proj";
  a.names.next_sentence.clear();
  a.has_next_sentence_head = false;
  a.positions_after_padding = true;
  a.sequence_dropout_before_dense = true;
  a.mlm_uses_encoder_activation = false;
  a.tokenizer = TokenizerFamily::ByteLevelBpe;
  return a;
}

const std::vector<Architecture>& registry() {
  static const std::vector<Architecture> all = {bert(), distilbert(), roberta()};
  return all;
}

struct HeadSuffix {
  HeadKind head;
  const char* suffix;
};
constexpr HeadSuffix kHeadSuffixes[] = {
    {HeadKind::MaskedLM, "ForMaskedLM"},
    {HeadKind::PreTraining, "ForPreTraining"},
    {HeadKind::SequenceClassification, "ForSequenceClassification"},
    {HeadKind::QuestionAnswering, "ForQuestionAnswering"},
    {HeadKind::TokenClassification, "ForTokenClassification"},
    {HeadKind::Encoder, "Model"},
};

}  // namespace

std::string TensorNames::in_layer(int layer_index, const std::string& part) const {
  std::string prefix = layer;
  const auto at = prefix.find("{}");
  prefix.replace(at, 2, std::to_string(layer_index));
  return base + prefix + part;
}

const Architecture& architecture_for(std::string_view model_type, const std::string& source) {
  for (const Architecture& a : registry())
    if (a.model_type == model_type) return a;
  std::string list;
  for (const auto& t : supported_model_types()) list += (list.empty() ? "" : ", ") + t;
  throw Error(source + ": model_type \"" + std::string(model_type) + "\" is not one bertscope runs (it runs " + list + ")");
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> types;
  for (const Architecture& a : registry()) types.push_back(a.model_type);
  return types;
}

std::optional<HeadKind> head_of_class(const Architecture& arch, std::string_view name) {
  for (const HeadSuffix& h : kHeadSuffixes)
    if (name == arch.class_prefix + h.suffix) return h.head;
  return std::nullopt;
}

std::string class_name(const Architecture& arch, HeadKind head) {
  for (const HeadSuffix& h : kHeadSuffixes)
    if (h.head == head) return arch.class_prefix + h.suffix;
  return arch.class_prefix + "Model";
}

}  // namespace bertscope
