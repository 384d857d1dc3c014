#include "neuron_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model_compare.h"

namespace bertscope::gui {

NeuronVectors neuron_vectors(BertModel& model, const Encoding& encoding, int layer, int head, int query) {
  const ModelConfig& config = model.config();
  const int L = config.num_hidden_layers, A = config.num_attention_heads, H = config.hidden_size, D = config.head_dim();
  const int T = int(encoding.size());
  if (layer < 0 || layer >= L || head < 0 || head >= A) throw Error("no such layer or head");
  if (query < 0 || query >= T) throw Error("no such query token");
  NeuronVectors v;
  v.layer = layer;
  v.head = head;
  v.query = query;
  v.head_dim = D;
  v.tokens = T;
  v.encoding = encoding;
  const EncoderOutput out = model.encode(single_batch(encoding), false, true);
  Backend& backend = model.backend();
  std::vector<float> x(size_t(T) * H);  // (T, H) the layer's input
  backend.download(out.layer_output(size_t(layer)), x);
  const EncoderLayerRefs& weights = model.encoder().weights().layers.at(size_t(layer));
  // Only this head's rows of the projections: out = W x + b, W (H, H) as PyTorch keeps it (out, in).
  const auto project = [&](const LinearRef& linear) {
    std::vector<float> w(size_t(H) * H), b(static_cast<size_t>(H));
    backend.download(*linear.weight, w);
    backend.download(*linear.bias, b);
    std::vector<float> y(size_t(T) * D);  // (T, D)
    for (int t = 0; t < T; ++t)
      for (int d = 0; d < D; ++d) {
        const size_t row = size_t(head) * D + d;
        double sum = b[row];
        for (int i = 0; i < H; ++i) sum += double(w[row * H + i]) * x[size_t(t) * H + i];
        y[size_t(t) * D + d] = float(sum);
      }
    return y;
  };
  const std::vector<float> queries = project(weights.query);
  v.keys = project(weights.key);
  v.q.assign(queries.begin() + size_t(query) * D, queries.begin() + size_t(query + 1) * D);
  v.products.resize(size_t(T) * D);
  v.scores.resize(size_t(T));
  const double scale = 1.0 / std::sqrt(double(D));
  for (int k = 0; k < T; ++k) {
    double dot = 0;
    for (int d = 0; d < D; ++d) {
      const float p = v.q[size_t(d)] * v.keys[size_t(k) * D + d];
      v.products[size_t(k) * D + d] = p;
      dot += p;
    }
    v.scores[size_t(k)] = dot * scale;
  }
  // One sentence, no padding: every key is attended to.
  const double top = *std::max_element(v.scores.begin(), v.scores.end());
  double total = 0;
  v.weights.resize(size_t(T));
  for (int k = 0; k < T; ++k) total += v.weights[size_t(k)] = std::exp(v.scores[size_t(k)] - top);
  const HeadMask& mask = model.head_mask();
  const double keep = mask.empty() ? 1.0 : mask.at(layer, head);
  for (double& w : v.weights) w = w / total * keep;
  return v;
}

// The bars: the query on top, then per key token its key, the product, the score and the weight.
class NeuronView::Canvas : public QWidget {
 public:
  using QWidget::QWidget;
  void setVectors(Ptr<NeuronVectors> v) {
    v_ = std::move(v);
    updateGeometry();
    resize(sizeHint());
    update();
  }
  void setAvailableWidth(int width) {  // the scroll area's: bars narrow so that every column fits, if they can
    if (width == available_) return;
    available_ = width;
    updateGeometry();
    resize(sizeHint());
    update();
  }
  QSize sizeHint() const override {
    if (!v_) return {300, 80};
    return {kFixedWidth + 2 * barWidth(), kRow * (v_->tokens + 3) + 10};
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter painter(this);
    if (!v_) {
      painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("Pick a single head in the model view."));
      return;
    }
    const NeuronVectors& v = *v_;
    const int D = v.head_dim, T = v.tokens;
    const auto largest = [](const float* x, size_t n) {
      float m = 1e-9f;
      for (size_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
      return m;
    };
    const float qk_scale = std::max(largest(v.q.data(), v.q.size()), largest(v.keys.data(), v.keys.size()));
    const float product_scale = largest(v.products.data(), v.products.size());
    const int cell = std::max(1, barWidth() / std::max(1, D));
    const auto bar = [&](int x, int y, const float* values, float scale) {
      for (int d = 0; d < D; ++d) {
        const double t = std::min(1.0, std::abs(values[d]) / double(scale));
        // Blue for positive, orange for negative, white for 0 (bertviz's colours).
        const QColor full = values[d] >= 0 ? QColor(40, 110, 220) : QColor(240, 140, 20);
        painter.fillRect(x + d * cell, y + 3, cell, kRow - 6,
                         QColor(int(255 + t * (full.red() - 255)), int(255 + t * (full.green() - 255)), int(255 + t * (full.blue() - 255))));
      }
      painter.setPen(Qt::gray);
      painter.drawRect(x, y + 3, D * cell, kRow - 6);
    };
    const auto label = [&](int i) { return QString::fromStdString(v.encoding.tokens[size_t(i)].text).trimmed(); };
    const QColor text = palette().color(QPalette::WindowText);
    const int keyX = kLabel, productX = keyX + D * cell + kGap, scoreX = productX + D * cell + kGap, weightX = scoreX + kNumber;
    painter.setPen(text);
    painter.drawText(QRect(0, 0, kLabel - 6, kRow), Qt::AlignRight | Qt::AlignVCenter, label(v.query));
    bar(keyX, 0, v.q.data(), qk_scale);
    painter.setPen(text);
    // A head switched off keeps its scores, but the mask multiplies its weights by 0: said, so the zeros make sense.
    const bool off = std::all_of(v.weights.begin(), v.weights.end(), [](double w) { return w == 0.0; });
    painter.drawText(QRect(productX, 0, 600, kRow), Qt::AlignLeft | Qt::AlignVCenter,
                     (off ? tr("← query q (layer %1, head %2, switched off: its weights are multiplied by 0)")
                          : tr("← query q (layer %1, head %2)")).arg(v.layer).arg(v.head));
    const int headerY = kRow + 4;
    painter.drawText(QRect(keyX, headerY, D * cell, kRow), Qt::AlignCenter, tr("key k"));
    painter.drawText(QRect(productX, headerY, D * cell, kRow), Qt::AlignCenter, tr("q × k"));
    painter.drawText(QRect(scoreX, headerY, kNumber, kRow), Qt::AlignCenter, tr("q·k/√%1").arg(D));
    painter.drawText(QRect(weightX, headerY, kWeight, kRow), Qt::AlignCenter, tr("softmax"));
    for (int k = 0; k < T; ++k) {
      const int y = headerY + kRow * (k + 1);
      painter.setPen(text);
      painter.drawText(QRect(0, y, kLabel - 6, kRow), Qt::AlignRight | Qt::AlignVCenter, label(k));
      bar(keyX, y, v.keys.data() + size_t(k) * D, qk_scale);
      bar(productX, y, v.products.data() + size_t(k) * D, product_scale);
      painter.setPen(text);
      painter.drawText(QRect(scoreX, y, kNumber - 6, kRow), Qt::AlignRight | Qt::AlignVCenter, QString::number(v.scores[size_t(k)], 'f', 2));
      const double w = v.weights[size_t(k)];
      painter.fillRect(weightX, y + 4, int(w * (kWeight - 50)), kRow - 8, QColor(40, 110, 220));
      painter.drawText(QRect(weightX + kWeight - 48, y, 48, kRow), Qt::AlignRight | Qt::AlignVCenter, QString::number(w, 'f', 3));
    }
  }

 private:
  static constexpr int kLabel = 90, kRow = 20, kGap = 14, kNumber = 70, kWeight = 150;
  static constexpr int kFixedWidth = kLabel + 2 * kGap + 2 * kNumber + kWeight + 20;  // everything but the two bars
  // Each bar about 256 pixels wide, narrower when the view is (every column then still shows), never under a pixel
  // a unit; up to 12 pixels a unit for small heads, so that a bar is never a sliver.
  int barWidth() const {
    if (!v_) return 0;
    const int D = std::max(1, v_->head_dim);
    int per_unit = 256 / D;
    if (available_ > 0) per_unit = std::min(per_unit, (available_ - kFixedWidth) / (2 * D));
    return D * std::clamp(per_unit, 1, 12);
  }
  Ptr<NeuronVectors> v_;
  int available_ = 0;  // 0: not told yet
};

NeuronView::NeuronView(EngineClient* engine, QWidget* parent) : QWidget(parent), engine_(engine) {
  query_ = new QComboBox(this);
  query_->setObjectName(QStringLiteral("neuronQuery"));
  caption_ = new QLabel(tr("For the map chosen in the model view: how the query token's weights come about. Bars: "
                           "blue positive, orange negative."), this);
  caption_->setWordWrap(true);
  // Model A's bars, and model B's below them while comparing, in one scrolled column.
  auto* column = new QWidget(this);
  captionB_ = new QLabel(column);
  captionB_->setWordWrap(true);
  captionB_->setTextFormat(Qt::PlainText);
  captionB_->setStyleSheet(QStringLiteral("color: #0b3a6f; font-weight: bold;"));  // the compare banner's blue
  captionB_->hide();
  canvas_ = new Canvas(column);
  canvasB_ = new Canvas(column);
  canvasB_->hide();
  for (Canvas* canvas : {canvas_, canvasB_}) canvas->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
  auto* columnLayout = new QVBoxLayout(column);
  columnLayout->setContentsMargins(0, 0, 0, 0);
  columnLayout->setSizeConstraint(QLayout::SetMinAndMaxSize);  // the column grows with its canvases
  columnLayout->addWidget(canvas_);
  columnLayout->addWidget(captionB_);
  columnLayout->addWidget(canvasB_);
  columnLayout->addStretch(1);
  auto* area = area_ = new QScrollArea(this);
  area->setWidget(column);
  area->setWidgetResizable(false);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Query token:"), this));
  top->addWidget(query_);
  top->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(top);
  layout->addWidget(caption_);
  layout->addWidget(area, 1);
  connect(query_, &QComboBox::activated, this, [this] { setQuery(query_->currentData().toInt()); });
  connect(engine_, &EngineClient::neuronsComputed, this, [this](quint64 id, Ptr<NeuronVectors> v) {
    if (id != latest_) return;
    shown_ = v;
    canvas_->setVectors(v);
    const int keep = query_token_;
    query_->clear();
    for (int i = 0; i < v->tokens; ++i)
      query_->addItem(QStringLiteral("%1 %2").arg(i).arg(QString::fromStdString(v->encoding.tokens[size_t(i)].text).trimmed()), i);
    query_->setCurrentIndex(std::clamp(keep, 0, v->tokens - 1));
    showB(engine_->comparison(Job::Neurons, id));
  });
  connect(engine_, &EngineClient::compareChanged, this, [this] {
    showB(nullptr);
    stale_ = true;  // model B's bars come with the next request
    if (isVisible()) request();
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job == Job::Neurons && id == latest_) caption_->setText(error);
  });
}

void NeuronView::showB(const ModelBAnswer* b) {
  shownB_ = b ? b->neurons : nullptr;
  canvasB_->setVectors(shownB_);
  canvasB_->setVisible(shownB_ != nullptr);
  captionB_->setVisible(b != nullptr);
  if (!b) return;
  const QString name = model_name(*engine_->modelB());
  if (!shownB_) {
    captionB_->setText(tr("Model B (%1): %2").arg(name, b->problem.isEmpty() ? tr("no vectors") : b->problem));
    return;
  }
  captionB_->setText(tr("Model B (%1): layer %2, head %3, query token %4 “%5”%6")
                         .arg(name).arg(shownB_->layer).arg(shownB_->head).arg(shownB_->query)
                         .arg(QString::fromStdString(shownB_->encoding.tokens[size_t(shownB_->query)].text).trimmed())
                         .arg(b->aligned ? QString() : tr(" (B reads the text as other tokens: its rows do not line up with A's)")));
}

void NeuronView::setInput(const QString& text, const QString& pair, int layer, int head) {
  text_ = text;
  pair_ = pair;
  layer_ = layer;
  head_ = head;
  stale_ = true;
  if (isVisible()) request();
}

void NeuronView::setQuery(int token) {
  query_token_ = token;
  stale_ = true;
  if (isVisible()) request();
}

void NeuronView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_) request();
}

void NeuronView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  // The viewport less a scroll bar's width, so that a vertical bar appearing does not bring a horizontal one.
  const int width = area_->width() - area_->verticalScrollBar()->sizeHint().width() - 2 * area_->frameWidth();
  for (Canvas* canvas : {canvas_, canvasB_}) canvas->setAvailableWidth(width);
}

void NeuronView::request() {
  stale_ = false;
  if (head_ < 0 || text_.trimmed().isEmpty()) {
    latest_ = 0;
    shown_.reset();
    canvas_->setVectors(nullptr);
    showB(nullptr);
    return;
  }
  latest_ = engine_->neurons(text_, pair_, layer_, head_, query_token_);
}

}  // namespace bertscope::gui
