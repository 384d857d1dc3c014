// The fine-tune view's tasks and what issue 13 still asked of it, driven offscreen: labels named before training
// and saved as id2label/label2id; the misclassified validation sentences after training; token classification
// (named entities, parts of speech) from CoNLL and JSON-lines files with the engine's run_ner-style training, tried
// sentences with their entities highlighted before and after; question answering from SQuAD files (issue 16: EM and
// F1 per epoch, answers before and after, a *ForQuestionAnswering folder, bad files said in words); a save folder
// suggested beside the data; and a view that still fits 1024 x 700 in every task and scrolls below it.
#include "fine_tune_gui_support.h"

using namespace fine_tune_test;

class TestGuiFineTuneTasks : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    mlm_ = prepare_test_case(dir_);
  }

  // Issue 13: name the labels (0 -> negative) before training; the names are config.json's id2label and label2id,
  // and what the confusion matrix, the try table and the misclassified list say. Empty or repeated names are refused.
  void labelsAreNamedBeforeTraining() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QCOMPARE(page->task(), FineTuneTask::SentenceClassification);
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    QTableWidget* names = page->labelNames();
    QCOMPARE(names->rowCount(), 2);
    QCOMPARE(names->item(0, 0)->text(), QStringLiteral("0"));
    QCOMPARE(names->item(0, 1)->text(), QStringLiteral("30"));
    QCOMPARE(names->item(0, 2)->text(), QStringLiteral("0"));  // the file's value until renamed
    QVERIFY(names->item(0, 2)->flags() & Qt::ItemIsEditable);
    QVERIFY(!(names->item(0, 0)->flags() & Qt::ItemIsEditable));

    // Refused before anything runs: an empty name, two labels with one name.
    QVERIFY(page->setLabelName(0, QStringLiteral("  ")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("has no name")), qPrintable(page->message()->text()));
    QVERIFY(page->setLabelName(0, QStringLiteral("good")));
    QVERIFY(page->setLabelName(1, QStringLiteral("good")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Two labels are named \"good\"")), qPrintable(page->message()->text()));
    QVERIFY(!page->setLabelName(2, QStringLiteral("neutral")));

    QVERIFY(page->setLabelName(0, QStringLiteral("negative")));
    QVERIFY(page->setLabelName(1, QStringLiteral(" positive ")));  // trimmed
    page->setEpochs(2);
    page->setLearningRate(1e-3);
    QVERIFY(train(page));
    QCOMPARE(page->confusion()->horizontalHeaderItem(0)->text(), QStringLiteral("predicted: negative"));
    QCOMPARE(page->confusion()->verticalHeaderItem(1)->text(), QStringLiteral("actual: positive"));
    page->trySentence(QStringLiteral("the food was good"));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryResults()->rowCount(), 2, 30000);
    QCOMPARE(page->tryResults()->index(0, 0).data().toString(), QStringLiteral("negative"));

    // The misclassified validation sentences: every wrong one (as many as the confusion matrix's off-diagonal
    // cells count), with both names and the predicted label's probability, most confident first.
    int wrong = 0;
    for (int t = 0; t < 2; ++t)
      for (int p = 0; p < 2; ++p)
        if (t != p) wrong += page->confusion()->item(t, p)->text().toInt();
    ResultTableModel* mistakes = page->mistakes();
    QCOMPARE(mistakes->rowCount(), wrong);
    QCOMPARE(mistakes->columnCount(), 4);
    double previous = 1.0;
    for (int r = 0; r < mistakes->rowCount(); ++r) {
      const QString gold = mistakes->index(r, 1).data().toString(), predicted = mistakes->index(r, 2).data().toString();
      QVERIFY(gold != predicted);
      QVERIFY(QStringList({"negative", "positive"}).contains(gold) && QStringList({"negative", "positive"}).contains(predicted));
      QVERIFY(mistakes->index(r, 0).data().toString().startsWith(QStringLiteral("the food was")));
      const double confidence = mistakes->index(r, 3).data(Qt::EditRole).toDouble();
      QVERIFY(confidence >= 0.5 && confidence <= 1.0);  // the larger of two probabilities
      QVERIFY(confidence <= previous + 1e-12);
      previous = confidence;
    }
    auto* tabs = page->findChild<QTabWidget*>();
    QVERIFY(tabs);
    QCOMPARE(tabs->tabText(1), QStringLiteral("Misclassified (%1)").arg(wrong));

    const fs::path saved = save(page, dir_, QStringLiteral("named"));
    QVERIFY(!saved.empty());
    const nlohmann::json config = read_json(saved / "config.json");
    QCOMPARE(config["id2label"], nlohmann::json({{"0", "negative"}, {"1", "positive"}}));
    QCOMPARE(config["label2id"], nlohmann::json({{"negative", 0}, {"positive", 1}}));
  }

  // A wrong prediction is listed with its text: a run whose model cannot have learned anything (no training
  // signal: one step at a tiny learning rate) gets about half the validation sentences wrong, and lists each.
  void misclassifiedListsEveryWrongSentence() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    page->setEpochs(1);
    page->setLearningRate(1e-6);
    QVERIFY(train(page));
    int wrong = 0;
    for (int t = 0; t < 2; ++t)
      for (int p = 0; p < 2; ++p)
        if (t != p) wrong += page->confusion()->item(t, p)->text().toInt();
    QVERIFY(wrong > 0);
    QCOMPARE(page->mistakes()->rowCount(), wrong);
  }

  // Token classification from CoNLL files (train and validation), as `train --task ner` trains: the tags sorted,
  // entity scores per type, sentences with wrongly tagged words, a tag per word when trying a sentence, and a saved
  // BertForTokenClassification folder.
  void tokenClassificationFromConll() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    auto* task = page->findChild<QComboBox*>(QStringLiteral("fineTuneTask"));
    QVERIFY(task);
    QCOMPARE(task->count(), 4);  // sentence classification, token classification, question answering, masked LM
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("train.conll"), 40)));
    QCOMPARE(page->task(), FineTuneTask::TokenClassification);
    QCOMPARE(task->currentData().toInt(), int(FineTuneTask::TokenClassification));
    QTableWidget* tags = page->taggedData()->tags();
    QCOMPARE(tags->rowCount(), 4);  // B-LOC B-PER I-PER O
    QCOMPARE(tags->item(3, 0)->text(), QStringLiteral("O"));
    QCOMPARE(tags->item(3, 1)->text(), QStringLiteral("120"));
    QVERIFY2(page->taggedData()->summary().contains(QStringLiteral("40 sentences")), qPrintable(page->taggedData()->summary()));
    QVERIFY(page->loadTaggedValidation(conll(dir_, QStringLiteral("dev.conll"), 10, 40)));
    QVERIFY(page->taggedData()->summary().contains(QStringLiteral("validation: 10 sentences from the file")));
    page->setEpochs(3);
    page->setLearningRate(2e-3);
    QVERIFY(train(page));
    QCOMPARE(page->validationChart()->chart()->series().size(), 2);
    auto* f1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(1));
    QCOMPARE(f1->name(), QStringLiteral("entity F1"));
    QCOMPARE(f1->count(), 3);
    QCOMPARE(page->confusion()->rowCount(), 2);  // LOC, PER
    QCOMPARE(page->confusion()->verticalHeaderItem(0)->text(), QStringLiteral("LOC"));
    QCOMPARE(page->confusion()->horizontalHeaderItem(2)->text(), QStringLiteral("F1"));
    QCOMPARE(page->mistakes()->columnCount(), 3);
    for (int r = 0; r < page->mistakes()->rowCount(); ++r)
      QVERIFY(page->mistakes()->index(r, 1).data().toString() != page->mistakes()->index(r, 2).data().toString());
    page->trySentence(QStringLiteral("Ada Smith lives in Oslo ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 6, 30000);
    QCOMPARE(page->tryTags()->index(4, 0).data().toString(), QStringLiteral("Oslo"));
    const QStringList known{"B-LOC", "B-PER", "I-PER", "O"};
    for (int r = 0; r < 6; ++r) {
      QVERIFY(known.contains(page->tryTags()->index(r, 1).data().toString()));
      QVERIFY(known.contains(page->tryTags()->index(r, 2).data().toString()));
    }
    // The entities highlighted as the Entities view shows them: each word tagged B-/I- on its type's colour, the
    // others plain, as the fine-tuned model tags the sentence and as the model did before training.
    TaggedTryView* entities = page->tryEntities();
    QVERIFY(entities->isVisibleTo(page));
    const QString sentence = QStringLiteral("Ada Smith lives in Oslo .");
    const QStringList words = sentence.split(QLatin1Char(' '));
    int coloured = 0;
    for (auto [view, column] : {std::pair{entities->after(), 1}, {entities->before(), 2}}) {
      const auto chars = highlighted_characters(view);
      QString plain;
      for (const auto& [c, colour] : chars) plain += c;
      QCOMPARE(plain, sentence);
      for (int w = 0, at = 0; w < words.size(); at += int(words[w++].size()) + 1) {
        const QString tag = page->tryTags()->index(w, column).data().toString();
        const QColor expected = tag == QLatin1String("O") ? QColor() : entities->palette().color(tag);
        coloured += expected.isValid();
        for (int c = 0; c < words[w].size(); ++c)
          QVERIFY2(chars[size_t(at + c)].second == expected, qPrintable(words[w] + QLatin1Char('/') + tag));
      }
    }
    QVERIFY(coloured > 0);  // the check above saw entities, not only plain words
    QVERIFY(entities->palette().types() == QStringList({"LOC", "PER"}));

    const fs::path saved = save(page, dir_, QStringLiteral("tagger"));
    QVERIFY(!saved.empty());
    const nlohmann::json config = read_json(saved / "config.json");
    QCOMPARE(config["architectures"][0].get<std::string>(), std::string("BertForTokenClassification"));
    QCOMPARE(config["id2label"], nlohmann::json({{"0", "B-LOC"}, {"1", "B-PER"}, {"2", "I-PER"}, {"3", "O"}}));
  }

  // JSON lines, a validation share of the training file instead of a second file, and data that cannot train a
  // tagger said in words before anything runs.
  void tokenClassificationFromJsonLinesAndBadData() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QByteArray lines;
    for (int i = 0; i < 20; ++i)
      lines += QStringLiteral("{\"tokens\": [\"the\", \"dog\", \"runs\"], \"ner_tags\": [\"DET\", \"NOUN\", \"VERB\"]}\n").toUtf8();
    QVERIFY(page->loadTaggedFile(write_file(dir_, QStringLiteral("pos.jsonl"), lines)));
    QVERIFY(page->taggedData()->summary().contains(QStringLiteral("Not entity tags")));
    page->setEpochs(1);
    QVERIFY(train(page));  // 20% of 20 sentences held out
    QVERIFY2(page->message()->text().contains(QStringLiteral("Training finished")), qPrintable(page->message()->text()));
    QCOMPARE(page->confusion()->rowCount(), 3);  // DET NOUN VERB
    QCOMPARE(qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0))->name(), QStringLiteral("accuracy"));
    QCOMPARE(qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(1))->name(), QStringLiteral("mean F1"));
    // Parts of speech are no entities: the tried sentence is a table of tags, nothing highlighted.
    QVERIFY(!page->tryEntities()->isVisibleTo(page));
    page->trySentence(QStringLiteral("the dog runs"));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 3, 30000);

    // A validation tag the training data never has; a file of one tag; a file that is not tagged at all.
    QVERIFY(page->loadTaggedValidation(write_file(dir_, QStringLiteral("odd.jsonl"),
                                                  "{\"tokens\": [\"a\", \"cat\"], \"ner_tags\": [\"DET\", \"ADJ\"]}\n")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("line 1: the tag \"ADJ\" never occurs")), qPrintable(page->message()->text()));
    QVERIFY(page->loadTaggedValidation(QString()));
    QVERIFY(page->loadTaggedFile(write_file(dir_, QStringLiteral("one-tag.conll"), "a O\nb O\n\nc O\n")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("two or more tags")), qPrintable(page->message()->text()));
    QVERIFY(!page->loadTaggedFile(write_file(dir_, QStringLiteral("untagged.conll"), "just\nwords\n")));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("line 1")), qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
  }

  // Issue 16: question answering from SQuAD files, as `train --task qa` trains: the counts and the skipped entry by
  // id, exact match and F1 per epoch (SQuAD v2.0's extra scores with unanswerable questions), a question tried on a
  // context before and after, and a saved folder that opens as a question-answering model.
  void questionAnsweringFromSquad() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("squad-train.json"), 24, 0, 2)));
    QCOMPARE(page->task(), FineTuneTask::QuestionAnswering);
    const QString summary = page->qaData()->summary();
    QVERIFY2(summary.contains(QStringLiteral("50 questions on 24 paragraphs, 2 unanswerable")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("SQuAD v2.0")), qPrintable(summary));
    QPlainTextEdit* skipped = page->qaData()->skippedEntries();
    QVERIFY(skipped->isVisibleTo(page->qaData()));
    QVERIFY2(skipped->toPlainText().contains(QStringLiteral("bad-start")), qPrintable(skipped->toPlainText()));
    // Validation questions as Hugging Face datasets write them (JSON lines).
    QByteArray lines;
    for (const char* person : {"Ada", "Grace", "Alan"}) {
      const QString context = QStringLiteral("%1 lives in Rome. %1 works as a pilot.").arg(QLatin1String(person));
      lines += QStringLiteral("{\"id\": \"v-%1\", \"question\": \"Where does %1 live?\", \"context\": \"%2\", "
                              "\"answers\": {\"text\": [\"Rome\"], \"answer_start\": [%3]}}\n")
                   .arg(QLatin1String(person), context).arg(context.indexOf(QStringLiteral("Rome"))).toUtf8();
    }
    QVERIFY(page->loadQaValidation(write_file(dir_, QStringLiteral("squad-dev.jsonl"), lines)));
    QVERIFY2(page->qaData()->summary().contains(QStringLiteral("validation: 3 questions on 3 paragraphs, 0 unanswerable from the file")),
             qPrintable(page->qaData()->summary()));
    page->setEpochs(2);
    page->setLearningRate(1e-3);
    QVERIFY(train(page));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Training finished. Try a question below")), qPrintable(page->message()->text()));
    const QList<QAbstractSeries*> series = page->validationChart()->chart()->series();
    auto* exact = qobject_cast<QLineSeries*>(series.at(0));
    auto* f1 = qobject_cast<QLineSeries*>(series.at(1));
    QCOMPARE(exact->name(), QStringLiteral("exact match"));
    QCOMPARE(f1->name(), QStringLiteral("F1"));
    QCOMPARE(exact->count(), 2);
    QCOMPARE(f1->count(), 2);
    // In percent, as the official script and the scores table give them (walkthrough finding: the table said percent
    // beside a chart from 0 to 1), on an axis from 0 to 100.
    for (QLineSeries* s : {exact, f1})
      for (const QPointF& p : s->points()) QVERIFY(p.y() >= 0 && p.y() <= 100);
    QVERIFY(f1->at(1).y() >= exact->at(1).y());  // a token F1 is never below the exact match
    auto* percent = qobject_cast<QValueAxis*>(page->validationChart()->chart()->axes(Qt::Vertical).value(0));
    QVERIFY(percent && percent->min() < 0 && percent->min() > -10 && percent->max() > 100 && percent->max() < 110);
    QCOMPARE(page->validationChart()->chart()->title(), QStringLiteral("Validation (percent)"));
    // The scores table: the official v2.0 script's scores (the training file has unanswerable questions).
    QTableWidget* scores = page->confusion();
    QCOMPARE(scores->horizontalHeaderItem(0)->text(), QStringLiteral("SQuAD v2.0 (percent)"));
    QCOMPARE(scores->verticalHeaderItem(0)->text(), QStringLiteral("Exact match"));
    QCOMPARE(scores->item(0, 0)->text().toDouble(), std::round(exact->at(1).y() * 100) / 100);
    QCOMPARE(scores->item(1, 0)->text().toDouble(), std::round(f1->at(1).y() * 100) / 100);
    QCOMPARE(scores->item(2, 0)->text(), QStringLiteral("3"));  // questions
    QVERIFY(scores->rowCount() > 3);                            // HasAns, NoAns, best thresholds

    // A question on a context: the fine-tuned model's answer and the starting model's, each a span of the context.
    QVERIFY(page->qaTry()->isVisibleTo(page));
    const QString context = QStringLiteral("Ada lives in Oslo. Ada works as a baker.");
    page->tryQuestion(QStringLiteral("Where does Ada live?"), context);
    ResultTableModel* answers = page->qaTry()->answers();
    QTRY_COMPARE_WITH_TIMEOUT(answers->rowCount(), 2, 30000);
    QCOMPARE(answers->index(0, 0).data().toString(), QStringLiteral("Fine-tuned"));
    QCOMPARE(answers->index(1, 0).data().toString(), QStringLiteral("Before training"));
    for (int r = 0; r < 2; ++r) {
      const QString text = answers->index(r, 1).data().toString();
      const QStringList span = answers->index(r, 3).data().toString().split(QChar(0x2013));
      QCOMPARE(span.size(), 2);
      QCOMPARE(context.mid(span[0].toInt(), span[1].toInt() - span[0].toInt()), text);
      const double score = answers->index(r, 2).data(Qt::EditRole).toDouble();
      QVERIFY(score > 0 && score <= 1);
    }

    // Saved as Hugging Face's *ForQuestionAnswering, which the engine and the app open as a question answerer.
    const fs::path saved = save(page, dir_, QStringLiteral("qa-model"));
    QVERIFY(!saved.empty());
    QCOMPARE(read_json(saved / "config.json")["architectures"][0].get<std::string>(), std::string("BertForQuestionAnswering"));
    QVERIFY(Session(saved).model().has_qa_head());
    QVERIFY(load(window, saved));
    QVERIFY(window.engine()->model() && window.engine()->model()->qa);
    // Another model is open: the run's charts and answers were the other model's, and go.
    QCOMPARE(exact->count(), 0);
    QCOMPARE(f1->count(), 0);
    QCOMPARE(answers->rowCount(), 0);
  }

  // SQuAD files that cannot be used are said in words, and leave the other tasks and the loaded data working.
  void badSquadFilesAreSaid() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(!page->loadQaFile(write_file(dir_, QStringLiteral("broken.json"), "{\"data\": [{\"paragraphs\": [")));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("broken.json")), qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Choose a file of SQuAD questions")), qPrintable(page->message()->text()));
    // Every entry bad: the first one's id and why.
    QVERIFY(!page->loadQaFile(write_file(dir_, QStringLiteral("all-bad.jsonl"),
                                          "{\"id\": \"x1\", \"question\": \"Who?\", \"context\": \"Ada is here.\", "
                                          "\"answers\": {\"text\": [\"Bob\"], \"answer_start\": [0]}}\n")));
    QVERIFY2(page->message()->text().contains(QStringLiteral("no usable questions")) &&
                 page->message()->text().contains(QStringLiteral("x1")),
             qPrintable(page->message()->text()));
    // A good training file, then a broken validation file: the training data stays, validation is held out again.
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("squad-ok.json"), 6, 0, 0)));
    QVERIFY(!page->loadQaValidation(write_file(dir_, QStringLiteral("dev-broken.json"), "not json at all")));
    QVERIFY(page->message()->isError());
    QVERIFY(page->qaData()->hasData());
    QVERIFY2(page->qaData()->summary().contains(QStringLiteral("validation: the validation share")), qPrintable(page->qaData()->summary()));
    QVERIFY(page->loadQaValidation(QString()));
    // The other tasks still load their data.
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("after-squad.conll"), 4)));
    QCOMPARE(page->task(), FineTuneTask::TokenClassification);
    QVERIFY(!page->message()->isError());
  }

  // Save… suggested a folder in the process's working directory (a source tree, or "/"): now a free name beside the
  // data, which saving never replaces.
  void saveIsSuggestedBesideTheData() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir data;
    QVERIFY(page->loadCsv(numbered_reviews(data, 10)));
    QCOMPARE(page->suggestedSaveFolder(), data.filePath(QStringLiteral("fine-tuned-model")));
    QVERIFY(QDir(data.path()).mkdir(QStringLiteral("fine-tuned-model")));
    QCOMPARE(page->suggestedSaveFolder(), data.filePath(QStringLiteral("fine-tuned-model-2")));
    QTemporaryDir tagged;
    QVERIFY(page->loadTaggedFile(conll(tagged, QStringLiteral("t.conll"), 4)));
    QCOMPARE(page->suggestedSaveFolder(), tagged.filePath(QStringLiteral("fine-tuned-model")));
  }

  // Export training script (issue 16): the button writes the job set up in the view as `bertscope-cli train
  // --export-script` does, for each task: Python that py_compile accepts, whose JOB carries the task, the model, the
  // data files, the columns and label names, the hyper-parameters and the seed. A job without its training file says
  // what is missing and writes nothing.
  void exportTrainingScript() {
    if (!QFileInfo::exists(QStringLiteral("/usr/bin/python3"))) QSKIP("no /usr/bin/python3");
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir out, data;
    const std::string model = fs::absolute(mlm_).lexically_normal().string();
    auto path = [](const QString& p) { return QFileInfo(p).absoluteFilePath().toStdString(); };
    bool compiled = false;

    page->setTask(FineTuneTask::TokenClassification);
    const QString none = out.filePath(QStringLiteral("none.py"));
    QVERIFY(!page->exportScript(none));
    QVERIFY(!QFileInfo::exists(none));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("no training file yet; choose a CoNLL")), qPrintable(page->message()->text()));

    // Sentence classification with renamed labels, through the button and its Save dialog (train.py beside the data).
    const QString csv = numbered_reviews(data, 10);
    QVERIFY(page->loadCsv(csv));
    QVERIFY(page->setLabelName(0, QStringLiteral("negative")));
    QVERIFY(page->setLabelName(1, QStringLiteral("positive")));
    page->setEpochs(4);
    page->setLearningRate(3e-5);
    page->setMaxLength(64);
    page->setPatience(2);
    auto* seed = page->findChild<QSpinBox*>(QStringLiteral("seed"));
    QVERIFY(seed);
    seed->setValue(7);
    const QString byButton = data.filePath(QStringLiteral("train.py"));  // the suggestion, taken
    QString suggested;
    QTimer answer;  // the dialog is modal: answer it from inside its own event loop
    connect(&answer, &QTimer::timeout, this, [&] {
      for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* dialog = qobject_cast<QFileDialog*>(w); dialog && dialog->isVisible()) {
          answer.stop();
          suggested = dialog->selectedFiles().value(0);
          static_cast<QDialog*>(dialog)->accept();  // QFileDialog::accept() checks the name, asks about replacing
        }
    });
    answer.start(50);
    QVERIFY(page->exportScriptButton()->isEnabled());
    page->exportScriptButton()->click();
    answer.stop();
    QCOMPARE(suggested, byButton);
    QVERIFY2(QFileInfo::exists(byButton), qPrintable(page->message()->text()));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Wrote ") + byButton), qPrintable(page->message()->text()));
    nlohmann::json job = python_job(byButton, &compiled);
    QVERIFY(compiled);
    QString wrong = job_differences(job, {{"task", "classification"}, {"model", model}, {"revision", ""},
                                          {"train_file", path(csv)}, {"validation_file", ""}, {"validation_share", 0.2},
                                          {"text_column", "text"}, {"label_column", "label"}, {"delimiter", ","},
                                          {"has_header", true}, {"labels", {"0", "1"}}, {"label_names", {"negative", "positive"}},
                                          {"out", path(data.filePath(QStringLiteral("fine-tuned-model")))},
                                          {"epochs", 4}, {"learning_rate", 3e-5}, {"max_length", 64}, {"seed", 7}, {"patience", 2}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Token classification with a validation file.
    const QString train = conll(data, QStringLiteral("export.conll"), 10), dev = conll(data, QStringLiteral("export-dev.conll"), 4, 10);
    QVERIFY(page->loadTaggedFile(train));
    QVERIFY(page->loadTaggedValidation(dev));
    const QString ner = out.filePath(QStringLiteral("ner.py"));
    QVERIFY2(page->exportScript(ner), qPrintable(page->message()->text()));
    job = python_job(ner, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "ner"}, {"model", model}, {"train_file", path(train)}, {"validation_file", path(dev)},
                                  {"validation_share", 0}, {"labels", {"B-LOC", "B-PER", "I-PER", "O"}}, {"epochs", 4},
                                  {"max_length", 64}, {"seed", 7}, {"patience", 2}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Question answering: the windows a run here uses.
    const QString squad = squad_file(data, QStringLiteral("export-squad.json"), 6, 0, 1);
    QVERIFY(page->loadQaFile(squad));
    const QString qa = out.filePath(QStringLiteral("qa.py"));
    QVERIFY2(page->exportScript(qa), qPrintable(page->message()->text()));
    job = python_job(qa, &compiled);
    QVERIFY(compiled);
    const QaOptions windows = qa_training_options(std::min(64, window.engine()->model()->max_tokens));
    wrong = job_differences(job, {{"task", "qa"}, {"train_file", path(squad)}, {"validation_share", 0.2},
                                  {"max_length", windows.max_seq_len}, {"doc_stride", windows.doc_stride}, {"seed", 7}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Masked LM on my text: the text files; no early stopping (the view has none for it).
    const QString a = paragraphs(data, QStringLiteral("export-a.txt"), QStringLiteral("sat on"), 6),
                  b = paragraphs(data, QStringLiteral("export-b.txt"), QStringLiteral("likes"), 6);
    QVERIFY(page->loadTextFiles({a, b}));
    const QString mlm = out.filePath(QStringLiteral("mlm.py"));
    QVERIFY2(page->exportScript(mlm), qPrintable(page->message()->text()));
    job = python_job(mlm, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "mlm"}, {"model", model}, {"text_files", {path(a), path(b)}},
                                  {"validation_share", 0.2}, {"epochs", 4}, {"learning_rate", 3e-5}, {"max_length", 64},
                                  {"patience", 0}, {"out", path(data.filePath(QStringLiteral("adapted-model")))}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // A model from the Hub's cache is named by its id and the commit it was at, which any machine can download.
    const fs::path snapshot = fs::path(out.path().toStdString()) / "hub" / "models--someone--tiny-bert" / "snapshots" / "0123abcd";
    fs::create_directories(snapshot.parent_path());
    fs::copy(mlm_, snapshot, fs::copy_options::recursive);
    QVERIFY(load(window, snapshot));
    const QString hub = out.filePath(QStringLiteral("hub.py"));
    QVERIFY2(page->exportScript(hub), qPrintable(page->message()->text()));
    job = python_job(hub, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "mlm"}, {"model", "someone/tiny-bert"}, {"revision", "0123abcd"}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));
  }

  // Walkthrough findings: with a token-classification run's results on screen (charts, scores per entity type, a
  // tried sentence highlighted) and the message line's banner above them, the view still fits 1024 x 700: no scroll
  // bar; the Validation chart's y axis has room for each tick's label (labels elide to "…" when ticks are closer than
  // a line of text), and its markers are small.
  void nerResultsFit1024x700() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("fit-ner.conll"), 30)));
    page->setEpochs(2);
    page->setLearningRate(2e-3);
    QVERIFY(train(page));
    page->trySentence(QStringLiteral("Ada Smith lives in Oslo ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 6, 30000);
    QVERIFY(page->tryEntities()->isVisibleTo(page));
    QVERIFY(page->message()->isVisible() && !page->message()->text().isEmpty());  // the banner above the charts
    window.resize(1024, 700);
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    QCOMPARE(window.size(), QSize(1024, 700));
    QScrollArea* scroll = page->scrollArea();
    QVERIFY2(!scroll->verticalScrollBar()->isVisible() && !scroll->horizontalScrollBar()->isVisible(),
             qPrintable(QStringLiteral("content needs %1 x %2, the view has %3 x %4")
                            .arg(scroll->widget()->minimumSizeHint().width()).arg(scroll->widget()->minimumSizeHint().height())
                            .arg(scroll->viewport()->width()).arg(scroll->viewport()->height())));
    QChart* chart = page->validationChart()->chart();
    auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).value(0));
    QVERIFY(y);
    const double pixelsPerTick = chart->plotArea().height() * y->tickInterval() / (y->max() - y->min());
    const int lineHeight = QFontMetrics(y->labelsFont()).height();
    QVERIFY2(pixelsPerTick >= lineHeight, qPrintable(QStringLiteral("%1 px between ticks, labels %2 px high").arg(pixelsPerTick).arg(lineHeight)));
    for (QAbstractSeries* series : chart->series()) {
      auto* line = qobject_cast<QLineSeries*>(series);
      QVERIFY(line && line->pointsVisible());
      QVERIFY2(line->markerSize() <= 6, qPrintable(line->name()));
    }
    // A chart at its smallest keeps its labels too: fewer ticks, not elided ones.
    QLineSeries scores;
    QChartView* small = chart_view(QStringLiteral("Validation"), {&scores}, QStringLiteral("epoch"), nullptr);
    small->resize(small->minimumSize());
    small->show();
    QVERIFY(QTest::qWaitForWindowExposed(small));
    fit_axes(small, 3.4, -0.05, 1.05);
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    auto* smallY = qobject_cast<QValueAxis*>(small->chart()->axes(Qt::Vertical).value(0));
    const double smallPixels = small->chart()->plotArea().height() * smallY->tickInterval() / (smallY->max() - smallY->min());
    QVERIFY2(smallPixels >= lineHeight, qPrintable(QStringLiteral("%1 px between ticks at the smallest").arg(smallPixels)));
    QCOMPARE(smallY->min(), -0.05);
    QCOMPARE(smallY->max(), 1.05);
    small->chart()->removeSeries(&scores);
    delete small;
  }

  // Every task's view fits 1024 x 700 without scroll bars, and scroll (rather than squeeze) at 800 x 600.
  void bothTasksFitAndScroll() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    auto settle = [] { for (int i = 0; i < 5; ++i) QCoreApplication::processEvents(); };
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("fit.conll"), 10)));
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("fit.json"), 10, 0, 1)));  // a skipped entry listed too
    QVERIFY(page->loadTextFiles({paragraphs(dir_, QStringLiteral("fit-a.txt"), QStringLiteral("sat on"), 10),
                                 paragraphs(dir_, QStringLiteral("fit-b.txt"), QStringLiteral("likes"), 10)}));
    for (FineTuneTask task : {FineTuneTask::SentenceClassification, FineTuneTask::TokenClassification,
                              FineTuneTask::QuestionAnswering, FineTuneTask::MaskedLanguageModel}) {
      page->setTask(task);
      window.resize(1024, 700);
      settle();
      QCOMPARE(window.size(), QSize(1024, 700));
      QVERIFY(!page->scrollArea()->horizontalScrollBar()->isVisible() && !page->scrollArea()->verticalScrollBar()->isVisible());
      for (QGroupBox* box : page->findChildren<QGroupBox*>())
        QVERIFY2(box->width() >= box->minimumSizeHint().width() && box->height() >= box->minimumSizeHint().height(),
                 qPrintable(box->title()));
      window.resize(800, 600);
      settle();
      QVERIFY(page->scrollArea()->horizontalScrollBar()->isVisible() || page->scrollArea()->verticalScrollBar()->isVisible());
    }
  }
};

QTEST_MAIN(TestGuiFineTuneTasks)
#include "test_gui_fine_tune_tasks.moc"
