#pragma once
// The model families bertscope runs, as data: each family's config.json field names, tensor names, embedding
// recipe, heads and tokenizer. One encoder (post-LayerNorm Transformer) and one set of head shapes serve all of
// them; what differs between BERT, DistilBERT and RoBERTa is only what is written here.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"

namespace bertscope {

enum class TokenizerFamily { WordPiece, ByteLevelBpe };

// config.json's names for the encoder's sizes. An empty name: the family has no such field (the fixed value is
// in Architecture).
struct ConfigFieldNames {
  std::string hidden, layers, heads, intermediate, activation, layer_norm_eps, type_vocab_size;
  std::string classifier_dropout;  // the sequence head's own dropout (null or absent: the hidden dropout)
  // The question-answering head's dropout (DistilBERT's qa_dropout, default 0.1); empty: the family's QA head has none.
  std::string qa_dropout;
};

// Hugging Face's tensor names. `base` prefixes the encoder's names ("bert."); checkpoints of the bare encoder
// (BertModel.save_pretrained) store them without it, which Checkpoint::resolve handles. Layer names are relative to
// `layer` with "{}" standing for the layer index. Head names are absolute; empty: the family has no such head.
struct TensorNames {
  std::string base;
  std::string word, position, token_type, embedding_norm;  // token_type empty: no token types
  std::string layer;
  std::string query, key, value, attention_output, attention_norm, intermediate, output, output_norm;
  // Masked LM: dense + activation + LayerNorm, then a decoder tied to the word embeddings, with its own bias.
  std::string mlm_transform, mlm_norm, mlm_decoder, mlm_bias, mlm_bias_alias;
  // Sequence classification: the first token's row through dense + activation, then the output projection. BERT's
  // dense is its pooler, which the next-sentence head shares.
  std::string sequence_dense, sequence_out;
  Activation sequence_activation = Activation::Tanh;
  std::string question_answering, token_classifier, next_sentence;

  std::string in_layer(int layer_index, const std::string& part) const;  // e.g. "bert.encoder.layer.3.output.dense"
  std::string encoder(const std::string& part) const { return base + part; }
};

struct Architecture {
  std::string model_type;    // config.json's model_type
  std::string class_prefix;  // Hugging Face's class names: "Bert" + "ForMaskedLM"
  ConfigFieldNames fields;
  TensorNames names;
  float fixed_layer_norm_eps = 1e-12f;  // when config.json has no such field
  // RoBERTa numbers positions from padding_idx + 1 (fairseq's convention); BERT and DistilBERT from 0.
  bool positions_after_padding = false;
  // The masked-LM transform's activation: BERT and DistilBERT use the encoder's, RoBERTa always GELU.
  bool mlm_uses_encoder_activation = true;
  bool has_next_sentence_head = false;
  // BERT and RoBERTa drop out the attention block's output before the residual; DistilBERT does not (training only).
  bool attention_output_dropout = true;
  // RoBERTa's classification head drops out the first token's row before its dense layer too (training only).
  bool sequence_dropout_before_dense = false;
  TokenizerFamily tokenizer = TokenizerFamily::WordPiece;
};

// The architecture for a config.json model_type; throws Error listing the supported ones.
const Architecture& architecture_for(std::string_view model_type, const std::string& source);
std::vector<std::string> supported_model_types();

// What Hugging Face class names say about the heads: "DistilBertForTokenClassification" -> TokenClassification.
enum class HeadKind { MaskedLM, PreTraining, SequenceClassification, QuestionAnswering, TokenClassification, Encoder };
std::optional<HeadKind> head_of_class(const Architecture& arch, std::string_view class_name);
std::string class_name(const Architecture& arch, HeadKind head);  // the inverse: ("Roberta", MaskedLM) -> "RobertaForMaskedLM"

}  // namespace bertscope
