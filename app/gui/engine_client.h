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

#include "session.h"
#include "tasks/tasks.h"

namespace bertscope::gui {

enum class Job { Load, Tokenize, FillMask, Attention, Answer, Classify, Entities };
constexpr int kJobCount = 7;
QString job_name(Job job);

// What the UI knows about the loaded model (a copy: the Session itself stays on the worker thread).
struct LoadedModel {
  ModelInfo info;
  bool mlm = false, nsp = false, classifier = false, qa = false;
  bool token_classifier = false;    // a *ForTokenClassification head (named entities, part-of-speech tags)
  QStringList token_labels;         // its labels in id order (id2label), empty without one
  bool token_types = true;          // whether inputs carry token type ids (BERT; not DistilBERT or RoBERTa)
  int max_tokens = 512;             // the model's longest input (ModelConfig::max_tokens)
  QString mask_token;               // "[MASK]" or "<mask>"; empty when the vocabulary has none
  QString cls_token, sep_token;     // "[CLS]"/"[SEP]" or "<s>"/"</s>"
  BackendRequest backend;           // what was asked for
  bool on_gpu = false;              // where it runs: a Vulkan device (a GPU failure can be moved away from)
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

  const Ptr<LoadedModel>& model() const { return model_; }  // null until a load succeeds
  bool busy() const { return pending_ > 0; }

 signals:
  void loaded(quint64 id, bertscope::gui::Ptr<bertscope::gui::LoadedModel> model);
  void tokenized(quint64 id, bertscope::gui::Ptr<bertscope::gui::ShownEncoding> encoding);
  void filled(quint64 id, bertscope::gui::Ptr<bertscope::gui::FillMaskReply> result);
  void attended(quint64 id, bertscope::gui::Ptr<bertscope::AttentionResult> result);
  void answered(quint64 id, bertscope::gui::Ptr<bertscope::QaResult> result);
  void classified(quint64 id, bertscope::gui::Ptr<bertscope::gui::ClassifyReply> result);
  void entitiesFound(quint64 id, bertscope::gui::Ptr<bertscope::gui::EntitiesReply> result);
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
  // failed(). Only Load replaces the session.
  quint64 post(Job job, std::function<Delivery(std::unique_ptr<Session>&)> work);
  void finishOne();

  QThread thread_;
  QObject* worker_ = nullptr;          // lives on thread_; owns nothing, only gives lambdas a thread
  std::unique_ptr<Session> session_;   // touched only on the worker thread
  std::array<std::atomic<quint64>, kJobCount> latest_{};
  std::atomic<quint64> next_id_{1};
  std::atomic<bool> closing_{false};
  int pending_ = 0;                    // UI thread only
  Ptr<LoadedModel> model_;
};

}  // namespace bertscope::gui
