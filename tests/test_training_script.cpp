// Export training script: the script for Hugging Face's Trainer is valid Python (py_compile), carries the job exactly
// (its JOB literal equals the job), and its data readers, which run without transformers, read the training files
// as bertscope's own readers do: CSV columns, CoNLL with IOB1 tags, SQuAD v2.0, text files a paragraph a line (the
// masked-LM job). Running the whole script needs
// transformers, which Debian does not package; that part is not run here.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/squad.h"
#include "data/tagged.h"
#include "train/training_script.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// Runs python3 with `code`, the script's folder on sys.path; returns stdout, failing the test on a non-zero exit.
QByteArray python(const fs::path& folder, const QString& code) {
  QProcess p;
  p.setWorkingDirectory(QString::fromStdString(folder.string()));
  p.start("/usr/bin/python3", {"-c", "import sys; sys.path.insert(0, '.')\n" + code});
  if (!p.waitForFinished(60000)) return "timeout";
  const QByteArray err = p.readAllStandardError();
  if (p.exitCode() != 0) qWarning("python3: %s", err.constData());
  return p.exitCode() == 0 ? p.readAllStandardOutput() : QByteArray("failed: ") + err;
}

void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

}  // namespace

class TestTrainingScript : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path dir_;

 private slots:
  void initTestCase() {
    if (!fs::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3");
    dir_ = tmp_.path().toStdString();
  }

  void literalsAreExactPython() {
    const nlohmann::json v = {{"s", "a \"quoted\" \\ back\nslash \xc3\xa9 \xf0\x9f\x98\x80"}, {"t", true}, {"n", nullptr},
                              {"x", 1.5e-5}, {"list", {1, "two", false}}};
    write(dir_ / "literal.py", "V = " + python_literal(v, 4) + "\n");
    const QByteArray out = python(dir_, "import json, literal; print(json.dumps(literal.V, sort_keys=True))");
    QCOMPARE(nlohmann::json::parse(out.toStdString()), v);
  }

  void everyTaskCompilesAndCarriesTheJob() {
    for (const char* task : {"classification", "ner", "qa", "mlm"}) {
      TrainingJob job;
      job.task = task;
      if (job.task == "mlm") job.text_files = {(dir_ / "a.txt").string(), (dir_ / "b \xc3\xa9.txt").string()};
      if (job.task == "classification") job.label_names = {"negative", "positive"};
      job.model = "dslim/bert-base-NER";
      job.train_file = (dir_ / "train.data").string();
      job.labels = {"O", "B-PER", "I-PER"};
      job.epochs = 4;
      job.learning_rate = 3e-5;
      job.seed = 42;
      job.max_length = 384;
      job.out = (dir_ / "out \xc3\xa9").string();
      const std::string module = std::string("job_") + task;
      write(dir_ / (module + ".py"), training_script(job));
      QProcess compile;
      compile.start("/usr/bin/python3", {"-m", "py_compile", QString::fromStdString((dir_ / (module + ".py")).string())});
      QVERIFY(compile.waitForFinished(60000));
      QVERIFY2(compile.exitCode() == 0, compile.readAllStandardError().constData());
      const QByteArray out = python(dir_, QString::fromStdString("import json, " + module + " as m; print(json.dumps(m.JOB))"));
      QCOMPARE(nlohmann::json::parse(out.toStdString()), training_job_json(job));
    }
    TrainingJob bad;
    bad.task = "summarization";
    QVERIFY_THROWS_EXCEPTION(Error, training_script(bad));
  }

  // A model from the Hub with --revision: the script loads that same revision (branch, tag or commit) of the model
  // and its tokenizer, not whatever "main" is by then; a folder or no revision passes none.
  void theScriptLoadsTheModelsRevision() {
    TrainingJob job;
    job.task = "ner";
    job.model = "dslim/bert-base-NER";
    job.revision = "a1b2c3d";
    job.patience = 3;
    const std::string text = training_script(job);
    write(dir_ / "hub_job.py", text);
    QCOMPARE(nlohmann::json::parse(python(dir_, "import json, hub_job as m; print(json.dumps(m.pretrained_options(m.JOB)))").toStdString()),
             nlohmann::json({{"revision", "a1b2c3d"}}));
    QCOMPARE(nlohmann::json::parse(python(dir_, "import json, hub_job as m; print(json.dumps([m.JOB['revision'], m.JOB['patience']]))").toStdString()),
             nlohmann::json({"a1b2c3d", 3}));
    // Every from_pretrained call (tokenizer and the four model classes) takes those options.
    const std::string call = ".from_pretrained(job[\"model\"]", with_options = call + ", **hub";
    size_t calls = 0, with_revision = 0;
    for (size_t at = text.find(call); at != std::string::npos; at = text.find(call, at + 1)) {
      ++calls;
      with_revision += text.compare(at, with_options.size(), with_options) == 0;
    }
    QCOMPARE(calls, size_t(5));
    QCOMPARE(with_revision, calls);
    job.revision.clear();
    write(dir_ / "folder_job.py", training_script(job));
    QCOMPARE(nlohmann::json::parse(python(dir_, "import json, folder_job as m; print(json.dumps(m.pretrained_options(m.JOB)))").toStdString()),
             nlohmann::json::object());
  }

  void readersAgreeWithBertscope() {
    TrainingJob job;
    job.task = "ner";
    write(dir_ / "readers.py", training_script(job));
    // CoNLL with IOB1 tags, a -DOCSTART- line and blank lines.
    const std::string conll =
        "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n\n"
        "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n\n";
    write(dir_ / "train.conll", conll);
    const TaggedData ours = parse_tagged(conll, "train.conll");
    const auto theirs = nlohmann::json::parse(python(dir_, "import json, readers; print(json.dumps(readers.read_tagged('train.conll')))").toStdString());
    QCOMPARE(theirs.size(), ours.sentences.size());
    for (size_t i = 0; i < ours.sentences.size(); ++i) {
      QCOMPARE(theirs[i][0].get<std::vector<std::string>>(), ours.sentences[i].words);
      QCOMPARE(theirs[i][1].get<std::vector<std::string>>(), ours.sentences[i].tags);
    }
    // SQuAD v2.0: an impossible question has no answers.
    const std::string squad = R"({"data": [{"paragraphs": [{"context": "Caf\u00e9 Z\u00fcrich is here.", "qas": [
        {"id": "a", "question": "Which?", "answers": [{"text": "Z\u00fcrich", "answer_start": 5}]},
        {"id": "b", "question": "Why?", "answers": [], "is_impossible": true}]}]}]})";
    write(dir_ / "dev.json", squad);
    const QaData qa = parse_qa(squad, "dev.json");
    const auto read = nlohmann::json::parse(python(dir_, "import json, readers; print(json.dumps(readers.read_squad('dev.json')))").toStdString());
    QCOMPARE(read.size(), qa.examples.size());
    for (size_t i = 0; i < qa.examples.size(); ++i) {
      QCOMPARE(read[i]["id"].get<std::string>(), qa.examples[i].id);
      QCOMPARE(read[i]["context"].get<std::string>(), qa.examples[i].context);
      QCOMPARE(read[i]["answers"]["text"].size(), qa.examples[i].answers.size());
      if (!qa.examples[i].answers.empty())
        QCOMPARE(read[i]["answers"]["answer_start"][0].get<int>(), qa.examples[i].answers[0].start);
    }
    // CSV with a quoted comma, by column name, and the stratified split keeps every label.
    write(dir_ / "train.csv", "text,label\n\"good, very good\",pos\nbad,neg\nfine,pos\nawful,neg\n");
    const QByteArray rows = python(dir_,
        "import json, readers\n"
        "job = dict(readers.JOB, delimiter=',', has_header=True, text_column='text', label_column='label')\n"
        "rows = readers.read_classification('train.csv', job)\n"
        "train, held = readers.split_validation(rows, lambda r: r[1], 0.5, 0)\n"
        "print(json.dumps([rows, sorted(r[1] for r in held)]))");
    const auto r = nlohmann::json::parse(rows.toStdString());
    QCOMPARE(r[0][0][0].get<std::string>(), std::string("good, very good"));
    QCOMPARE(r[0].size(), size_t(4));
    QCOMPARE(r[1], nlohmann::json({"neg", "pos"}));
  }

  // The masked-LM job: its text files read as the Fine-tune view reads them (every non-blank line, trimmed, files in
  // order, a Windows \r\n too), a seeded share held out; Hugging Face's masked-LM collator at BERT's 15%; patience
  // compares the validation loss (lower is better).
  void maskedLmJobReadsParagraphs() {
    TrainingJob job;
    job.task = "mlm";
    job.text_files = {(dir_ / "notes-a.txt").string(), (dir_ / "notes-b.txt").string()};
    job.validation_share = 0.25;
    job.patience = 2;
    const std::string text = training_script(job);
    write(dir_ / "mlm_job.py", text);
    write(dir_ / "notes-a.txt", "The cat sat.\r\n\n   \n  Caf\xc3\xa9 opens at nine.  \n");
    write(dir_ / "notes-b.txt", "Dogs bark.\nBirds sing.\n");
    const auto read = nlohmann::json::parse(python(dir_,
        "import json, mlm_job as m\n"
        "rows = m.read_paragraphs(m.JOB['text_files'])\n"
        "train, held = m.split_validation(rows, lambda r: '', m.JOB['validation_share'], m.JOB['seed'])\n"
        "print(json.dumps([rows, len(train), len(held)]))").toStdString());
    QCOMPARE(read[0], nlohmann::json({"The cat sat.", "Caf\xc3\xa9 opens at nine.", "Dogs bark.", "Birds sing."}));
    QCOMPARE(read[1].get<int>(), 3);
    QCOMPARE(read[2].get<int>(), 1);
    QVERIFY(text.find("DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)") != std::string::npos);
    QVERIFY(text.find("AutoModelForMaskedLM.from_pretrained(job[\"model\"], **hub)") != std::string::npos);
    QVERIFY(text.find("greater_is_better=False, metric_for_best_model=\"loss\"") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestTrainingScript)
#include "test_training_script.moc"
