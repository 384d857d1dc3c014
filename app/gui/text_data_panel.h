#pragma once
// The fine-tune view's data for "Masked LM on my text": one or more UTF-8 text files, one paragraph a line (as
// `bertscope-cli pretrain --corpus` reads them), a share of whose paragraphs is held out (by line, seeded) to measure
// masked-token accuracy, and the pre-training run's folder: one the user chooses (a new or empty folder, or an earlier
// run to resume), else a free name beside the first text file.
#include <QStringList>
#include <QWidget>
#include <string>
#include <vector>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace bertscope::gui {

class TextDataPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TextDataPanel(QWidget* parent = nullptr);
  // Reads every file; false, with the reason in failed() naming the file, when one cannot be read, is empty or is
  // not text. Then no file is loaded (the files of a failed choice are not half used).
  bool loadFiles(const QStringList& paths);
  bool hasData() const { return !paragraphs_.empty(); }
  QStringList paths() const { return paths_; }
  QString summary() const;
  // The paragraphs to train on and to hold out: `share` of the lines (at least one when share > 0 and there are two
  // lines or more), chosen by `seed`, in file order. False with `error` set when there is no text.
  bool split(double share, std::uint32_t seed, std::vector<std::string>& train, std::vector<std::string>& heldout,
             QString& error) const;
  // The run folder: the one given, else a free name beside the first text file ("notes-mlm-run", "-2", ...).
  QString runFolder() const;
  // The user's choice of run folder (empty: the default again); kept when other files are chosen.
  void setRunFolder(const QString& folder);
  // Start fills in the default it used, so that a second Start resumes the same run; unlike the user's choice, it
  // follows the files: choosing other files names a folder after them again.
  void fillRunFolder(const QString& folder);
  bool runFolderChosen() const { return runFolderChosen_; }
  // Empty when `folder` can hold the run (a new or empty folder, or a run to resume); else why not, in words.
  static QString runFolderProblem(const QString& folder);
  void setEditable(bool editable);  // off while a run trains on this data

 signals:
  void failed(const QString& error);
  void changed();  // new data (or none)

 private:
  void showData();

  QListWidget* files_;
  QLineEdit* runFolder_;
  QPushButton *chooseFiles_, *chooseFolder_;
  QLabel* summary_;
  QStringList paths_;
  std::vector<std::string> paragraphs_;  // every non-blank line of every file, in order
  qint64 words_ = 0;
  bool runFolderChosen_ = false;  // the run folder was typed or chosen by the user, not filled in by Start
};

}  // namespace bertscope::gui
