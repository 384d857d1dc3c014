// Hardening: what an attacker or a careless user did to bertscope, each as the test that would have caught it.
// No file of the user's is ever deleted or overwritten; hostile files give a clear Error, never a crash; a full disk
// leaves the previous result intact; bad numbers in a model are named instead of printed as null.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "core/tensor.h"
#include "cpu/cpu_backend.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "model/config.h"
#include "model/convert.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "text/tokenizer.h"
#include "text/vocab_file.h"
#include "train/pretraining.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& content) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `body` with the current folder set to `dir`, restoring it afterwards.
template <class F>
void in_folder(const fs::path& dir, F body) {
  const fs::path before = fs::current_path();
  fs::current_path(dir);
  try {
    body();
  } catch (...) {
    fs::current_path(before);
    throw;
  }
  fs::current_path(before);
}

using test::FileSizeLimit;

// A safetensors file of just `header` (its 8-byte little-endian length, then the JSON), for hostile headers.
void write_safetensors_header(const fs::path& file, const std::string& header) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  write(file, bytes + header);
}

std::string deep_array(int depth) { return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']'); }

}  // namespace

class TestHardening : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path root() const { return dir_.path().toStdString(); }

  RandomModelSpec tinySpec() const {
    RandomModelSpec s = test::tiny_model_spec(dir_);
    s.max_positions = 32;
    return s;
  }

  // Every file under `folder` with its content, to compare before and after.
  static std::map<std::string, std::string> snapshot(const fs::path& folder) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(folder))
      if (e.is_regular_file()) files[fs::relative(e.path(), folder).string()] = read(e.path());
    return files;
  }

 private slots:
  // --- No user file is ever deleted -------------------------------------------------------------------------------

  void randomModelRefusesAFolderOfTheUsers() {
    const fs::path thesis_dir = root() / "thesis";
    write(thesis_dir / "thesis.txt", "four years of work");
    QVERIFY_THROWS_EXCEPTION(Error, write_random_model(thesis_dir, tinySpec()));
    QCOMPARE(read(thesis_dir / "thesis.txt"), std::string("four years of work"));
    QCOMPARE(std::distance(fs::directory_iterator(thesis_dir), {}), 1);
  }

  void aFolderWithConfigJsonAndOtherFilesIsNotAModel() {
    const fs::path project = root() / "project";
    write(project / "config.json", "{}");
    write(project / "main.py", "print('mine')");
    const auto before = snapshot(project);
    QVERIFY_THROWS_EXCEPTION(Error, write_random_model(project, tinySpec()));
    QCOMPARE(snapshot(project), before);
    // A folder under a model file's name is the user's too: replacing the model must not take it along.
    const fs::path model = root() / "model-with-folder";
    write_random_model(model, tinySpec());
    fs::remove(model / "vocab.txt");
    write(model / "vocab.txt" / "mine.txt", "mine");
    QVERIFY_THROWS_EXCEPTION(Error, write_random_model(model, tinySpec()));
    QCOMPARE(read(model / "vocab.txt" / "mine.txt"), std::string("mine"));
  }

  void theCurrentFolderAndItsParentsAreRefused() {
    const fs::path work = root() / "cwd" / "inner";
    write(work / "notes.txt", "mine");
    write(work.parent_path() / "other.txt", "mine too");
    in_folder(work, [&] {
      for (const char* target : {".", "..", "./", "../", "../.."}) {
        bool refused = false;
        try {
          write_random_model(target, tinySpec());
        } catch (const Error& e) {
          refused = std::string(e.what()).find("refusing") != std::string::npos;
        }
        QVERIFY2(refused, target);
      }
    });
    QCOMPARE(read(work / "notes.txt"), std::string("mine"));
    QCOMPARE(read(work.parent_path() / "other.txt"), std::string("mine too"));
  }

  void relativeTrailingSlashAndNonAsciiNamesWork() {
    const fs::path work = root() / "names";
    fs::create_directories(work);
    in_folder(work, [&] {
      for (const char* name : {"rand-qa", "rand-qa3/", "sub/dir/model", "modèle-ünïcode", "./dotted"}) {
        write_random_model(name, tinySpec());
        const fs::path made = fs::path(name).lexically_normal();
        QVERIFY2(fs::exists(work / made / "model.safetensors"), name);
      }
    });
    // Nothing left behind but the models (no .partial folders, no temporaries).
    for (const auto& e : fs::directory_iterator(work)) {
      const std::string n = e.path().filename().string();
      QVERIFY2(n.find("partial") == std::string::npos && n.find(".bertscope-") == std::string::npos, n.c_str());
    }
  }

  void neighboursNamedPartialOrOldSurviveAWrite() {
    const fs::path base = root() / "neighbours";
    write(base / "o.partial" / "mine.txt", "a");
    write(base / "o.old" / "mine.txt", "b");
    write_random_model(base / "m", tinySpec());
    convert_model(base / "m", base / "o", StDType::F16);
    QVERIFY_THROWS_EXCEPTION(Error, convert_model(base / "m", base / "o", StDType::F32));  // never over a model
    QCOMPARE(read(base / "o.partial" / "mine.txt"), std::string("a"));
    QCOMPARE(read(base / "o.old" / "mine.txt"), std::string("b"));
    QVERIFY(fs::exists(base / "o" / "model.safetensors"));
  }

  // train, convert, shrink and random-model (the CLI, as a user runs them) into a folder holding an earlier model:
  // refused before any work, with a message naming the folder, and every file byte for byte as it was. Into an
  // empty folder and an absent one, each works.
  void anEarlierModelIsNeverReplaced() {
    const fs::path base = root() / "earlier";
    const fs::path model = base / "source";
    write_random_model(model, tinySpec());
    write(base / "data.csv", "text,label\ngood,1\nbad,0\nfine,1\nawful,0\n");
    write(base / "corpus.txt", "the cat sat on the mat\n");
    const std::string vocab = tinySpec().vocab_file.string();
    auto args_for = [&](const std::string& command, const fs::path& out) -> QStringList {
      const QString m = QString::fromStdString(model.string()), o = QString::fromStdString(out.string());
      if (command == "train")
        return {"train", m, "--csv", QString::fromStdString((base / "data.csv").string()), "--text-column", "text",
                "--label-column", "label", "--out", o, "--epochs", "1", "--batch-size", "2", "--max-length", "16",
                "--backend", "cpu"};
      if (command == "convert") return {"convert", m, o, "--dtype", "f16"};
      if (command == "shrink")
        return {"shrink", m, o, "--intermediate", "16", "--corpus", QString::fromStdString((base / "corpus.txt").string())};
      return {"random-model", o, "--layers", "1", "--hidden", "16", "--heads", "2", "--intermediate", "32", "--vocab",
              QString::fromStdString(vocab)};
    };
    auto run = [&](const QStringList& args, QString* err) {
      QProcess p;
      p.start(BERTSCOPE_CLI, args);
      if (!p.waitForFinished(120000)) return -1;
      *err = QString::fromUtf8(p.readAllStandardError());
      return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    for (const std::string command : {"train", "convert", "shrink", "random-model"}) {
      const fs::path taken = base / (command + "-taken");
      write_random_model(taken, tinySpec());  // the user's earlier model
      write(taken / "model.safetensors.index.json", "{}");  // whatever model files it holds
      const auto before = snapshot(taken);
      QString err;
      QCOMPARE(run(args_for(command, taken), &err), 1);
      QVERIFY2(err.contains(QString::fromStdString(taken.string())) && err.contains("holds a model") &&
                   err.contains("never replaces") && !err.contains("step "),
               qPrintable(QString::fromStdString(command) + ": " + err));
      QVERIFY2(snapshot(taken) == before, command.c_str());
      for (const auto& e : fs::directory_iterator(base))  // and no temporary left beside it
        QVERIFY2(e.path().filename().string().find(".bertscope-") == std::string::npos, command.c_str());

      const fs::path empty = base / (command + "-empty"), absent = base / (command + "-absent");
      fs::create_directories(empty);
      for (const fs::path& out : {empty, absent}) {
        QVERIFY2(run(args_for(command, out), &err) == 0, qPrintable(QString::fromStdString(command) + ": " + err));
        QVERIFY2(fs::is_regular_file(out / "model.safetensors") && fs::is_regular_file(out / "config.json"), command.c_str());
      }
    }
  }

  void aFileIsNeverOverwritten() {
    write(root() / "c2.txt", "corpus");
    QVERIFY_THROWS_EXCEPTION(Error, check_new_file(root() / "c2.txt"));
    QCOMPARE(read(root() / "c2.txt"), std::string("corpus"));
  }

  void pretrainRefusesAFolderThatIsNotARun() {
    const fs::path run = root() / "not-a-run";
    write(run / "checkpoint" / "epoch3.pt", "weights");
    write(run / "curve.csv", "mine");
    const auto before = snapshot(run);
    QVERIFY_THROWS_EXCEPTION(Error, check_pretraining_run_folder(run));
    CpuBackend cpu;
    PretrainOptions o;
    QVERIFY_THROWS_EXCEPTION(Error, pretrain(run, root() / "none.txt", tinySpec().vocab_file, {}, cpu, o));
    QCOMPARE(snapshot(run), before);
    // A run whose checkpoint has gone is not silently restarted from step 0.
    const fs::path broken = root() / "broken-run";
    write(broken / "options.json", "{}");
    QVERIFY_THROWS_EXCEPTION(Error, check_pretraining_run_folder(broken));
  }

  void aFullDiskLeavesTheLastCheckpointIntact() {
    const fs::path corpus = root() / "corpus.txt";
    {
      std::ofstream out(corpus);
      for (int i = 0; i < 60; ++i) out << "the cat sat on the mat and the dog slept by the door of the house\n";
    }
    PretrainOptions o;
    o.layers = 1; o.hidden = 16; o.heads = 2; o.intermediate = 32; o.max_positions = 32;
    o.seq_len = 16; o.batch_size = 2; o.total_steps = 2; o.warmup_steps = 1; o.log_every = 1;
    CpuBackend cpu;
    const fs::path run = root() / "run";
    QCOMPARE(pretrain(run, corpus, tinySpec().vocab_file, {}, cpu, o), 2);
    const auto before = snapshot(run / "checkpoint");
    o.total_steps = 4;
    {
      FileSizeLimit full(4096);  // the next checkpoint cannot be written
      QVERIFY_THROWS_EXCEPTION(std::exception, pretrain(run, corpus, {}, {}, cpu, o));
    }
    QCOMPARE(snapshot(run / "checkpoint"), before);  // the step-2 checkpoint, complete
    for (const auto& e : fs::directory_iterator(run))
      QVERIFY2(e.path().filename().string().find(".bertscope-") == std::string::npos, "a temporary was left behind");
    QCOMPARE(pretrain(run, corpus, {}, {}, cpu, o), 4);  // and the run resumes from it
    // A run replaces only its own checkpoint: a file of the user's put in there stops the next checkpoint.
    write(run / "checkpoint" / "notes.txt", "mine");
    const auto mine = snapshot(run / "checkpoint");
    o.total_steps = 5;
    QVERIFY_THROWS_EXCEPTION(Error, pretrain(run, corpus, {}, {}, cpu, o));
    QCOMPARE(snapshot(run / "checkpoint"), mine);
  }

  void aFullDiskLeavesAFileAsItWas() {
    const fs::path file = root() / "state.json";
    write_file_atomically(file, "old");
    {
      FileSizeLimit full(2);
      QVERIFY_THROWS_EXCEPTION(Error, write_file_atomically(file, "a much longer new content"));
    }
    QCOMPARE(read(file), std::string("old"));
    QCOMPARE(std::distance(fs::directory_iterator(root()), {}) > 0, true);
    for (const auto& e : fs::directory_iterator(root()))
      QVERIFY(e.path().filename().string().find(".state.json.bertscope-") == std::string::npos);
  }

  // --- Hostile files give an Error, not a crash -------------------------------------------------------------------

  // Broken JSON is said in the user's words: where, and what the parser found, without nlohmann's internal code.
  void brokenJsonSaysWhere() {
    try {
      parse_json("{\"data\": [x", "squad.json");
      QFAIL("no error");
    } catch (const Error& e) {
      const std::string m = e.what();
      QVERIFY2(m.rfind("squad.json: not valid JSON (parse error at line 1, column 11", 0) == 0, m.c_str());
      QVERIFY2(m.find("json.exception") == std::string::npos, m.c_str());
    }
  }

  void deeplyNestedJsonIsAnError() {
    const std::string deep = deep_array(70000);
    QVERIFY_THROWS_EXCEPTION(Error, parse_json(deep, "test"));
    const fs::path model = root() / "deep";
    write_random_model(model, tinySpec());
    const std::string good_config = read(model / "config.json");
    for (const char* field : {"vocab_size", "id2label", "hidden_size"}) {
      nlohmann::json c = nlohmann::json::parse(good_config);
      c[field] = nullptr;
      std::string text = c.dump();
      const std::string key = std::string("\"") + field + "\":null";
      text.replace(text.find(key), key.size(), std::string("\"") + field + "\":" + deep);
      write(model / "config.json", text);
      QVERIFY_THROWS_EXCEPTION(Error, ModelConfig::load(model / "config.json"));
    }
    write(model / "config.json", good_config);
    // A safetensors header whose metadata nests deeply.
    write_safetensors_header(root() / "deep.safetensors", "{\"__metadata__\":{\"x\":" + deep + "}}");
    QVERIFY_THROWS_EXCEPTION(Error, SafetensorsFile(root() / "deep.safetensors"));
  }

  void tokenizerJsonWithMissingFieldsLoads() {
    const fs::path model = root() / "tok";
    write_random_model(model, tinySpec());
    // No model.vocab (vocab.txt is used), a normalizer without its flags, an added token without content.
    write(model / "tokenizer.json", R"({"model": {"type": "WordPiece"}, "normalizer": {"type": "BertNormalizer"},
                                        "added_tokens": [{"id": 0}, 5, {"content": "[MASK]"}]})");
    const WordPieceTokenizer t = WordPieceTokenizer::load(model, 32);
    QVERIFY(t.mask_id() >= 0);
    fs::remove(model / "vocab.txt");  // now tokenizer.json must carry the vocabulary: a clear error
    QVERIFY_THROWS_EXCEPTION(Error, WordPieceTokenizer::load(model, 32));
  }

  void aShapeThatOverflowsIsAnError() {
    QVERIFY_THROWS_EXCEPTION(Error, element_count({std::int64_t{1} << 32, std::int64_t{1} << 32}));
    write_safetensors_header(root() / "huge.safetensors",
                             R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})");
    QVERIFY_THROWS_EXCEPTION(Error, SafetensorsFile(root() / "huge.safetensors"));
  }

  // --- Wrong results are errors, not null ------------------------------------------------------------------------

  void aNanWeightIsNamedNotPrinted() {
    const fs::path model = root() / "nan";
    write_random_model(model, tinySpec());
    {
      SafetensorsFile file(model / "model.safetensors");
      std::vector<StWriteTensor> tensors;
      std::vector<std::vector<float>> values;
      for (const auto& [name, info] : file.tensors()) {
        std::vector<float> buffer;
        const auto v = file.read_f32(name, buffer);
        values.emplace_back(v.begin(), v.end());
      }
      size_t i = 0;
      for (const auto& [name, info] : file.tensors()) {
        if (name == "bert.embeddings.LayerNorm.weight") values[i][0] = NAN;
        tensors.push_back({name, info.shape, values[i++]});
      }
      write_safetensors(root() / "nan.safetensors", tensors, StDType::F32);
    }
    fs::rename(root() / "nan.safetensors", model / "model.safetensors");
    Session session(model, {BackendKind::Cpu, -1, false});
    bool named = false;
    try {
      fill_mask(session.model(), session.tokenizer(), "the [MASK] sat", 5);
    } catch (const Error& e) {
      named = std::string(e.what()).find("NaN") != std::string::npos;
    }
    QVERIFY(named);
  }

  void aNegativeLayerNormEpsilonIsRefused() {
    const fs::path model = root() / "eps";
    write_random_model(model, tinySpec());
    nlohmann::json c = read_json_file(model / "config.json");
    c["layer_norm_eps"] = -1;
    write(model / "config.json", c.dump());
    QVERIFY_THROWS_EXCEPTION(Error, ModelConfig::load(model / "config.json"));
  }

  void fillMaskWorkIsBounded() {
    const fs::path model = root() / "topk";
    write_random_model(model, tinySpec());
    Session session(model, {BackendKind::Cpu, -1, false});
    QVERIFY_THROWS_EXCEPTION(Error, fill_mask(session.model(), session.tokenizer(), "a [MASK] b", 100000));
    QCOMPARE(fill_mask(session.model(), session.tokenizer(), "a [MASK] b", 7).predictions[0].size(), size_t(7));
  }

  // --- WordPiece stops at the limit -------------------------------------------------------------------------------

  // Issue 12: 1 MB of 100-character consonant words took 34 s (40 s here) to encode with max_length 512, because
  // every word was split into pieces before truncation dropped all but the first 510 tokens.
  void aMegabyteOfConsonantWordsEncodesQuickly() {
    const WordPieceTokenizer t(read_vocab_txt(std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt"), {});
    std::mt19937 rng(1);
    std::string text;
    while (text.size() < 1000000) {
      for (int i = 0; i < 100; ++i) text += "bcdfghjklmnpqrstvwxz"[rng() % 20];
      text += ' ';
    }
    const auto start = std::chrono::steady_clock::now();
    const Encoding e = t.encode(text, std::nullopt, 512);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    qInfo("1 MB of consonant words: %d tokens in %.3f s", static_cast<int>(e.size()), seconds);
    QCOMPARE(e.size(), size_t(512));
    QVERIFY(e.truncated_tokens > 0 && e.truncated_at_least);
    QVERIFY2(seconds < 3, qPrintable(QString::number(seconds)));
    // The tokens kept are the first 510 of the whole text's (checked on its first 20 KB, 70 pieces a word).
    const std::string head = text.substr(0, 20200);
    std::vector<Token> all = t.tokenize(head);
    all.resize(510);
    const Encoding expected = t.with_special_tokens(all);
    for (size_t i = 0; i < e.size(); ++i) {
      QCOMPARE(e.tokens[i].id, expected.tokens[i].id);
      QCOMPARE(e.tokens[i].start, expected.tokens[i].start);
      QCOMPARE(e.tokens[i].end, expected.tokens[i].end);
      QCOMPARE(e.tokens[i].word, expected.tokens[i].word);
    }
  }

  // Reading a text only as far as needed changes nothing: encode equals tokenize-then-truncate, with an exact
  // truncated_tokens, for every text up to twice too long (special tokens, punctuation, CJK, long words included).
  void encodingStopsAtTheLimitWithTheSameTokens() {
    const WordPieceTokenizer t(read_vocab_txt(std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt"), {});
    const std::vector<std::string> pieces = {"the", "cat,", "[MASK]", "unbelievably", "xqzvbnmwrtp", "東京", "!",
                                             "  ", "[SEP]", std::string(120, 'a'), "naïve", "\t"};
    std::mt19937 rng(3);
    for (int round = 0; round < 300; ++round) {
      std::string text;
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()] + (rng() % 3 ? " " : "");
      const int max_length = 2 + static_cast<int>(rng() % 12);
      std::vector<Token> all = t.tokenize(text);
      const size_t total = all.size(), budget = static_cast<size_t>(max_length - 2);
      all.resize(std::min(total, budget));
      const Encoding expected = t.with_special_tokens(all);
      const Encoding e = t.encode(text, std::nullopt, max_length);
      QCOMPARE(e.ids(), expected.ids());
      for (size_t i = 0; i < e.size(); ++i) {
        QCOMPARE(e.tokens[i].start, expected.tokens[i].start);
        QCOMPARE(e.tokens[i].end, expected.tokens[i].end);
        QCOMPARE(e.tokens[i].word, expected.tokens[i].word);
      }
      const int cut = static_cast<int>(total - all.size());
      if (total <= 2 * budget + 1) {
        QCOMPARE(e.truncated_tokens, cut);
        QVERIFY(!e.truncated_at_least || total == 2 * budget + 1);  // stopped right at the end: it cannot know
        if (!e.truncated_at_least) QCOMPARE(e.truncated_count(), std::to_string(cut));
      } else {
        QVERIFY(e.truncated_at_least);
        QVERIFY(e.truncated_tokens > 0 && e.truncated_tokens <= cut);
        QCOMPARE(e.truncated_count(), "at least " + std::to_string(e.truncated_tokens));  // what messages say
      }
    }
  }

  // A long text is read a few thousand characters at a time, cut at spaces: every word tokenizes as it does alone
  // (final sigma, which looks at its neighbours, included).
  void aLongTextTokenizesAsItsWordsDo() {
    const WordPieceTokenizer t(read_vocab_txt(std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt"), {});
    const std::vector<std::string> words = {"ΟΔΟΣ", "ΣΑΣ.", "the", "naïve", "東京", "x'Σ", "[MASK]", "Σ'", "unaffable"};
    std::mt19937 rng(5);
    std::string text;
    std::vector<std::int32_t> expected;
    while (text.size() < 40000) {
      const std::string& w = words[rng() % words.size()];
      text += w + " ";
      for (const Token& token : t.tokenize(w)) expected.push_back(token.id);
    }
    std::vector<std::int32_t> got;
    for (const Token& token : t.tokenize(text)) got.push_back(token.id);
    QCOMPARE(got, expected);
  }

  // --- CSV ---------------------------------------------------------------------------------------------------------

  void aStrayQuoteCostsOneRowNotTheRest() {
    std::string csv = "text,label\n";
    for (int i = 1; i <= 1000; ++i) csv += (i == 6 ? std::string("\"broken row") : "row " + std::to_string(i)) + "," + std::to_string(i % 2) + "\n";
    const CsvTable t = parse_csv(csv, {',', 1});
    QCOMPARE(t.rows.size(), size_t(999));
    QCOMPARE(t.problems.size(), size_t(1));
    QCOMPARE(t.problems[0].line, 7);
    QCOMPARE(t.rows[5][0], std::string("row 7"));
    QCOMPARE(t.lines[5], 8);
  }

  void utf16AndBinaryFilesAreRefusedWhole() {
    std::string utf16 = "\xFF\xFE";
    for (char ch : std::string("t,l\na,1\nb,2\n")) utf16 += std::string{ch, '\0'};
    QVERIFY_THROWS_EXCEPTION(Error, parse_csv(utf16));
    QVERIFY_THROWS_EXCEPTION(Error, parse_csv(std::string("a,1\n\0\0\x01,2\n", 10)));
    QVERIFY_THROWS_EXCEPTION(Error, parse_csv("a,1\nb\xff\xfe,2\n"));
  }

  void numericLabelsWrittenDifferentlyAreOneClass() {
    const CsvTable t = parse_csv("text,label\ngood one,1\nbad one,0\nfine,01\nawful,0.0\nnice,1.0\n", {',', 1});
    const LabelledData d = labelled_examples(t, "text", "label");
    QCOMPARE(d.labels, (std::vector<std::string>{"0", "1"}));
    QCOMPARE(d.examples.size(), size_t(5));
  }

  void aHeaderOnlyFileSaysNoDataRows() {
    bool said = false;
    try {
      parse_csv("text,label\n");
    } catch (const Error& e) {
      said = std::string(e.what()).find("no data rows") != std::string::npos;
    }
    QVERIFY(said);
  }

  // --- The command line ------------------------------------------------------------------------------------------

  void badArgumentsAreMessagesNotSignals() {
    const QString cli = BERTSCOPE_CLI;
    const QString out = QString::fromStdString((root() / "args").string());
    const QList<QStringList> calls = {
        {"random-model", out, "--heads", "0"},
        {"random-model", out, "--hidden", "30", "--heads", "4"},
        {"pretrain", out, "--corpus", "x.txt", "--seq-len", "2"},
        {"pretrain", out, "--corpus", "x.txt", "--log-every", "0"},
        {"pretrain", out, "--corpus", "x.txt", "--eval-every", "0"},
        {"pretrain", out, "--corpus", "x.txt", "--checkpoint-every", "0"},
        {"bench", "default", "--reps", "0"},
        {"bench", "default", "--reps", "0", "--train-batch", "2"},
    };
    for (const auto& args : calls) {
      QProcess p;
      p.start(cli, args);
      QVERIFY(p.waitForFinished(60000));
      QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() != 0, qPrintable(args.join(' ')));
      QVERIFY2(!p.readAllStandardError().isEmpty(), qPrintable(args.join(' ')));
    }
  }

  void oneBadJsonlLineSpoilsOnlyItself() {
    const fs::path model = root() / "jsonl-model";
    write_random_model(model, tinySpec());
    const fs::path jsonl = root() / "in.jsonl";
    write(jsonl, "{\"text\": \"a [MASK] b\"}\n{\"text\": \"bad \xff\xfe bytes\"\n{\"text\": \"c [MASK] d\"}\n");
    QProcess p;
    p.start(BERTSCOPE_CLI, {"fill-mask", QString::fromStdString(model.string()), "--jsonl", QString::fromStdString(jsonl.string()),
                            "--backend", "cpu"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 1);
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    for (const auto& line : lines) QVERIFY(nlohmann::json::accept(line.toStdString()));
    QVERIFY(nlohmann::json::parse(lines[1].toStdString()).contains("error"));
    QVERIFY(!nlohmann::json::parse(lines[2].toStdString()).contains("error"));
  }

  // A text far past the model's length is not read to its end, so the count of tokens cut is a lower bound, and
  // the CLI says so: "at least" on stderr and truncated_tokens_at_least in the JSON. A text just past it: exact.
  void truncationCountsSayWhenTheyAreALowerBound() {
    const fs::path model = root() / "long-text-model";
    write_random_model(model, tinySpec());
    auto tokenize = [&](const QString& text) {
      QProcess p;
      p.start(BERTSCOPE_CLI, {"tokenize", QString::fromStdString(model.string()), "--text", text, "--backend", "cpu"});
      const bool finished = p.waitForFinished(60000);
      return std::make_tuple(finished && p.exitCode() == 0, nlohmann::json::parse(p.readAllStandardOutput().toStdString()),
                             QString(p.readAllStandardError()));
    };
    const int max_length = tinySpec().max_positions;
    QStringList words;  // "a": one token in the small vocabulary
    for (int i = 0; i < 10 * max_length; ++i) words << QStringLiteral("a");
    auto [ok, json, err] = tokenize(words.join(' '));
    QVERIFY(ok);
    QVERIFY(json.value("truncated_tokens_at_least", false));
    QVERIFY2(err.contains(QStringLiteral("input truncated by at least %1 tokens").arg(json["truncated_tokens"].get<int>())),
             qPrintable(err));
    words = words.mid(0, max_length);  // [CLS] + max_length words + [SEP]: exactly 2 past the limit
    std::tie(ok, json, err) = tokenize(words.join(' '));
    QVERIFY(ok);
    QCOMPARE(json["truncated_tokens"].get<int>(), 2);
    QVERIFY(!json.contains("truncated_tokens_at_least"));
    QVERIFY2(err.contains(QStringLiteral("input truncated by 2 tokens")), qPrintable(err));
  }

  void trainChecksItsOutputBeforeTraining() {
    const fs::path model = root() / "train-model";
    write_random_model(model, tinySpec());
    write(root() / "data.csv", "text,label\ngood,1\nbad,0\nfine,1\nawful,0\n");
    write(root() / "taken" / "essay.txt", "mine");
    QProcess p;
    p.start(BERTSCOPE_CLI, {"train", QString::fromStdString(model.string()), "--csv", QString::fromStdString((root() / "data.csv").string()),
                            "--text-column", "text", "--label-column", "label", "--out", QString::fromStdString((root() / "taken").string()),
                            "--backend", "cpu"});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 1);
    const QString err = p.readAllStandardError();
    QVERIFY2(!err.contains("step "), qPrintable(err));  // refused before the first training step
    QCOMPARE(read(root() / "taken" / "essay.txt"), std::string("mine"));
  }
};

QTEST_GUILESS_MAIN(TestHardening)
#include "test_hardening.moc"
