#pragma once
// Explain a prediction: which input tokens an output depends on (saliency), and which attention heads it needs
// (ablating each head in turn). Every function here takes a loaded BertModel and runs on its backend (CPU or
// Vulkan); the model's own head mask (BertModel::set_head_mask) applies throughout, so a result answers for the
// model with those heads switched off. Attention rollout and flow are in explain/attention_flow.h.
//
// The output explained is one logit of one head (ExplainTarget). Shapes: T tokens, H hidden, L layers, A heads.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/bert_model.h"
#include "text/tokenizer.h"

namespace bertscope {

enum class ExplainTask { FillMask, Classify, QuestionAnswering, TokenClassification };
// "fill-mask", "classify", "qa", "ner"; the parser throws Error naming the choices for anything else.
ExplainTask parse_explain_task(std::string_view name);
std::string explain_task_name(ExplainTask task);

// One logit of the model's output for one input.
struct ExplainTarget {
  ExplainTask task = ExplainTask::FillMask;
  int position = 0;  // token index: the masked token (fill-mask), the answer's start or end (QA), the token (NER);
                     // classification reads the first token ([CLS], <s>) and ignores it
  int index = 0;     // which logit there: a vocabulary id (fill-mask), a label id (classify, NER), 0 start / 1 end (QA)
};

// The target the user most likely means where they left a part open (a negative position or index): the model's
// own top choice. Fill-mask: the first mask token, its best word. Classify: the best label. QA: the start (index 0,
// the default) or end: the context token with the highest logit. NER: the first token whose best label is not "O"
// (else the first token), its best label. Throws Error when the model lacks the task's head, the text has no mask
// token for fill-mask, or a given position or index is out of range.
ExplainTarget resolve_target(BertModel& model, const Tokenizer& tokenizer, const Encoding& encoding, ExplainTask task,
                             int position = -1, int index = -1);

// The target's logit and its probability: a softmax over the vocabulary (fill-mask), the labels (classify, NER), or
// every position's start or end logit (QA; Hugging Face's pipeline also leaves the question out, this does not).
struct TargetScore {
  double logit = 0;
  double probability = 0;
};
// One forward pass. `head_mask` null: the model's own.
TargetScore score_target(BertModel& model, const Encoding& encoding, const ExplainTarget& target,
                         const HeadMask* head_mask = nullptr);

// ---- saliency ----
//
// The input is the embedding sum of each token: word + position + token type embeddings, the embedding LayerNorm's
// input (LIT's and Captum's usual "embedding layer" attribution). Chosen because it is the first tensor every token
// has whole, position and type included, and the last before tokens are normalised together; the word embedding
// alone would leave the position out of what is attributed.
enum class SaliencyMethod { GradientInput, IntegratedGradients };
// Both baselines change the word embeddings only, keeping each token's position and type embeddings: a zero
// embedding sum would be no baseline at all, since the LayerNorm after it is scale-invariant (f(a x) = f(x) for every
// a > 0, so the path from 0 to x sees no change until a = 0 and the attributions add up to 0, not f(x) - f(0)).
enum class SaliencyBaseline {
  Zero,  // every word embedding 0: the embedding sum is the position + type embeddings alone
  Pad,   // each word replaced by the pad token (special tokens kept)
};

struct SaliencyOptions {
  SaliencyMethod method = SaliencyMethod::GradientInput;
  int steps = 32;                                 // integrated gradients: interpolation points (midpoint rule)
  SaliencyBaseline baseline = SaliencyBaseline::Zero;
  int batch = 8;                                  // integrated gradients: interpolation points per pass
};

struct Saliency {
  // Per token (T). Gradient x input: the L2 norm over the hidden units of gradient * embedding sum (always >= 0; its
  // plain sum is 0 up to rounding, LayerNorm being scale-invariant per token). Integrated gradients: the sum over
  // the hidden units of the attribution (signed; the scores add up to logit - baseline_logit, up to
  // completeness_error).
  std::vector<float> scores;
  std::vector<float> norms;   // (T) the L2 norm over the hidden units of each token's attribution (both methods)
  double logit = 0;           // f(x): the target logit on the input
  double baseline_logit = 0;  // f(baseline) (integrated gradients)
  double completeness_error = 0;  // |sum of scores - (logit - baseline_logit)| (integrated gradients)
  int steps = 0;              // forward + backward passes' interpolation points (1 for gradient x input)
};
Saliency saliency(BertModel& model, const Encoding& encoding, const ExplainTarget& target,
                  const SaliencyOptions& options = {});

// The raw material: the gradient of the target logit with respect to the embedding sum, and the embedding sum,
// both (T, H), from one forward and backward pass.
struct EmbeddingGradient {
  std::vector<float> embedding_sum, gradient;  // (T, H)
  double logit = 0;
};
EmbeddingGradient embedding_gradient(BertModel& model, const Encoding& encoding, const ExplainTarget& target);

// ---- heads ----

// "L:H,L:H,..." (0-based layers and heads) switched off, every other head on. Throws Error naming the part at fault.
HeadMask parse_head_mask(std::string_view spec, int layers, int heads);
// The heads a mask switches off as "L:H,..." (empty when none).
std::string head_mask_spec(const HeadMask& mask);

// Each head's importance for this input (Michel et al. 2019, by ablation): the target's logit with every head on
// minus the logit with that head switched off too (on top of the model's head mask). The ablations run side by side,
// a sentence of a batch each with its own mask (EncoderRun::sentence_head_masks): a few passes, not one per head.
struct HeadRanking {
  int layers = 0, heads = 0;
  TargetScore full;                         // with the model's head mask only
  std::vector<double> logit_change;         // (L, A) full.logit - logit without the head (0 for heads already off)
  std::vector<double> probability_change;   // (L, A) the same for the probability
  std::vector<bool> already_off;            // (L, A) switched off by the model's head mask
  // (layer, head) pairs, most important first (largest logit_change); heads already off left out.
  std::vector<std::pair<int, int>> ranking;
  bool cancelled = false;  // stopped by RankHeadsCallbacks::cancelled: the changes are incomplete, not to be shown
};
// A ranking runs as batched passes of at most one layer's worth of heads (A ablations) and kRankHeadsPassTokens
// tokens, so progress shows layer by layer and a cancel is seen within one pass.
struct RankHeadsCallbacks {
  std::function<void(int done, int total)> progress;  // after each pass: heads ablated so far, of those to ablate
  std::function<bool()> cancelled;                    // polled before each pass: true stops the ranking there
};
constexpr int kRankHeadsPassTokens = 4096;
HeadRanking rank_heads(BertModel& model, const Encoding& encoding, const ExplainTarget& target,
                       const RankHeadsCallbacks& callbacks = {});

}  // namespace bertscope
