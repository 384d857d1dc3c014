// "Masked LM on my text" in the fine-tune view, driven offscreen: a run continuing the open model's pre-training on
// the user's text files, with its held-out accuracy, curves and Fill-mask comparison; what it says before it starts,
// after a failure and for bad files; and a resumed run that shows its whole history. (Split from
// test_gui_fine_tune_tasks, whose helpers it shares: fine_tune_gui_support.h.)
#include "fine_tune_gui_support.h"

using namespace fine_tune_test;

class TestGuiMaskedLm : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    mlm_ = prepare_test_case(dir_);
  }
  // "Masked LM on my text": text files (one paragraph a line) continue the open model's pre-training in a run folder
  // beside the first file. Held-out masked-token accuracy before and after each epoch, the loss curve, the Fill-mask
  // view's before/after table, Save as BertForMaskedLM; Cancel keeps the run's checkpoint and Start resumes it.
  void maskedLmOnMyText() {
    MainWindow window;
    QTemporaryDir texts;
    QVERIFY(load(window, start_model(texts, 13)));
    FineTunePage* page = window.fineTunePage();
    const QString first = paragraphs(texts, QStringLiteral("notes.txt"), QStringLiteral("sat on"), 48);
    const QString second = paragraphs(texts, QStringLiteral("more.txt"), QStringLiteral("likes"), 32);
    QVERIFY(page->loadTextFiles({first, second}));
    QCOMPARE(page->task(), FineTuneTask::MaskedLanguageModel);
    QVERIFY2(page->textData()->summary().startsWith(QStringLiteral("80 paragraphs (")), qPrintable(page->textData()->summary()));
    QVERIFY2(page->textData()->summary().contains(QStringLiteral(" words) in 2 files;")), qPrintable(page->textData()->summary()));
    page->setEpochs(4);
    page->setLearningRate(5e-3);
    page->setMaxLength(8);
    QVERIFY(!page->patience()->isEnabled());  // no validation score to stop early on
    auto* loss = qobject_cast<QLineSeries*>(page->lossChart()->chart()->series().at(0));
    QVERIFY(train(page));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Adapted to your text")), qPrintable(page->message()->text()));
    // The run folder: a free name beside the first file, a pre-training run with its checkpoint.
    const QString run = QDir(texts.path()).filePath(QStringLiteral("notes-mlm-run"));
    QCOMPARE(page->textData()->runFolder(), run);
    QVERIFY(QFile::exists(run + QStringLiteral("/checkpoint/state.json")));
    QVERIFY(QFile::exists(run + QStringLiteral("/curve.csv")));
    QVERIFY(loss->count() >= 3);  // a point at least at each epoch's end
    // Held-out accuracy: before training, then after each epoch.
    QTableWidget* heldout = page->heldoutScores();
    QCOMPARE(heldout->rowCount(), 5);
    QCOMPARE(heldout->verticalHeaderItem(0)->text(), QStringLiteral("Before training"));
    QCOMPARE(heldout->verticalHeaderItem(4)->text(), QStringLiteral("Epoch 4"));
    QCOMPARE(heldout->horizontalHeaderItem(0)->text(), QStringLiteral("Top-1"));
    for (int r = 0; r < 5; ++r) {
      const double top1 = heldout->item(r, 0)->text().toDouble(), top5 = heldout->item(r, 1)->text().toDouble();
      QVERIFY(top1 >= 0 && top1 <= top5 && top5 <= 1);
      QVERIFY(heldout->item(r, 4)->text().toInt() > 0);  // masked tokens
    }
    const double before5 = heldout->item(0, 1)->text().toDouble(), after5 = heldout->item(4, 1)->text().toDouble();
    QVERIFY2(after5 > before5, qPrintable(QStringLiteral("top-5 %1 -> %2").arg(before5).arg(after5)));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Held-out top-1 accuracy")), qPrintable(page->message()->text()));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Save stores the last epoch")), qPrintable(page->message()->text()));
    auto* top1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0));
    QCOMPARE(top1->name(), QStringLiteral("top-1"));  // the chart's title says "held-out"
    QCOMPARE(top1->count(), 5);
    QCOMPARE(top1->at(0).x(), 0.0);

    // The playground: the same sentence from the adapted model and from the one it started from.
    FillMaskPage* fill = window.fillMaskPage();
    fill->setText(QStringLiteral("the cat sat on the [MASK] ."));
    QVERIFY(fill->adaptedBox()->isVisibleTo(fill));
    ResultTableModel* both = fill->adaptedComparison();
    QTRY_COMPARE_WITH_TIMEOUT(both->rowCount(), 5, 30000);  // top 5
    // Each table names its models: the open one in the main table, the run and the model it started from below.
    QCOMPARE(both->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Adapted (notes-mlm-run): word"));
    QCOMPARE(both->headerData(3, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Before (start): word"));
    QTRY_COMPARE_WITH_TIMEOUT(fill->predictions()->rowCount(), 5, 30000);
    QCOMPARE(fill->predictions()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("start: word"));
    bool differ = false;
    for (int r = 0; r < 5; ++r) {
      QVERIFY(!both->index(r, 1).data().toString().isEmpty() && !both->index(r, 3).data().toString().isEmpty());
      const double after = both->index(r, 2).data(Qt::EditRole).toDouble(), before = both->index(r, 4).data(Qt::EditRole).toDouble();
      QVERIFY(after > 0 && after <= 1 && before > 0 && before <= 1);
      differ = differ || std::abs(after - before) > 1e-6;
    }
    QVERIFY(differ);
    // Compare mode on: the table above is A beside B, and the adapted model's table says it is another pair.
    auto* note = fill->adaptedBox()->findChild<QLabel*>();
    QVERIFY(note && note->text().startsWith(QStringLiteral("The model adapted to your text in notes-mlm-run")));
    window.engine()->compareWith(q(mlm_));
    QTRY_VERIFY_WITH_TIMEOUT(window.engine()->comparing(), 30000);
    fill->refresh();
    QTRY_VERIFY2_WITH_TIMEOUT(note->text().startsWith(QStringLiteral("Not A beside B: the model adapted to your text in "
                                                                     "notes-mlm-run (Fine-tune view) beside start")),
                              qPrintable(note->text()), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(fill->predictions()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(),
                              QStringLiteral("A (start): word"), 30000);
    window.engine()->stopCompare();
    QTRY_VERIFY_WITH_TIMEOUT(!window.engine()->comparing(), 30000);

    // Saved as BertForMaskedLM, which the engine and the app open as a masked-LM model.
    const fs::path saved = save(page, dir_, QStringLiteral("adapted-model"));
    QVERIFY(!saved.empty());
    QCOMPARE(read_json(saved / "config.json")["architectures"][0].get<std::string>(), std::string("BertForMaskedLM"));
    QVERIFY(Session(saved).model().has_mlm_head());
    QVERIFY(load(window, saved));
    QVERIFY(window.engine()->model() && window.engine()->model()->mlm);

    // Cancel: the run keeps its checkpoint, and Start resumes it from there.
    const QString second_run = QDir(texts.path()).filePath(QStringLiteral("long-run"));
    page->textData()->setRunFolder(second_run);
    page->setEpochs(200);
    {
      QSignalSpy progress(page->job(), &TrainingJob::progress);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(page->job()->running());
      QVERIFY(progress.wait(kWait) || progress.count() > 0);
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
      QCOMPARE(finished.first().at(0).toBool(), true);
    }
    QVERIFY2(page->message()->text().contains(QStringLiteral("Start resumes")), qPrintable(page->message()->text()));
    QVERIFY(!page->job()->hasModel());
    QVERIFY(!fill->adaptedBox()->isVisibleTo(fill));  // no adapted model any more
    const int stopped = read_json(fs::path((second_run + QStringLiteral("/checkpoint/state.json")).toStdString()))["step"].get<int>();
    QVERIFY(stopped > 0);
    {
      QSignalSpy progress(page->job(), &TrainingJob::progress);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(QTest::qWaitFor([&] { return !progress.isEmpty() && progress.last().at(0).value<TrainProgress>().step > stopped; }, kWait));
      // Resumed, not restarted: the steps up to `stopped` are the run's history (from curve.csv), then the new ones,
      // each once and in order.
      int previous = 0;
      for (const QList<QVariant>& report : progress) {
        const int step = report.at(0).value<TrainProgress>().step;
        QVERIFY2(step > previous, qPrintable(QStringLiteral("step %1 after %2").arg(step).arg(previous)));
        previous = step;
      }
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
    }
  }

  // Walkthrough findings 3, 4, 13, 14, 15: before its first Start, masked LM's results show its own layout (the
  // held-out table, no confusion matrix); a Start that fails says "failed" in the progress bar, not "starting…"; the
  // run folder Start filled in follows the next text file chosen (one the user typed stays); counts read "1 file",
  // not "1 file(s)"; at 1024 x 700 the task's name and the held-out chart's legend fit.
  void maskedLmBeforeStartAndAfterAFailure() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    auto* details = page->heldoutScores()->parentWidget()->parentWidget();  // the stacked widget in the tab widget
    auto* tabs = qobject_cast<QTabWidget*>(details);
    QVERIFY(tabs);
    QCOMPARE(tabs->tabText(0), QStringLiteral("Confusion matrix"));  // sentence classification first
    QTemporaryDir texts;
    const QString oneline = write_file(texts, QStringLiteral("oneline.txt"), "the cat sat on the mat .\n");
    QVERIFY(page->loadTextFiles({oneline}));
    QCOMPARE(tabs->tabText(0), QStringLiteral("Held-out masked-token accuracy"));
    QVERIFY(!tabs->isTabVisible(1));  // no misclassified sentences
    QCOMPARE(page->heldoutScores()->columnCount(), 5);
    QCOMPARE(page->heldoutScores()->horizontalHeaderItem(3)->text(), QStringLiteral("Baseline top-1"));
    QVERIFY(page->heldoutScores()->horizontalHeaderItem(3)->toolTip().contains(QStringLiteral("most frequent token")));
    QCOMPARE(page->validationChart()->chart()->title(), QStringLiteral("Held-out masked tokens"));
    QCOMPARE(page->validationChart()->chart()->series().at(0)->name(), QStringLiteral("top-1"));
    QVERIFY(!page->patience()->isEnabled());
    QVERIFY2(page->patience()->toolTip().contains(QStringLiteral("Save stores the last epoch")), qPrintable(page->patience()->toolTip()));
    // Counts in words.
    QVERIFY2(page->textData()->summary().startsWith(QStringLiteral("1 paragraph (7 words) in 1 file;")),
             qPrintable(page->textData()->summary()));
    QVERIFY(!page->textData()->summary().contains(QStringLiteral("(s)")));
    // At 1024 x 700: the task's name and the legend's two names fit.
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    auto* combo = page->findChild<QComboBox*>(QStringLiteral("fineTuneTask"));
    QVERIFY(combo);
    QVERIFY2(combo->fontMetrics().horizontalAdvance(combo->currentText()) + 40 <= combo->width(),
             qPrintable(QStringLiteral("%1 in %2 px").arg(combo->currentText()).arg(combo->width())));
    QVERIFY(!combo->itemData(combo->currentIndex(), Qt::ToolTipRole).toString().isEmpty());  // the long description
    QChart* chart = page->validationChart()->chart();
    const QFontMetrics legendFont(chart->legend()->font());
    int legend = 0;
    for (QAbstractSeries* series : chart->series()) legend += legendFont.horizontalAdvance(series->name()) + 2 * legendFont.height() + 8;
    QVERIFY2(legend <= chart->size().width() - 16, qPrintable(QStringLiteral("legend %1 px, chart %2 px").arg(legend).arg(chart->size().width())));
    // A Start that fails (less than one sequence of text): the bar says so.
    auto* bar = page->findChild<QProgressBar*>();
    QVERIFY(bar);
    QCOMPARE(bar->format(), QStringLiteral("not started"));
    page->setMaxLength(128);
    QSignalSpy finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(finished.wait(kWait) || finished.count() > 0);
    QVERIFY2(finished.first().at(1).toString().contains(QStringLiteral("less than one sequence")),
             qPrintable(finished.first().at(1).toString()));
    QCOMPARE(bar->format(), QStringLiteral("failed"));
    // The folder Start named after oneline.txt follows the next file chosen.
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("oneline-mlm-run")));
    const QString licenses = paragraphs(texts, QStringLiteral("licenses.txt"), QStringLiteral("sat on"), 12);
    QVERIFY(page->loadTextFiles({licenses}));
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    // The same files again: the folder Start filled in stays (Start resumes that run).
    page->textData()->fillRunFolder(QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    QVERIFY(page->loadTextFiles({licenses}));
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    // A folder the user typed stays when other files are chosen.
    auto* field = page->textData()->findChild<QLineEdit*>(QStringLiteral("runFolder"));
    QVERIFY(field);
    field->clear();
    const QString typed = QDir(texts.path()).filePath(QStringLiteral("my-run"));
    QTest::keyClicks(field, typed);
    QVERIFY(page->textData()->runFolderChosen());
    QVERIFY(page->loadTextFiles({oneline}));
    QCOMPARE(page->textData()->runFolder(), typed);
  }

  // Walkthrough findings 2 and 16: a run cancelled after its first epoch, then resumed (Start again), shows its whole
  // history from the run folder's curve.csv: the Epoch 1 row of the held-out table and the loss curve's first steps
  // stay. The held-out chart's markers are small.
  void resumedRunShowsItsWholeHistory() {
    MainWindow window;
    QTemporaryDir texts;
    QVERIFY(load(window, start_model(texts, 17)));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1280, 800)));
    QVERIFY(page->loadTextFiles({paragraphs(texts, QStringLiteral("notes.txt"), QStringLiteral("sat on"), 96)}));
    page->setEpochs(6);
    page->setLearningRate(5e-3);
    page->setMaxLength(8);
    const QString run = QDir(texts.path()).filePath(QStringLiteral("resumed-run"));
    page->textData()->setRunFolder(run);
    QTableWidget* heldout = page->heldoutScores();
    {
      QSignalSpy scored(page->job(), &TrainingJob::heldoutScored);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(QTest::qWaitFor([&] { return scored.count() >= 2 || finished.count() > 0; }, kWait));  // before, epoch 1
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
      QVERIFY(finished.first().at(0).toBool());
    }
    const int stopped = read_json(fs::path(run.toStdString()) / "checkpoint" / "state.json")["step"].get<int>();
    const int total = read_json(fs::path(run.toStdString()) / "options.json")["total_steps"].get<int>();
    QVERIFY2(stopped < total, "the run finished before it was cancelled");
    QVERIFY(heldout->rowCount() >= 2);
    QCOMPARE(heldout->verticalHeaderItem(1)->text(), QStringLiteral("Epoch 1"));
    const QString epoch1 = heldout->item(1, 0)->text(), epoch1Masked = heldout->item(1, 4)->text();
    auto* loss = qobject_cast<QLineSeries*>(page->lossChart()->chart()->series().at(0));
    QVERIFY(loss->count() > 0);
    const double firstStep = loss->at(0).x();

    QVERIFY(train(page));  // resumes, to the end
    QCOMPARE(heldout->rowCount(), 7);  // before training, epochs 1 to 6
    for (int r = 1; r <= 6; ++r) QCOMPARE(heldout->verticalHeaderItem(r)->text(), QStringLiteral("Epoch %1").arg(r));
    QCOMPARE(heldout->item(1, 0)->text(), epoch1);        // from curve.csv, as it was shown
    QCOMPARE(heldout->item(1, 4)->text(), epoch1Masked);  // the held-out tokens too
    QVERIFY(loss->count() > 0);
    QCOMPARE(loss->at(0).x(), firstStep);  // the loss curve starts where the run started, not where it resumed
    auto* top1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0));
    QCOMPARE(top1->count(), 7);
    QCOMPARE(top1->at(1).x(), 1.0);
    // Markers a few pixels across (Qt draws markerSize as the radius).
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    const int marker = marker_height(page->validationChart(), top1, 3);
    QVERIFY2(marker > 0 && marker <= 10, qPrintable(QStringLiteral("marker %1 px high").arg(marker)));
  }

  // Text that cannot be used, and run folders that cannot hold a run, are said in words; nothing is touched.
  void badTextFilesAreSaid() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir texts;
    const QString good = paragraphs(texts, QStringLiteral("good.txt"), QStringLiteral("sat on"), 20);
    QVERIFY(!page->loadTextFiles({good, write_file(texts, QStringLiteral("empty.txt"), "\n  \n")}));
    QVERIFY2(page->message()->text().contains(QStringLiteral("empty.txt is empty")), qPrintable(page->message()->text()));
    QVERIFY(!page->textData()->hasData());
    QVERIFY(!page->loadTextFiles({write_file(texts, QStringLiteral("image.png"), QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16))}));
    QVERIFY2(page->message()->text().contains(QStringLiteral("image.png is not a plain UTF-8 text file")),
             qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Choose one or more text files")), qPrintable(page->message()->text()));
    // A good file after bad ones: read as usual.
    QVERIFY(page->loadTextFiles({good}));
    QVERIFY(page->message()->text().isEmpty());
    // A run folder under a file cannot be made.
    page->textData()->setRunFolder(good + QStringLiteral("/run"));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("is a file, not a folder")), qPrintable(page->message()->text()));
    // A folder of the user's (not empty, not a run) is refused, and left as it was.
    QDir(texts.path()).mkdir(QStringLiteral("mine"));
    const QString mine = write_file(texts, QStringLiteral("mine/letter.txt"), "keep me\n");
    page->textData()->setRunFolder(QDir(texts.path()).filePath(QStringLiteral("mine")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("mine")), qPrintable(page->message()->text()));
    QCOMPARE(QDir(texts.path() + QStringLiteral("/mine")).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{QStringLiteral("letter.txt")});
    QFile kept(mine);
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("keep me\n"));
    // A model without its masked-LM head cannot be adapted: said before anything runs.
    RandomModelSpec spec = test::small_bert_spec(12, 0.02f);
    spec.labels = {"negative", "positive"};  // a sequence classifier: no masked-LM head
    const fs::path classifier = fs::path(texts.path().toStdString()) / "classifier";
    write_random_model(classifier, spec);
    QVERIFY(load(window, classifier));
    page->textData()->setRunFolder(QString());
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("masked-language-model head")), qPrintable(page->message()->text()));
  }
};

QTEST_MAIN(TestGuiMaskedLm)
#include "test_gui_masked_lm.moc"
