#include "main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "attention_page.h"
#include "classify_page.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "fine_tune_page.h"
#include "gpu/vulkan_context.h"
#include "hub_dialog.h"
#include "hub_download.h"
#include "model_compare.h"
#include "model_page.h"
#include "page_support.h"
#include "qa_page.h"
#include "settings_verdict_store.h"
#include "tokenize_page.h"

#include <cstdio>

namespace bertscope::gui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "models/recent";

QString backend_name(BackendKind kind) {
  return kind == BackendKind::Cpu ? QStringLiteral("cpu") : kind == BackendKind::Vulkan ? QStringLiteral("vulkan") : QStringLiteral("auto");
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("bertscope"));
  setAcceptDrops(true);
  engine_ = new EngineClient(this);
  banner_ = new MessageLine(this);
  banner_->setClosable(true);  // an error about a model that did not open should not stay for good
  tabs_ = new QTabWidget(this);
  modelPage_ = new ModelPage(tabs_);
  tokenizePage_ = new TokenizePage(engine_, tabs_);
  fillMaskPage_ = new FillMaskPage(engine_, tabs_);
  attentionPage_ = new AttentionPage(engine_, tabs_);
  qaPage_ = new QaPage(engine_, tabs_);
  classifyPage_ = new ClassifyPage(engine_, tabs_);
  entitiesPage_ = new EntitiesPage(engine_, tabs_);
  fineTunePage_ = new FineTunePage(tabs_);
  tabs_->addTab(modelPage_, tr("Model"));
  tabs_->addTab(tokenizePage_, tr("Tokens"));
  tabs_->addTab(fillMaskPage_, tr("Fill mask"));
  tabs_->addTab(attentionPage_, tr("Attention"));
  tabs_->addTab(qaPage_, tr("Question answering"));
  tabs_->addTab(classifyPage_, tr("Classify"));
  tabs_->addTab(entitiesPage_, tr("Entities"));
  tabs_->addTab(fineTunePage_, tr("Fine-tune"));
  connect(fineTunePage_, &FineTunePage::openModelRequested, this, &MainWindow::openModel);
  fillMaskPage_->showAdaptationOf(fineTunePage_->job());  // before/after adapting a model to the user's text

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(6, 6, 6, 6);
  layout->addWidget(banner_);
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);

  verdicts_ = std::make_shared<SettingsVerdictStore>();
  modelLabel_ = new QLabel(this);
  busyLabel_ = new QLabel(this);
  backendWarning_ = new QLabel(this);
  backendWarning_->setObjectName(QStringLiteral("backendWarning"));
  backendWarning_->setStyleSheet(QStringLiteral("color: #b00020;"));
  backendWarning_->setWordWrap(true);
  backendWarning_->hide();
  busy_ = new QProgressBar(this);
  busy_->setRange(0, 0);  // indeterminate: engine jobs do not report fractions
  busy_->setMaximumWidth(120);
  busy_->hide();
  statusBar()->addWidget(modelLabel_, 1);
  statusBar()->addWidget(backendWarning_, 2);
  statusBar()->addPermanentWidget(busyLabel_);
  statusBar()->addPermanentWidget(busy_);
  buildToolBar();
  buildMenuBar();
  buildModelNotice();

  // Sample inputs, so each view shows something the moment a model is loaded.
  tokenizePage_->setText(QStringLiteral("Unaffable cats don't play chess in Zürich."));
  fillMaskPage_->setText(sampleSentence(QStringLiteral("[MASK]")));  // the page swaps in the model's mask token
  attentionPage_->setText(QStringLiteral("The cat sat on the mat because it was tired."));
  qaPage_->setInput(QStringLiteral("Where did the cat sit?"),
                    QStringLiteral("The cat sat on the mat by the door. The dog slept in the garden."));
  classifyPage_->setText(QStringLiteral("The food was wonderful and the staff were kind."));  // one sentence: a pair is opt-in
  entitiesPage_->setText(QStringLiteral("Ada Lovelace worked with Charles Babbage in London on the Analytical Engine."));

  connect(engine_, &EngineClient::loaded, this, [this](quint64 id, Ptr<LoadedModel> model) {
    // An older load that finished before a newer one was asked for is the engine's model now: show it too.
    onLoaded(model, id == loadId_);
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job != Job::Load || id != loadId_) return;
    const QString what = requested_ == QLatin1String("default") ? tr("the default model") : requested_;
    banner_->showError(engine_->model() ? tr("Could not open %1: %2\nThe model in use is still loaded.").arg(what, error)
                                        : tr("Could not open %1: %2\nOpen a Hugging Face BERT folder (config.json, "
                                             "vocab.txt, model.safetensors) with Open… or drop it here.").arg(what, error));
  });
  connect(engine_, &EngineClient::deviceFailed, this, [this](quint64, Job job, const QString& error) { onDeviceFailed(job, error); });
  connect(engine_, &EngineClient::busyChanged, this, [this](bool busy, const QString& what) {
    busy_->setVisible(busy);
    busyLabel_->setText(busy ? what + QStringLiteral("…") : QString());
  });

  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  tabs_->setCurrentIndex(settings.value("window/tab", 2).toInt());
  if (!settings.contains("window/geometry")) resize(1200, 800);
  installHubActions(this);  // hub_dialog.cpp: File > Open from Hugging Face… (Ctrl+Shift+O), the cache manager
}

MainWindow::~MainWindow() = default;

void MainWindow::buildToolBar() {
  QToolBar* bar = addToolBar(tr("Model"));
  bar->setObjectName(QStringLiteral("modelToolBar"));
  bar->setMovable(false);
  QAction* open = bar->addAction(tr("Open model folder…"));
  open->setObjectName(QStringLiteral("openModel"));  // the File menu shares it
  open->setShortcut(QKeySequence::Open);
  connect(open, &QAction::triggered, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a Hugging Face BERT folder"),
                                                             QSettings().value("models/lastDir", QDir::homePath()).toString());
    if (folder.isEmpty()) return;
    QSettings().setValue("models/lastDir", QFileInfo(folder).absolutePath());
    openModel(folder);
  });
  recentMenu_ = new QMenu(tr("Recent"), this);
  auto* recent = new QToolButton(bar);
  recent->setText(tr("Recent"));
  recent->setMenu(recentMenu_);
  recent->setPopupMode(QToolButton::InstantPopup);
  bar->addWidget(recent);
  rebuildRecentMenu();
  QAction* builtin = bar->addAction(tr("Default model"));
  builtin->setObjectName(QStringLiteral("openDefaultModel"));
  builtin->setToolTip(tr("bertscope-default, the built-in model: a small BERT that bertscope pre-trained itself "
                        "(Help > Open the model card)"));
  connect(builtin, &QAction::triggered, this, [this] { openModel(QStringLiteral("default")); });
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Run on: "), bar));
  backend_ = new QComboBox(bar);
  fillBackendChoices();
  bar->addWidget(backend_);
  connect(backend_, &QComboBox::activated, this, [this] { setBackend(chosenBackend()); });
}

void MainWindow::fillBackendChoices() {
  backend_->addItem(tr("Automatic"), QVariantList{int(BackendKind::Auto), -1});
  backend_->addItem(tr("CPU (OpenBLAS)"), QVariantList{int(BackendKind::Cpu), -1});
  for (const auto& device : gpu::VulkanContext::list_devices())
    backend_->addItem(tr("Vulkan %1: %2 (%3)").arg(device.index).arg(QString::fromStdString(device.name), QString::fromStdString(device.type)),
                      QVariantList{int(BackendKind::Vulkan), device.index});
  QSettings settings;
  QString kind = settings.value("backend/kind", "auto").toString();
  if (kind != QLatin1String("cpu") && kind != QLatin1String("vulkan")) kind = QStringLiteral("auto");
  const int device = settings.value("backend/device", -1).toInt();
  selectBackendChoice(parse_backend_kind(kind.toStdString()), device);
}

bool MainWindow::selectBackendChoice(BackendKind kind, int device) {
  for (int i = 0; i < backend_->count(); ++i) {
    const QVariantList v = backend_->itemData(i).toList();
    if (BackendKind(v[0].toInt()) == kind && (kind != BackendKind::Vulkan || device < 0 || v[1].toInt() == device)) {
      backend_->setCurrentIndex(i);
      return true;
    }
  }
  return false;
}

BackendRequest MainWindow::chosenBackend() const {
  const QVariantList v = backend_->currentData().toList();
  BackendRequest request;
  if (v.size() == 2) {
    request.kind = BackendKind(v[0].toInt());
    request.device = v[1].toInt();
  }
  request.verdicts = verdicts_;
  return request;
}

void MainWindow::setBackend(const BackendRequest& request) {
  QSettings settings;
  settings.setValue("backend/kind", backend_name(request.kind));
  settings.setValue("backend/device", request.device);
  if (!requested_.isEmpty()) openModel(requested_);
}

void MainWindow::openModel(const QString& model) {
  if (offerHubDownload(this, model)) return;  // a Hub model not in the cache yet: downloaded with progress first
  requested_ = model;
  banner_->showNotice(tr("Loading %1…").arg(model == QLatin1String("default") ? tr("the default model") : model));
  loadId_ = engine_->load(model, chosenBackend());
}

void MainWindow::onLoaded(const Ptr<LoadedModel>& model, bool latest) {
  if (latest) banner_->clearMessage();  // an older load leaves the banner to the newer one
  const QString name = model_name(*model);
  setWindowTitle(tr("%1 — bertscope").arg(name));
  modelLabel_->setText(tr("%1 · %2 · %3 layers · on %4%5")
                           .arg(name, QString::fromStdString(model->info.architecture))
                           .arg(model->info.layers)
                           .arg(QString::fromStdString(model->info.backend),
                                model->info.untrained ? tr(" · untrained") : QString()));
  // A GPU that failed its self-check (or is used although it did): said in the status bar and on stderr.
  const QString warning = QString::fromStdString(model->info.backend_warning);
  backendWarning_->setText(warning.isEmpty() ? QString() : tr("⚠ %1").arg(warning));
  backendWarning_->setToolTip(warning);
  backendWarning_->setVisible(!warning.isEmpty());
  if (!warning.isEmpty()) std::fprintf(stderr, "bertscope: warning: %s\n", model->info.backend_warning.c_str());
  modelPage_->setModel(model);
  tokenizePage_->refresh();
  fillMaskPage_->setModel(model);
  attentionPage_->setModel(model);
  qaPage_->setModel(model);
  classifyPage_->setModel(model);
  entitiesPage_->setModel(model);
  fineTunePage_->setModel(model);
  // A Hub model is remembered by its id (and revision), so it reopens from the cache or the Hub.
  if (latest && requested_ != QLatin1String("default"))
    rememberRecent(parseHubArgument(requested_).valid() ? requested_ : QString::fromStdString(model->info.folder.string()));
}

QMessageBox* MainWindow::deviceFailureQuestion() const { return deviceQuestion_.data(); }

void MainWindow::onDeviceFailed(Job job, const QString& error) {
  std::fprintf(stderr, "bertscope: %s failed on the GPU: %s\n", qPrintable(job_name(job)), qPrintable(error));
  if (deviceQuestion_) return;  // one question for a burst of failed jobs
  const bool loading = job == Job::Load;
  const Ptr<LoadedModel>& model = engine_->model();
  if (!loading && model && !model->on_gpu) return;  // nothing to move
  const QString where = model && !loading ? QString::fromStdString(model->info.backend) : tr("the GPU");
  banner_->showError(tr("%1 failed on %2: %3").arg(job_name(job), where, error));
  // Replies from the engine keep arriving while the question is up.
  deviceQuestion_ = ask(this, QMessageBox::Warning, tr("The GPU failed"),
                        tr("%1 failed on %2:\n%3\n\n%4 Reload the model on the CPU?")
                            .arg(job_name(job), where, error,
                                 loading ? tr("The model did not load there.")
                                         : tr("The model cannot run there again until it is reloaded.")),
                        QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes, QStringLiteral("deviceFailureQuestion"),
                        [this](QMessageBox::StandardButton answer) {
                          if (answer != QMessageBox::Yes) return;
                          selectBackendChoice(BackendKind::Cpu, -1);
                          setBackend(chosenBackend());  // remembered like a choice in the toolbar; reloads the model
                        });
}

QStringList MainWindow::recentModels() const { return QSettings().value(kRecentKey).toStringList(); }

void MainWindow::rememberRecent(const QString& folder) {
  QStringList recent = recentModels();
  recent.removeAll(folder);
  recent.prepend(folder);
  while (recent.size() > kMaxRecent) recent.removeLast();
  QSettings().setValue(kRecentKey, recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = recentModels();
  for (const QString& folder : recent)
    connect(recentMenu_->addAction(folder), &QAction::triggered, this, [this, folder] { openModel(folder); });
  if (recent.isEmpty()) recentMenu_->addAction(tr("(none yet)"))->setEnabled(false);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!confirmClose()) return event->ignore();  // fine-tuning is running: the user is asked first
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("window/tab", tabs_->currentIndex());
  event->accept();  // the engine finishes its current job in EngineClient's destructor
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && event->mimeData()->urls().first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  QFileInfo dropped(event->mimeData()->urls().first().toLocalFile());
  // A dropped file (config.json, model.safetensors) means the folder it is in.
  openModel(dropped.isDir() ? dropped.absoluteFilePath() : dropped.absolutePath());
  event->acceptProposedAction();
}

}  // namespace bertscope::gui
