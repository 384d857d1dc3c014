#pragma once
// bertviz's neuron view: for one layer, head and query token, the query vector and each key vector (this head's
// slice, as colour bars), their elementwise product, its sum scaled by 1/sqrt(d) (the score), and the softmax over
// the keys that gives the attention weights. It shows where a weight comes from. While comparing (model_compare.h),
// model B's bars for the same layer, head and query token show below model A's.
#include <QWidget>
#include <vector>

#include "engine_client.h"

class QComboBox;
class QLabel;
class QScrollArea;

namespace bertscope::gui {

// The numbers behind one query token's attention in one head. D = the head's size, T = tokens.
struct NeuronVectors {
  int layer = 0, head = 0, query = 0, head_dim = 0, tokens = 0;
  Encoding encoding;              // token texts readable
  std::vector<float> q;           // (D) the query token's query vector
  std::vector<float> keys;        // (T, D) every token's key vector
  std::vector<float> products;    // (T, D) q * k elementwise
  std::vector<double> scores;     // (T) q . k / sqrt(D)
  std::vector<double> weights;    // (T) softmax of the scores, times the head mask (0 for a head switched off)
};
// Worker thread: one pass with the hidden states kept, then the query and key projections of layer `layer`'s input
// on the host. Throws Error for a layer, head or query token out of range.
NeuronVectors neuron_vectors(BertModel& model, const Encoding& encoding, int layer, int head, int query);

class NeuronView : public QWidget {
  Q_OBJECT
 public:
  NeuronView(EngineClient* engine, QWidget* parent = nullptr);
  // The text and the map chosen in the Attention view; asks the engine when shown (head -1: none to show).
  void setInput(const QString& text, const QString& pair, int layer, int head);
  void setQuery(int token);  // an encoding index
  const Ptr<NeuronVectors>& shown() const { return shown_; }
  QComboBox* queryChoice() const { return query_; }
  const Ptr<NeuronVectors>& shownB() const { return shownB_; }  // model B's; null while not comparing
  QLabel* captionB() const { return captionB_; }

 protected:
  void showEvent(QShowEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;  // the bars narrow to fit the width, down to a pixel a unit

 private:
  void request();
  void showB(const ModelBAnswer* b);  // null: hidden
  class Canvas;
  EngineClient* engine_;
  QComboBox* query_;
  QLabel* caption_;
  Canvas* canvas_;
  QScrollArea* area_;
  QString text_, pair_;
  int layer_ = 0, head_ = 0, query_token_ = 1;
  quint64 latest_ = 0;
  bool stale_ = true;
  Ptr<NeuronVectors> shown_;
  QLabel* captionB_;
  Canvas* canvasB_;
  Ptr<NeuronVectors> shownB_;
};

}  // namespace bertscope::gui
