// Resource limits: any size a file implies (vocabulary entries and their length, CSV fields, columns, rows, the file
// itself) is checked against a sane bound before anything is allocated, and refused with a message naming the file
// and the line. Files over the byte bounds are made sparse, so the test costs no disk.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/csv.h"
#include "model/random_model.h"
#include "test_support.h"
#include "text/tokenizer.h"
#include "text/vocab_file.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& content) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

// A file of `bytes` bytes that takes no disk space.
void write_sparse(const fs::path& file, std::uintmax_t bytes) {
  write(file, "text,label\n");
  fs::resize_file(file, bytes);
}

// The Error `body` throws; fails the test when it throws none.
template <class F>
std::string error_of(F body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define QVERIFY_CONTAINS(text, part) \
  QVERIFY2((text).find(part) != std::string::npos, qPrintable(QString::fromStdString((text) + " lacks: " + (part))))

}  // namespace

class TestResourceLimits : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  fs::path root() const { return dir_.path().toStdString(); }
  std::string bert_vocab() const { return "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\n"; }

 private slots:
  void anOrdinaryVocabularyReadsAsBefore() {
    write(root() / "v1" / "vocab.txt", "[PAD]\n\n##s\nend-without-newline");
    const auto v = read_vocab_txt(root() / "v1" / "vocab.txt");
    QCOMPARE(v, (std::vector<std::string>{"[PAD]", "", "##s", "end-without-newline"}));
    write(root() / "v2" / "vocab.txt", "a\r\nb\n");  // like Hugging Face's rstrip("\n"): the '\r' stays
    QCOMPARE(read_vocab_txt(root() / "v2" / "vocab.txt"), (std::vector<std::string>{"a\r", "b"}));
    write(root() / "v3" / "vocab.txt", "");
    QVERIFY_CONTAINS(error_of([&] { read_vocab_txt(root() / "v3" / "vocab.txt"); }), "empty vocabulary");
  }

  void aVocabularyLineTooLongIsRefusedWithItsLine() {
    const fs::path folder = root() / "long-line";
    write(folder / "vocab.txt", bert_vocab() + std::string(kMaxVocabEntryBytes + 1, 'x') + "\ndog\n");
    const std::string e = error_of([&] { WordPieceTokenizer::load(folder, 32); });
    QVERIFY_CONTAINS(e, (folder / "vocab.txt").string());
    QVERIFY_CONTAINS(e, "line 8");
    // At the bound it is still an entry.
    write(folder / "vocab.txt", bert_vocab() + std::string(kMaxVocabEntryBytes, 'x') + "\n");
    QCOMPARE(WordPieceTokenizer::load(folder, 32).vocab_size(), size_t(8));
  }

  void tooManyVocabularyEntriesAreRefused() {
    // 1,000,001 empty lines: a 1 MB file that would make a million-row embedding table.
    const fs::path vocab = root() / "many" / "vocab.txt";
    write(vocab, bert_vocab() + std::string(kMaxVocabEntries, '\n'));
    const std::string e = error_of([&] { read_vocab_txt(vocab); });
    QVERIFY_CONTAINS(e, vocab.string());
    QVERIFY_CONTAINS(e, "more than the 1000000");
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.vocab_file = vocab;  // random-model and pretrain size the embeddings from it
    QVERIFY_CONTAINS(error_of([&] { write_random_model(root() / "many-model", spec); }), "more than the 1000000");
    QVERIFY(!fs::exists(root() / "many-model"));
  }

  void aVocabularyFileTooLargeIsRefusedBeforeReading() {
    const fs::path vocab = root() / "huge" / "vocab.txt";
    write_sparse(vocab, kMaxVocabFileBytes + 1);
    const std::string e = error_of([&] { read_vocab_txt(vocab); });
    QVERIFY_CONTAINS(e, vocab.string());
    QVERIFY_CONTAINS(e, "more than the 64 MiB");
    fs::remove(vocab);
    fs::create_directories(vocab);  // a folder under the name
    QVERIFY_CONTAINS(error_of([&] { read_vocab_txt(vocab); }), "not a regular file");
  }

  void tokenizerJsonVocabularyEntriesAreBounded() {
    const fs::path folder = root() / "tok-json";
    nlohmann::json vocab = {{"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3}, {"[MASK]", 4}};
    vocab[std::string(kMaxVocabEntryBytes + 1, 'y')] = 5;
    write(folder / "tokenizer.json", nlohmann::json{{"model", {{"type", "WordPiece"}, {"vocab", vocab}}}}.dump());
    const std::string e = error_of([&] { WordPieceTokenizer::load(folder, 32); });
    QVERIFY_CONTAINS(e, "tokenizer.json");
    QVERIFY_CONTAINS(e, "an entry of 1025 bytes");
  }

  void aCsvFieldTooLongCostsItsRowOnly() {
    const fs::path csv = root() / "long-field.csv";
    write(csv, "text,label\ngood,1\n\"" + std::string((1u << 20) + 1, 'a') + "\",0\nbad,0\n" +
               std::string((1u << 20) + 1, 'b') + ",1\nfine,1\n");
    const CsvTable t = read_csv(csv, {',', 1});
    QCOMPARE(t.rows.size(), size_t(3));
    QCOMPARE(t.problems.size(), size_t(2));
    QCOMPARE(t.problems[0].line, 3);
    QCOMPARE(t.problems[1].line, 5);
    QVERIFY_CONTAINS(t.problems[0].message, "a field longer than 1 MiB");
    const std::string e = error_of([&] { read_csv(csv, {',', 1, BadRows::Stop}); });
    QVERIFY_CONTAINS(e, csv.string() + ":3: a field longer than 1 MiB");
  }

  void tooManyColumnsCostTheirRow() {
    const fs::path csv = root() / "wide.csv";
    write(csv, "text,label\ngood,1\n" + std::string(20000, ',') + "\nbad,0\n");
    const CsvTable t = read_csv(csv, {',', 1});
    QCOMPARE(t.rows.size(), size_t(2));
    QCOMPARE(t.problems.size(), size_t(1));
    QCOMPARE(t.problems[0].line, 3);
    QVERIFY_CONTAINS(t.problems[0].message, "more than 16384 fields");
  }

  void tooManyRowsOrCellsRefuseTheFile() {
    const fs::path csv = root() / "rows.csv";
    std::string text = "text,label\n";
    for (int i = 0; i < 150; ++i) text += "row " + std::to_string(i) + "," + std::to_string(i % 2) + "\n";
    write(csv, text);
    CsvOptions o{',', 1};
    o.limits.max_rows = 100;  // the default, 10 million, is the same code with a larger number
    QVERIFY_CONTAINS(error_of([&] { read_csv(csv, o); }), csv.string() + ":101: more than 100 rows");
    o = CsvOptions{',', 1};
    o.limits.max_cells = 200;
    QVERIFY_CONTAINS(error_of([&] { read_csv(csv, o); }), csv.string() + ":101: more than 200 cells");
    QCOMPARE(read_csv(csv, {',', 1}).rows.size(), size_t(150));  // within the default bounds
    QVERIFY(CsvLimits{}.max_rows == 10'000'000 && CsvLimits{}.max_cells == 50'000'000);
  }

  void aCsvFileTooLargeIsRefusedBeforeReading() {
    const fs::path csv = root() / "huge.csv";
    write_sparse(csv, (std::uintmax_t(1) << 30) + 1);
    const std::string e = error_of([&] { read_csv(csv); });
    QVERIFY_CONTAINS(e, csv.string());
    QVERIFY_CONTAINS(e, "more than the 1 GiB a CSV/TSV file may have");
    fs::remove(csv);
  }
};

QTEST_GUILESS_MAIN(TestResourceLimits)
#include "test_resource_limits.moc"
