#pragma once
// EngineClient: the window's handle on the engine. Every engine call runs on one worker thread, so the UI never
// waits for the model. Each request returns an id; a request superseded by a newer one of the same kind before it
// starts is skipped, and pages ignore replies whose id is not their latest (so a result for outdated text never
// shows). Replies arrive as signals on the UI thread.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "explain/explain.h"
#include "explain/head_gradients.h"
#include "session.h"
#include "tasks/tasks.h"

namespace bertscope::gui {

enum class Job { Load, Tokenize, FillMask, Attention, Answer, Classify, Entities, RankHeads, AttentionFlow, Explain, Neurons, Compare };
constexpr int kJobCount = 12;
QString job_name(Job job);

// What the UI knows about the loaded model (a copy: the Session itself stays on the worker thread).
struct LoadedModel {
  ModelInfo info;
  bool mlm = false, nsp = false, classifier = false, qa = false;
  bool token_classifier = false;    // a *ForTokenClassification head (named entities, part-of-speech tags)
  QStringList token_labels;         // its labels in id order (id2label), empty without one
  bool token_types = true;          // whether inputs carry token type ids (BERT; not DistilBERT or RoBERTa)
  int max_tokens = 512;             // the model's longest input (ModelConfig::max_tokens)
  int layers = 0, heads = 0;        // the encoder's layers and attention heads per layer (the head mask's shape)
  QString mask_token;               // "[MASK]" or "<mask>"; empty when the vocabulary has none
  QString cls_token, sep_token;     // "[CLS]"/"[SEP]" or "<s>"/"</s>"
  BackendRequest backend;           // what was asked for
  bool on_gpu = false;              // where it runs: a Vulkan device (a GPU failure can be moved away from)
  bool built_in = false;            // bertscope's own pre-trained default model (resources/default-model)
};

// The views cannot ask the tokenizer (it stays on the worker thread), so replies carry token texts already made
// readable (Tokenizer::readable: RoBERTa's "Ġworld" shows as " world") and, per token, whether it continues the
// word of the token before it (Tokenizer::continues_word).
struct ShownEncoding {
  Encoding encoding;             // token texts replaced by their readable form
  std::vector<bool> continues;   // per token
};
ShownEncoding shown_encoding(const Tokenizer& tokenizer, Encoding encoding);

// How a predicted token goes into the sentence in place of its mask.
struct PredictedWord {
  QString text;        // what replaces the mask ("cat"; "ing" for a piece that continues the word before)
  bool joins = false;  // continues the word before the mask: the space before the mask goes
};

struct FillMaskReply {
  FillMaskResult result;                          // encoding texts readable, as ShownEncoding's
  std::vector<bool> continues;                    // per token of result.encoding
  std::vector<std::vector<PredictedWord>> words;  // parallel to result.predictions
  // Why nothing was predicted (no mask in the text, a model that produces NaN, ...): the predictions are empty, but
  // the encoding is still the text's, so the page's chips always show the current text.
  QString problem;
};

struct ClassifyReply {
  Encoding encoding;
  std::optional<ClassifyResult> classification;  // when the model has a classifier
  std::optional<NspResult> nsp;                  // when it has an NSP head and a second sentence was given
};

// Named entities for one text, with the per-token label probabilities behind them.
struct EntitiesReply {
  EntityResult result;           // entities (code-point offsets) and every text token's label probabilities
  std::vector<QString> tokens;   // per result.tokens: the token as a reader sees it ("##ing", " world")
  QStringList labels;            // the head's labels in id order: the columns of each token's probabilities
  Aggregation aggregation = Aggregation::Simple;
};

template <typename T>
using Ptr = std::shared_ptr<const T>;

struct NeuronVectors;  // neuron_view.h
struct RankHeadsReply;
struct SaliencyReply;

// While heads are switched off (EngineClient::setHeadMask), each task request is answered twice: with those heads
// off (the reply) and by the full model (this), so a page can show what switching them off changed. Only the part
// of the request's task is filled in. The full model's answer is cached per input: editing the mask costs one pass.
struct FullModelAnswer {
  std::vector<std::vector<double>> fill_mask;  // per mask of the text: (V) the full model's probabilities
  std::vector<std::string> fill_mask_best;     // per mask: the full model's top word, readable
  std::optional<ClassifyResult> classification;
  std::optional<NspResult> nsp;
  std::optional<QaResult> qa;
  std::optional<EntityResult> entities;
};
struct Ablation {
  int heads_off = 0;                // heads switched off when the request ran
  Ptr<FullModelAnswer> full;
};

// While a second model (model B) is open for comparison (EngineClient::compareWith), each fill-mask, classify, QA,
// entities and attention request is answered by model B too. Only the part of the request's task is filled in.
struct ModelBAnswer {
  // Model B reads the text as the same tokens with the same vocabulary: its numbers line up with model A's (per
  // word id, label, span). Otherwise they are shown on their own, with a notice.
  bool aligned = false;
  QString problem;  // why model B has no answer for this task (no such head, an error); empty when it has one
  std::vector<std::vector<double>> fill_mask;              // aligned: per mask of A's text, (V) B's probabilities
  std::vector<std::string> fill_mask_best;                 // per mask: B's top word, readable
  std::vector<std::vector<MaskPrediction>> fill_mask_top;  // B's own top k per mask (readable words)
  std::optional<ClassifyResult> classification;
  std::optional<NspResult> nsp;
  std::optional<QaResult> qa;
  std::optional<EntityResult> entities;
  std::shared_ptr<const AttentionResult> attention;        // token texts readable
  // Explaining: B's saliency of the same output when aligned (the same position, word or label name), else of its
  // own top choice; rank heads: B's heads ranked for its own top output of the task; the neuron view: B's vectors
  // for the same layer, head and query token.
  Ptr<SaliencyReply> saliency;
  Ptr<RankHeadsReply> ranking;
  Ptr<NeuronVectors> neurons;
};

// Each head's importance for one input's output, by switching it off in turn (explain/explain.h rank_heads).
struct RankHeadsReply {
  HeadRanking ranking;
  HeadGradients gradients;  // Michel et al.'s gradient importance for the same input and target (one backward pass)
  ExplainTarget target;
  QString target_text;   // what was explained: "“cat” at [MASK] (token 3)", "label POSITIVE", ...
  int heads_off = 0;     // the head mask's heads, already off during the ranking
};

// What to explain (EngineClient::explain): which input tokens one output of a task's head depends on.
struct ExplainRequest {
  ExplainTask task = ExplainTask::FillMask;
  // The input: fill-mask and ner the text; classify the text and an optional second sentence; qa the question
  // (text) and the context (pair).
  QString text, pair;
  std::optional<Encoding> encoding;  // given: explained as it is instead (qa: the window an answer is in)
  int position = -1, index = -1;     // the output, as resolve_target's: -1 leaves it to the model's top choice
  int offset = -1;                   // >= 0: the target is the token starting at this code point of `text` (ner)
  SaliencyOptions options;
};

struct SaliencyReply {
  ShownEncoding encoding;  // the tokens explained, readable
  ExplainTarget target;    // the output explained (resolved)
  QString target_text;     // it in words: "“cat” at [MASK] (token 3)", "label positive", ...
  TargetScore score;       // its logit and probability
  SaliencyMethod method = SaliencyMethod::GradientInput;
  Saliency saliency;       // per token of `encoding`
};

class EngineClient : public QObject {
  Q_OBJECT
 public:
  explicit EngineClient(QObject* parent = nullptr);
  ~EngineClient() override;  // waits for the job in flight, skips the rest

  // `model` is a folder or "default".
  quint64 load(const QString& model, const BackendRequest& backend);
  quint64 tokenize(const QString& text, const QString& pair);
  quint64 fillMask(const QString& text, int topK);
  quint64 attention(const QString& text, const QString& pair);
  quint64 answer(const QString& question, const QString& context, int topK);
  quint64 classify(const QString& text, const QString& pair);
  quint64 entities(const QString& text, Aggregation aggregation);
  // Ranks the heads for `text` (and `pair`) by ablation; the target is the model's own top output for `task`.
  // While comparing, model B's heads are ranked after A's (comparison(Job::RankHeads, id)), and the progress counts
  // both.
  quint64 rankHeads(const QString& text, const QString& pair, ExplainTask task);
  // The ranking asked for last is skipped, or stops within one batched pass (explain.h RankHeadsCallbacks) without
  // a reply; headsRankProgress says how far a ranking has got.
  void cancelRankHeads();
  // Attention rollout (flow false) or attention flow of an attention result: an AttentionResult with one "head" per
  // layer, the layer's rollout or flow (explain/attention_flow.h). Flow refuses more than 64 tokens.
  quint64 attentionFlow(Ptr<AttentionResult> attention, bool flow);
  // The neuron view's numbers (neuron_view.h) for `text` (and `pair`), one layer, head and query token.
  quint64 neurons(const QString& text, const QString& pair, int layer, int head, int query);
  // Saliency of one output (explain/explain.h). Each task's requests supersede only that task's.
  quint64 explain(const ExplainRequest& request);

  // Heads switched off for every request from now on (Hugging Face's head_mask). Empty, or none at 0: every head
  // on. A new model starts with every head on.
  void setHeadMask(HeadMask mask);
  void toggleHead(int layer, int head);  // switches one head off, or back on
  const HeadMask& headMask() const { return headMask_; }
  int headsOff() const { return headMask_.empty() ? 0 : headMask_.heads_off(); }
  // How request `id` of `job` ran when heads were off, with the full model's answer; null when every head was on
  // (or `id` is not the latest reply of that job).
  const Ablation* ablation(Job job, quint64 id) const;

  const Ptr<LoadedModel>& model() const { return model_; }  // null until a load succeeds

  // Compare mode: `model` (a folder or Hub id) is opened as model B on model A's backend; from then on the task
  // requests are also answered by it (comparison()). Model A stays as it is; a failure leaves compare mode as it
  // was. stopCompare() closes model B.
  quint64 compareWith(const QString& model);
  void stopCompare();
  const Ptr<LoadedModel>& modelB() const { return modelB_; }  // null while not comparing
  bool comparing() const { return modelB_ != nullptr; }
  // Whether models A and B share one vocabulary (every token, in the same order, split the same way), so their
  // answers can be lined up. Rechecked when either model changes.
  bool sameVocabulary() const { return sameVocabulary_; }
  // Model B's answer to request `id` of `job`; null when not comparing (or `id` is not the latest reply of `job`).
  const ModelBAnswer* comparison(Job job, quint64 id) const;
  bool busy() const { return pending_ > 0; }

 signals:
  void loaded(quint64 id, bertscope::gui::Ptr<bertscope::gui::LoadedModel> model);
  void tokenized(quint64 id, bertscope::gui::Ptr<bertscope::gui::ShownEncoding> encoding);
  void filled(quint64 id, bertscope::gui::Ptr<bertscope::gui::FillMaskReply> result);
  void attended(quint64 id, bertscope::gui::Ptr<bertscope::AttentionResult> result);
  void answered(quint64 id, bertscope::gui::Ptr<bertscope::QaResult> result);
  void classified(quint64 id, bertscope::gui::Ptr<bertscope::gui::ClassifyReply> result);
  void entitiesFound(quint64 id, bertscope::gui::Ptr<bertscope::gui::EntitiesReply> result);
  void headsRanked(quint64 id, bertscope::gui::Ptr<bertscope::gui::RankHeadsReply> result);
  void headsRankProgress(quint64 id, int done, int total);  // heads ablated so far by ranking `id`
  void explained(quint64 id, bertscope::gui::Ptr<bertscope::gui::SaliencyReply> result);
  void flowComputed(quint64 id, bertscope::gui::Ptr<bertscope::AttentionResult> result);
  void neuronsComputed(quint64 id, bertscope::gui::Ptr<bertscope::gui::NeuronVectors> result);
  void headMaskChanged();  // setHeadMask, toggleHead, or a new model
  void compareChanged();   // model B opened, closed, or its vocabulary check redone (model A changed)
  void failed(quint64 id, bertscope::gui::Job job, const QString& message);
  // After failed(), when the GPU itself failed (VK_ERROR_DEVICE_LOST, out of device memory): the model can only
  // work again once it is reloaded, on the CPU if the user agrees (MainWindow asks).
  void deviceFailed(quint64 id, bertscope::gui::Job job, const QString& message);
  // True while any request is queued or running; `what` names the job starting now.
  void busyChanged(bool busy, const QString& what);

 private:
  // What a job hands back to the UI thread: a function that emits its result for request `id`.
  using Delivery = std::function<void(quint64 id)>;
  // Runs `work` on the worker thread unless superseded, then its delivery on the UI thread. Exceptions become
  // failed(). Only Load replaces the session. `lane`: which requests supersede each other; by default those of
  // the same job (explain: one lane per task, as each task page asks for its own).
  quint64 post(Job job, std::function<Delivery(std::unique_ptr<Session>&)> work, int lane = -1);
  void finishOne();
  // Worker thread: the full model's answer for `key` of `job`, computed by `compute` (with every head on) unless
  // cached, and what the delivery records as ablations_[job].
  Ablation fullModel(Session& session, Job job, const std::string& key, const std::function<FullModelAnswer()>& compute);

  // Worker thread: model B's answer, by `compute` on model B (null when not comparing). Errors become its problem.
  Ptr<ModelBAnswer> answerB(const std::function<void(Session& b, ModelBAnswer& answer)>& compute);
  // Worker thread: model B's saliency for an explain request that model A answered with `targetA` on `encodingA`
  // (encoding texts raw). `aligned` comes in as "one vocabulary" and goes out as "B read the same tokens".
  static Ptr<SaliencyReply> saliency_b(const Session& a, Session& b, const ExplainRequest& request,
                                       const Encoding& encodingA, const ExplainTarget& targetA, bool& aligned);
  // Worker thread: whether `a` and `b` tokenize alike (same vocabulary, same kind of tokenizer).
  static bool same_vocabulary(const Session& a, const Session& b);

  QThread thread_;
  QObject* worker_ = nullptr;          // lives on thread_; owns nothing, only gives lambdas a thread
  std::unique_ptr<Session> session_;   // touched only on the worker thread
  std::unique_ptr<Session> sessionB_;  // model B while comparing; worker thread only
  bool sameVocabularyWorker_ = false;  // worker thread's copy of sameVocabulary_
  static constexpr int kExplainLanes = 4;  // one per ExplainTask
  std::array<std::atomic<quint64>, kJobCount + kExplainLanes> latest_{};  // per lane: the latest request
  std::atomic<quint64> next_id_{1};
  std::atomic<bool> closing_{false};
  int pending_ = 0;                    // UI thread only
  Ptr<LoadedModel> model_;
  HeadMask headMask_;                   // UI thread; each request takes a copy
  struct FullCacheEntry {
    std::string key;
    Ptr<FullModelAnswer> answer;
  };
  std::array<FullCacheEntry, kJobCount> fullCache_;  // worker thread only; cleared by a load
  std::array<std::pair<quint64, Ablation>, kJobCount> ablations_{};  // UI thread: the latest reply's, per job
  Ptr<LoadedModel> modelB_;
  bool sameVocabulary_ = false;
  std::array<std::pair<quint64, Ptr<ModelBAnswer>>, kJobCount> comparisons_{};  // UI thread: the latest reply's
};

}  // namespace bertscope::gui
