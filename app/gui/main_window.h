#pragma once
// The bertscope window: a toolbar to open models and choose where they run, one tab per view, and a status bar
// that shows what the engine is doing. Settings (recent models, backend, layout) persist in QSettings.
#include <QMainWindow>
#include <QPointer>

#include "engine_client.h"

class QComboBox;
class QLabel;
class QMenu;
class QMessageBox;
class QProgressBar;
class QTabWidget;

namespace bertscope::gui {

class AttentionPage;
class ClassifyPage;
class EntitiesPage;
class FillMaskPage;
class FineTunePage;
class MessageLine;
class ModelPage;
class QaPage;
class TokenizePage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads a folder or "default" on the chosen backend. The current model stays until the new one is ready.
  void openModel(const QString& model);
  void setBackend(const BackendRequest& request);  // and reloads the current model there
  // Picks the toolbar's backend choice without reloading; false if there is no such choice (e.g. no such device).
  bool selectBackendChoice(BackendKind kind, int device);

  EngineClient* engine() const { return engine_; }
  QTabWidget* tabs() const { return tabs_; }
  MessageLine* banner() const { return banner_; }
  ModelPage* modelPage() const { return modelPage_; }
  TokenizePage* tokenizePage() const { return tokenizePage_; }
  FillMaskPage* fillMaskPage() const { return fillMaskPage_; }
  AttentionPage* attentionPage() const { return attentionPage_; }
  QaPage* qaPage() const { return qaPage_; }
  ClassifyPage* classifyPage() const { return classifyPage_; }
  EntitiesPage* entitiesPage() const { return entitiesPage_; }
  FineTunePage* fineTunePage() const { return fineTunePage_; }
  QStringList recentModels() const;
  // The status bar's warning about where the model runs (a GPU that failed its self-check); hidden when none.
  QLabel* backendWarning() const { return backendWarning_; }
  // The open "reload on the CPU?" question after a GPU failure, or null.
  QMessageBox* deviceFailureQuestion() const;
  // The open "stop fine-tuning and close?" question, or null; the notice over the tabs (an untrained model).
  QMessageBox* closeQuestion() const;
  MessageLine* modelNotice() const { return modelNotice_; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildToolBar();
  // main_window_menus.cpp: the menu bar (File, View, Help), the help text, the notice over the tabs, and the
  // question before closing mid fine-tune.
  void buildMenuBar();
  void buildModelNotice();
  void updateModelNotice();
  void showHelp();
  bool confirmClose();  // true: close now; false: a question is up (or the user said no)
  void fillBackendChoices();
  void onLoaded(const Ptr<LoadedModel>& model, bool latest);  // latest: the load asked for last
  void onDeviceFailed(Job job, const QString& error);
  void rememberRecent(const QString& folder);
  void rebuildRecentMenu();
  BackendRequest chosenBackend() const;

  EngineClient* engine_;
  QTabWidget* tabs_;
  MessageLine* banner_;
  ModelPage* modelPage_;
  TokenizePage* tokenizePage_;
  FillMaskPage* fillMaskPage_;
  AttentionPage* attentionPage_;
  QaPage* qaPage_;
  ClassifyPage* classifyPage_;
  EntitiesPage* entitiesPage_;
  FineTunePage* fineTunePage_;
  QComboBox* backend_;
  QMenu* recentMenu_;
  QLabel* modelLabel_;
  QLabel* busyLabel_;
  QLabel* backendWarning_;
  QPointer<QMessageBox> deviceQuestion_;
  std::shared_ptr<GpuVerdictStore> verdicts_;  // the self-check's verdicts, in QSettings
  QProgressBar* busy_;
  QString requested_;   // the model asked for last
  MessageLine* modelNotice_ = nullptr;
  QPointer<QMessageBox> closeQuestion_;
  bool closeConfirmed_ = false;
  quint64 loadId_ = 0;
};

}  // namespace bertscope::gui
