#pragma once
// "Open from Hugging Face…" (Ctrl+Shift+O): a model id (completed from the Hub's cache and a few suggestions, with
// their sizes), a revision, and a download with a progress bar (MB/s, time left) and Cancel. The dialog is not
// modal and the download runs on its own thread: the window stays usable. Once the model is in the cache it asks
// the window to open it. installHubActions puts it (and the cache manager) into the window's File menu.
#include <QDialog>
#include <QString>

class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace bertscope::gui {

class HubDownload;
class MainWindow;

class HubDialog : public QDialog {
  Q_OBJECT
 public:
  explicit HubDialog(QWidget* parent = nullptr);

  void setModel(const QString& id, const QString& revision = QStringLiteral("main"));
  void startDownload();  // what the Download button does
  void refreshSuggestions();  // the cache may have changed

  QLineEdit* idField() const { return id_; }
  QLineEdit* revisionField() const { return revision_; }
  QListWidget* suggestions() const { return suggestions_; }
  QPushButton* downloadButton() const { return download_; }
  QPushButton* cancelButton() const { return cancel_; }
  QProgressBar* progressBar() const { return bar_; }
  QLabel* statusLabel() const { return status_; }
  HubDownload* download() const { return job_; }

 signals:
  // The model is in the cache: "id", or "id@revision"; the window opens it.
  void modelReady(const QString& argument);

 private:
  void onProgress(qint64 done, qint64 total, double bytesPerSecond, double etaSeconds, const QString& file,
                  int filesDone, int fileCount);
  void setBusy(bool busy);

  QLineEdit* id_;
  QLineEdit* revision_;
  QListWidget* suggestions_;
  QPushButton* download_;
  QPushButton* cancel_;
  QProgressBar* bar_;
  QLabel* status_;
  HubDownload* job_;
};

// Adds "Open from Hugging Face…" (Ctrl+Shift+O) and "Hugging Face cache…" to the window's File menu, after "Open
// model folder…" (into a menu of their own if there is no File menu).
void installHubActions(MainWindow* window);
// When `model` names a Hub model not yet complete in the cache (and the Hub is not switched off), shows the dialog
// downloading it, which opens it in `window` once it is there, and returns true. Otherwise false: open as usual.
bool offerHubDownload(MainWindow* window, const QString& model);

}  // namespace bertscope::gui
