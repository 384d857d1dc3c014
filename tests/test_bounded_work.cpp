// Work bounded by what a request needs (hardening, "unbounded work"). `attention` streams a layer at a time: its
// JSON line is the whole document the command used to build in memory, its .npy (with a JSON sidecar) holds the same
// numbers, --layer/--head choose, and bad requests are refused before any work, never over a user's file. And the
// neighbouring items: question answering reads long contexts a few windows at a time and de-duplicates its n-best in
// n log n, a JSONL line far past the limit is refused without being held, label de-duplication and WordPiece's worst
// case are not quadratic. (fill-mask's top_k cap is test_hardening's fillMaskWorkIsBounded.)
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json_io.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "model/random_model.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "text/tokenizer.h"

using namespace bertscope;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct CliRun {
  int exit_code = -1;
  QByteArray out, err;
};

CliRun run_cli(const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  p.start(BERTSCOPE_CLI, args);
  CliRun r;
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

void write(const fs::path& file, const std::string& content) { std::ofstream(file, std::ios::binary) << content; }

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The document `attention` used to build whole before printing it (cli::attention_json before streaming).
json whole_attention_document(const AttentionResult& r) {
  json tokens = json::array();
  for (const auto& t : r.encoding.tokens) tokens.push_back(t.text);
  json layers = json::array();
  for (int l = 0; l < r.layers; ++l) {
    json heads = json::array();
    for (int h = 0; h < r.heads; ++h) {
      const float* m = r.map(l, h);
      json rows = json::array();
      for (int i = 0; i < r.tokens; ++i) rows.push_back(std::vector<float>(m + i * r.tokens, m + (i + 1) * r.tokens));
      heads.push_back(rows);
    }
    layers.push_back(heads);
  }
  return {{"tokens", tokens}, {"layers", r.layers}, {"heads", r.heads}, {"attentions", layers}};
}

// A .npy file read back by its documented layout: magic, version 1.0, a little-endian header length, the header
// dict, then the data.
struct Npy {
  std::string descr;
  std::vector<size_t> shape;
  std::vector<float> data;
};

Npy read_npy(const fs::path& file) {
  const std::string bytes = read(file);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not a .npy file");
  if (bytes[6] != 1 || bytes[7] != 0) throw std::runtime_error("not version 1.0");
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  if ((10 + header_len) % 64 != 0) throw std::runtime_error("header not aligned to 64 bytes");
  const std::string header = bytes.substr(10, header_len);
  if (header.back() != '\n' || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error("bad header: " + header);
  Npy npy;
  const size_t d = header.find("'descr': '") + 10;
  npy.descr = header.substr(d, header.find('\'', d) - d);
  std::stringstream dims(header.substr(header.find("'shape': (") + 10));
  size_t n = 1;
  for (size_t v; dims >> v;) {
    npy.shape.push_back(v);
    n *= v;
    char sep;
    dims >> sep;  // ',' or ')'
    if (sep == ')') break;
  }
  if (bytes.size() - 10 - header_len != n * sizeof(float)) throw std::runtime_error("data size does not match the shape");
  npy.data.resize(n);
  std::memcpy(npy.data.data(), bytes.data() + 10 + header_len, n * sizeof(float));
  return npy;
}

// Every number of a nested JSON array, in order.
void flatten(const json& j, std::vector<double>& out) {
  if (j.is_array())
    for (const auto& e : j) flatten(e, out);
  else
    out.push_back(j.get<double>());
}

// Runs bertscope-cli with `args`, its stdout into `out`; returns its peak memory in MB, or -1. Through /usr/bin/time
// (a test dependency): a child's own rusage would start from this process's peak, which exec carries over.
int peak_rss_mb_of_cli(const QStringList& args, const fs::path& out) {
  const fs::path report = out.string() + ".rss";
  QProcess p;
  p.setStandardOutputFile(q(out));
  p.start("/usr/bin/time", QStringList{"-f", "%M", "-o", q(report), BERTSCOPE_CLI} + args);
  if (!p.waitForFinished(120000)) return -1;
  bool ok = false;
  // "%M", after "Command exited with non-zero status 1" when it did
  const int kb = QString::fromStdString(read(report)).trimmed().split('\n').last().toInt(&ok);
  return ok ? kb / 1024 : -1;
}

// Under AddressSanitizer (scripts/sanitize-tests.sh) freed memory waits in quarantine and shadow memory counts:
// the bounds on peak memory hold for ordinary builds only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

}  // namespace

class TestBoundedWork : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path root() const { return dir_.path().toStdString(); }
  fs::path model_;  // 3 layers, 4 heads
  const QString text_ = "The cat sat on the mat.", pair_ = "It was happy.";

  QStringList attention_args(const QStringList& more = {}) const {
    return QStringList{"attention", q(model_), "--backend", "cpu", "--text", text_, "--text-pair", pair_} + more;
  }
  // The files of the temporary folder, to see that a refused request left nothing behind.
  std::unique_ptr<Session> qa_;
  double one_answer_seconds_ = 0;  // the long context with top_k 1
  Session& qa_session() {
    if (!qa_) {
      RandomModelSpec spec = test::tiny_model_spec(dir_);
      spec.question_answering = true;
      write_random_model(root() / "qa", spec);
      qa_ = std::make_unique<Session>(root() / "qa", BackendRequest{BackendKind::Cpu, -1, false});
    }
    return *qa_;
  }
  // 40,000 words: about 160 windows of 384 tokens.
  static std::string long_context() {
    std::string context;
    std::mt19937 rng(7);
    const char* words[] = {"the", "river", "bank", "was", "flooded", "in", "spring", "and", "people", "left"};
    for (int i = 0; i < 40000; ++i) context += std::string(i ? " " : "") + words[rng() % 10];
    return context;
  }

  std::set<std::string> files() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(root() / "out")) names.insert(e.path().filename().string());
    return names;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.layers = 3;
    spec.heads = 4;
    model_ = root() / "model";
    write_random_model(model_, spec);
    fs::create_directories(root() / "out");
  }

  // First: its memory check reads this process's peak, which later tests must not have raised.
  void qaReadsALongContextAFewWindowsAtATime() {
    Session& session = qa_session();
    const double rss_before = peak_rss_mb();
    const auto t0 = std::chrono::steady_clock::now();
    const QaResult r = answer_question(session.model(), session.tokenizer(), "where did people go?", long_context());
    one_answer_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double grew = peak_rss_mb() - rss_before;
    qInfo("%zu windows in %.1f s; peak memory grew %.0f MB", r.windows.size(), one_answer_seconds_, grew);
    QVERIFY(r.windows.size() > 100);
    // All windows in one batch would hold (windows, heads, T, T) attention probabilities alone: 160 x 2 x 384 x 384
    // floats, 190 MB.
    QVERIFY2(grew < 100 || kSanitized, qPrintable(QString("peak memory grew %1 MB").arg(grew)));
    QCOMPARE(r.answers.size(), size_t(1));
  }

  void qaDeduplicatesAHugeNBestInNLogN() {
    QaOptions o;
    o.top_k = 200000;  // a quadratic de-duplication compares 2e10 pairs
    const auto t0 = std::chrono::steady_clock::now();
    const QaResult r = answer_question(qa_session().model(), qa_session().tokenizer(), "where did people go?", long_context(), o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("%zu answers in %.1f s", r.answers.size(), seconds);
    QCOMPARE(r.answers.size(), size_t(200000));
    std::set<std::pair<int, int>> spans;
    for (size_t i = 0; i < r.answers.size(); ++i) {
      QVERIFY(spans.insert({r.answers[i].start, r.answers[i].end}).second);  // distinct spans, best first
      if (i) QVERIFY(r.answers[i - 1].score >= r.answers[i].score);
    }
    // Model time is the same as with top_k 1; a quadratic de-duplication, scanning every answer kept for each
    // candidate, would add minutes.
    QVERIFY2(seconds < one_answer_seconds_ + 30, qPrintable(QString("%1 s, %2 s with top_k 1").arg(seconds).arg(one_answer_seconds_)));
  }

  // --- attention, streamed --------------------------------------------------------------------------------------

  void theJsonLineIsTheWholeDocumentStreamed() {
    const CliRun run = run_cli(attention_args());
    QVERIFY2(run.exit_code == 0, run.err.constData());
    QVERIFY(run.out.endsWith('\n'));
    const std::string line = run.out.chopped(1).toStdString();
    QVERIFY(line.find('\n') == std::string::npos);
    const json got = json::parse(line);
    // Exactly the text nlohmann's dump() gives for the document: key order, separators and number format.
    QCOMPARE(line, dump_json(got));

    Session session(model_, {BackendKind::Cpu, -1, false});
    const json old = whole_attention_document(
        attention(session.model(), session.tokenizer(), text_.toStdString(), std::string_view(pair_.toStdString())));
    QCOMPARE(got.size(), old.size());  // tokens, layers, heads, attentions: nothing added without a selection
    QCOMPARE(got["tokens"], old["tokens"]);
    QCOMPARE(got["layers"], json(3));
    QCOMPARE(got["heads"], json(4));
    std::vector<double> a, b;
    flatten(got["attentions"], a);
    flatten(old["attentions"], b);
    const size_t T = old["tokens"].size();
    QCOMPARE(a.size(), 3 * 4 * T * T);
    QCOMPARE(a.size(), b.size());
    double worst = 0;  // this process may use other BLAS kernels than the CLI (blas_setup.h): equal to rounding
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    QVERIFY2(worst < 1e-6, qPrintable(QString("largest difference %1").arg(worst)));
  }

  void theNpyHoldsTheSameNumbersAndItsSidecarSaysWhatTheyAre() {
    const json full = json::parse(run_cli(attention_args()).out.toStdString());
    const fs::path npy = root() / "out" / "maps.npy";
    const CliRun run = run_cli(attention_args({"--out", q(npy)}));  // .npy: the format follows the name
    QVERIFY2(run.exit_code == 0, run.err.constData());
    const json said = json::parse(run.out.toStdString());
    QCOMPARE(said["format"], json("npy"));
    QCOMPARE(said["out"], json(npy.string()));
    QCOMPARE(said["sidecar"], json((root() / "out" / "maps.json").string()));

    const Npy back = read_npy(npy);
    const size_t T = full["tokens"].size();
    QCOMPARE(back.descr, std::string("<f4"));
    QCOMPARE(back.shape, (std::vector<size_t>{3, 4, T, T}));
    std::vector<double> values;
    flatten(full["attentions"], values);
    QCOMPARE(back.data.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i)  // the JSON prints each float exactly: equal, not close
      QCOMPARE(back.data[i], static_cast<float>(values[i]));

    const json sidecar = json::parse(read(root() / "out" / "maps.json"));
    QCOMPARE(sidecar["npy"], json("maps.npy"));
    QCOMPARE(sidecar["shape"], json({3, 4, T, T}));
    QCOMPARE(sidecar["dtype"], json("float32"));
    QCOMPARE(sidecar["axes"], json({"layer", "head", "query", "key"}));
    QCOMPARE(sidecar["layer_indices"], json({0, 1, 2}));
    QCOMPARE(sidecar["head_indices"], json({0, 1, 2, 3}));
    QCOMPARE(sidecar["tokens"], full["tokens"]);

    // numpy itself reads it, where the machine has it (/usr/bin/python3 has torch and numpy for the oracles).
    QProcess py;
    py.start("/usr/bin/python3", {"-c", "import numpy, sys; a = numpy.load(sys.argv[1]); "
                                        "print(a.dtype); print(*a.shape); print(repr(float(a[2, 3, 1, 0])))", q(npy)});
    if (py.waitForFinished(60000) && py.exitCode() == 0) {
      const QList<QByteArray> printed = py.readAllStandardOutput().trimmed().split('\n');
      QCOMPARE(printed.size(), 3);
      QCOMPARE(printed[0], QByteArray("float32"));
      QCOMPARE(printed[1], QString("3 4 %1 %1").arg(T).toUtf8());
      QCOMPARE(printed[2].toDouble(), static_cast<double>(back.data[((2 * 4 + 3) * T + 1) * T + 0]));
    } else {
      qInfo("numpy not available: the .npy was checked by its documented layout only");
    }
  }

  void layersAndHeadsAreChosen() {
    const json full = json::parse(run_cli(attention_args()).out.toStdString());
    const CliRun run = run_cli(attention_args({"--layer", "2,0", "--head", "-1", "--head", "1"}));
    QVERIFY2(run.exit_code == 0, run.err.constData());
    const json got = json::parse(run.out.toStdString());
    QCOMPARE(got["layer_indices"], json({2, 0}));
    QCOMPARE(got["head_indices"], json({3, 1}));
    QCOMPARE(got["layers"], json(2));
    QCOMPARE(got["heads"], json(2));
    QCOMPARE(got["attentions"].size(), size_t(2));
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h)
        QCOMPARE(got["attentions"][l][h], full["attentions"][l == 0 ? 2 : 0][h == 0 ? 3 : 1]);

    const fs::path npy = root() / "out" / "last-layer.npy";
    QVERIFY(run_cli(attention_args({"--layer", "-1", "--format", "npy", "--out", q(npy)})).exit_code == 0);
    const Npy back = read_npy(npy);
    const size_t T = full["tokens"].size();
    QCOMPARE(back.shape, (std::vector<size_t>{1, 4, T, T}));
    std::vector<double> last;
    flatten(full["attentions"][2], last);
    for (size_t i = 0; i < last.size(); ++i) QCOMPARE(back.data[i], static_cast<float>(last[i]));
    QCOMPARE(json::parse(read(root() / "out" / "last-layer.json"))["layer_indices"], json({2}));
  }

  void jsonlInputsAreStreamedALineEach() {
    const fs::path jsonl = root() / "inputs.jsonl";
    write(jsonl, "{\"text\": \"a cat\"}\n{\"text_pair\": \"no text\"}\n{\"text\": \"a dog\", \"text_pair\": \"ran\"}\n");
    const fs::path out = root() / "out" / "lines.jsonl";
    const CliRun run = run_cli({"attention", q(model_), "--backend", "cpu", "--jsonl", q(jsonl), "--layer", "1", "--out", q(out)});
    QCOMPARE(run.exit_code, 1);  // one bad line
    QCOMPARE(json::parse(run.out.toStdString())["format"], json("json"));
    std::istringstream lines(read(out));
    std::vector<json> got;
    for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
    QCOMPARE(got.size(), size_t(3));
    QCOMPARE(got[0]["layer_indices"], json({1}));
    QCOMPARE(got[1]["line"], json(2));
    QVERIFY(got[1].contains("error"));
    QCOMPARE(got[2]["tokens"].back(), json("[SEP]"));
  }

  void badRequestsAreClearErrorsBeforeAnyWork() {
    struct Case {
      QStringList args;
      const char* says;
    };
    write(root() / "out" / "mine.npy", "my own file");
    write(root() / "out" / "taken.json", "my sidecar-named file");
    write(root() / "in.jsonl", "{\"text\": \"a\"}\n");
    const std::set<std::string> before = files();
    const QString out = q(root() / "out");
    const QList<Case> cases = {
        {attention_args({"--layer", "3"}), "layer 3 is out of range: the model has 3 layers, 0 to 2"},
        {attention_args({"--layer", "-4"}), "layer -4 is out of range"},
        {attention_args({"--head", "4"}), "head 4 is out of range: the model has 4 heads, 0 to 3"},
        {attention_args({"--layer", "1,1"}), "layer 1 is listed twice"},
        {attention_args({"--layer", "7", "--out", out + "/never.npy"}), "layer 7 is out of range"},
        {attention_args({"--out", out + "/mine.npy"}), "already exists"},
        {attention_args({"--out", out + "/mine.npy", "--format", "json"}), "already exists"},
        {attention_args({"--out", out + "/taken.npy"}), "taken.json\" already exists"},
        {attention_args({"--format", "npy"}), "--format npy needs --out"},
        {attention_args({"--format", "npy", "--out", out + "/maps.bin"}), "must end in .npy"},
        {attention_args({"--out", out + "/no/such/folder/maps.npy"}), "there is no folder"},
        {{"attention", q(model_), "--backend", "cpu", "--jsonl", q(root() / "in.jsonl"), "--out", out + "/many.npy"},
         "with --jsonl use --format json"},
    };
    for (const Case& c : cases) {
      const CliRun run = run_cli(c.args);
      const QString err = QString::fromUtf8(run.err);
      QVERIFY2(run.exit_code == 1, qPrintable(c.args.join(' ') + "\n" + err));
      QVERIFY2(err.contains(c.says), qPrintable(c.args.join(' ') + "\n" + err));
      QVERIFY2(run.out.isEmpty(), qPrintable(c.args.join(' ')));
      if (err.contains("--out") || err.contains("exists") || err.contains("no folder") || err.contains(".npy"))
        QVERIFY2(!err.contains(" on cpu"), qPrintable(err));  // refused before the model was loaded
    }
    QCOMPARE(files(), before);  // nothing written, no temporary file left, and the user's files as they were
    QCOMPARE(read(root() / "out" / "mine.npy"), std::string("my own file"));
    QCOMPARE(read(root() / "out" / "taken.json"), std::string("my sidecar-named file"));
  }

  // --- the neighbouring items -------------------------------------------------------------------------------------

  void aHugeJsonlLineIsRefusedWithoutHoldingIt() {
    const fs::path small = root() / "small.jsonl", huge = root() / "huge.jsonl", out = root() / "answers.jsonl";
    const std::string next = "{\"text\": \"a [MASK] b\"}\n";
    write(small, "{\"text\": \"a\"}\n" + next);
    {
      std::ofstream f(huge, std::ios::binary);
      f << "{\"text\": \"";
      const std::string chunk(1 << 20, 'a');
      for (int i = 0; i < 100; ++i) f << chunk;  // a 100 MB line
      f << "\"}\n" << next;
    }
    const QStringList args = {"fill-mask", q(model_), "--backend", "cpu", "--jsonl"};
    const int small_mb = peak_rss_mb_of_cli(args + QStringList{q(small)}, out);
    const int huge_mb = peak_rss_mb_of_cli(args + QStringList{q(huge)}, out);
    qInfo("peak memory: %d MB for two small lines, %d MB with a 100 MB line", small_mb, huge_mb);
    if (small_mb < 0 || huge_mb < 0) QSKIP("/usr/bin/time is missing (scripts/install-deps.sh --tests installs it)");
    // The line is read up to the limit and no further: whole, it took 4.2 GB to parse, and 100-200 MB only to read.
    QVERIFY2(huge_mb < small_mb + 50 || kSanitized, qPrintable(QString("%1 MB vs %2 MB").arg(huge_mb).arg(small_mb)));
    std::istringstream lines(read(out));
    std::vector<json> got;
    for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
    QCOMPARE(got.size(), size_t(2));
    QVERIFY2(got[0]["error"].get<std::string>().find("at most 16 MiB a line") != std::string::npos, got[0].dump().c_str());
    QVERIFY(got[1].is_array() && !got[1].empty());  // the next line still answered
    fs::remove(huge);
  }

  void labelDeduplicationIsNotQuadratic() {
    CsvTable table;
    table.has_header = true;
    table.columns = {"text", "label"};
    for (int i = 0; i < 100000; ++i) {
      table.rows.push_back({"text " + std::to_string(i), "label-" + std::to_string(i * 7919 % 100000)});
      table.lines.push_back(i + 2);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const LabelledData data = labelled_examples(table, "text", "label");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("100,000 distinct labels in %.2f s", seconds);
    QCOMPARE(data.labels.size(), size_t(100000));
    QCOMPARE(data.examples.size(), size_t(100000));
    QVERIFY2(seconds < 5, qPrintable(QString("%1 s (a quadratic de-duplication took 15 s)").arg(seconds)));
  }

  void wordPiecesWorstCaseIsLinear() {
    // bert-base-uncased's real vocabulary (resources/vocab), so that many pieces match partway.
    const fs::path folder = root() / "wordpiece";
    fs::create_directories(folder);
    fs::copy_file(fs::path(BERTSCOPE_TEST_RESOURCES) / "vocab" / "bert-base-uncased-vocab.txt", folder / "vocab.txt",
                  fs::copy_options::overwrite_existing);
    const WordPieceTokenizer tok = WordPieceTokenizer::load(folder, 512);
    // 256 KB of words of consonants: few long pieces match, so each position tries many lengths. Greedy longest
    // match over every length grows with the square of the word's length per character (1 MB of 100-character words
    // took 34 s); bounded by the longest vocabulary entry (18 characters) it is linear, so 100-character words cost
    // about what 30-character ones do (the old way: 3 to 5 times as much).
    auto seconds_for = [&](size_t word_length) {
      std::string text;
      std::mt19937 rng(3);
      const std::string consonants = "bcdfghjklmnpqrstvwxz";
      while (text.size() < (256u << 10)) {
        for (size_t i = 0; i < word_length; ++i) text += consonants[rng() % consonants.size()];
        text += ' ';
      }
      double best = 1e9;
      for (int run = 0; run < 2; ++run) {  // the faster of two: less noise from other work on the machine
        const auto t0 = std::chrono::steady_clock::now();
        const Encoding e = tok.encode(text);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (e.size() != 512) throw Error("expected 512 tokens");
      }
      return best;
    };
    const double short_words = seconds_for(30), long_words = seconds_for(100);
    qInfo("256 KB of 30-character words: %.2f s; of 100-character words: %.2f s", short_words, long_words);
    QVERIFY2(long_words < 2.5 * short_words + 0.3, qPrintable(QString("%1 s vs %2 s").arg(long_words).arg(short_words)));
  }

};

QTEST_GUILESS_MAIN(TestBoundedWork)
#include "test_bounded_work.moc"
