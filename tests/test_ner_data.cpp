// Training data and metrics for token classification: seqeval's scores on the hand-worked cases of seqeval's own
// README and tests, and the CoNLL / JSON-lines reader on good and broken files.
#include <QtTest>

#include <fstream>

#include "core/error.h"
#include "data/tagged.h"
#include "train/seqeval.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

using Tags = std::vector<std::vector<std::string>>;

fs::path write(const QTemporaryDir& dir, const std::string& name, const std::string& text) {
  const fs::path p = fs::path(dir.path().toStdString()) / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

bool close(double a, double b) { return std::fabs(a - b) < 1e-9; }

}  // namespace

class TestNerData : public QObject {
  Q_OBJECT
 private slots:
  // seqeval's README: one MISC entity off by one token, one PER entity right.
  void seqeval_readme_example() {
    const Tags truth = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
    const Tags pred = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
    for (bool strict : {false, true}) {
      const SeqevalReport r = seqeval(truth, pred, strict);
      QVERIFY(close(r.micro.f1, 0.5));
      QVERIFY(close(r.micro.precision, 0.5));
      QVERIFY(close(r.micro.recall, 0.5));
      QCOMPARE(r.micro.support, 2);
      QVERIFY(close(r.accuracy, 0.8));
      QVERIFY(close(r.per_type.at("MISC").f1, 0.0));
      QCOMPARE(r.per_type.at("MISC").support, 1);
      QVERIFY(close(r.per_type.at("PER").f1, 1.0));
    }
  }

  // seqeval's README on strict mode: a chunk opened by I-NP counts by conlleval's rules, not in strict IOB2.
  void strict_iob2_needs_a_b_tag() {
    const Tags truth = {{"B-NP", "I-NP", "O"}};
    const Tags pred = {{"I-NP", "I-NP", "O"}};
    QVERIFY(close(seqeval(truth, pred, false).per_type.at("NP").f1, 1.0));
    const SeqevalReport strict = seqeval(truth, pred, true);
    QVERIFY(close(strict.per_type.at("NP").f1, 0.0));
    QCOMPARE(strict.per_type.at("NP").predicted, 0);
  }

  // seqeval's get_entities tests.
  void spans_as_get_entities() {
    QCOMPARE(entity_spans({"B-PER", "I-PER", "O", "B-LOC"}, false),
             (std::vector<EntitySpan>{{"PER", 0, 1}, {"LOC", 3, 3}}));
    QCOMPARE(entity_spans({"B-PER", "I-PER", "O", "B-LOC", "I-PER"}, false),
             (std::vector<EntitySpan>{{"PER", 0, 1}, {"LOC", 3, 3}, {"PER", 4, 4}}));
    QCOMPARE(entity_spans({"O", "I-PER", "I-PER", "B-PER", "I-LOC"}, false),
             (std::vector<EntitySpan>{{"PER", 1, 2}, {"PER", 3, 3}, {"LOC", 4, 4}}));
    QCOMPARE(entity_spans({"B-PER", "E-PER", "S-LOC", "O"}, false),
             (std::vector<EntitySpan>{{"PER", 0, 1}, {"LOC", 2, 2}}));
    // Strict IOB2: the stray I-PER and the I-LOC after B-PER are no entities of their own.
    QCOMPARE(entity_spans({"O", "I-PER", "I-PER", "B-PER", "I-LOC"}, true), (std::vector<EntitySpan>{{"PER", 3, 3}}));
    QVERIFY_THROWS_EXCEPTION(Error, entity_spans({"B-PER", "PER"}, true));
    QVERIFY_THROWS_EXCEPTION(Error, entity_spans({"S-PER"}, true));  // IOBES is not IOB2
  }

  void nothing_predicted_scores_zero() {
    const SeqevalReport r = seqeval({{"B-PER", "O"}}, {{"O", "O"}});
    QVERIFY(close(r.micro.precision, 0.0));
    QVERIFY(close(r.micro.f1, 0.0));
    QVERIFY(close(r.accuracy, 0.5));
    QVERIFY_THROWS_EXCEPTION(Error, seqeval({{"O"}}, {{"O", "O"}}));
  }

  void conll_files_are_read() {
    QTemporaryDir dir;
    const fs::path p = write(dir, "train.txt",
                             "-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\n"
                             "call NN I-NP O\n\nPeter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\r\n");
    const TaggedData d = read_tagged_file(p);
    QCOMPARE(d.sentences.size(), size_t(2));
    QCOMPARE(d.sentences[0].words, (std::vector<std::string>{"EU", "rejects", "German", "call"}));
    // CoNLL-2003's own files are IOB1: I- opens an entity; they become IOB2.
    QCOMPARE(d.sentences[0].tags, (std::vector<std::string>{"B-ORG", "O", "B-MISC", "O"}));
    QCOMPARE(d.sentences[1].tags, (std::vector<std::string>{"B-PER", "I-PER"}));
    QCOMPARE(d.sentences[1].line, 8);
    QCOMPARE(d.iob1_fixes, 3);
    QCOMPARE(d.labels, (std::vector<std::string>{"O", "B-MISC", "B-ORG", "B-PER", "I-PER"}));
  }

  void json_lines_are_read() {
    QTemporaryDir dir;
    const TaggedData d = read_tagged_file(write(dir, "train.jsonl",
        "{\"tokens\": [\"Alice\", \"lives\", \"in\", \"Ohio\"], \"ner_tags\": [\"B-PER\", \"O\", \"O\", \"B-LOC\"]}\n\n"
        "{\"tokens\": [\"Hi\"], \"ner_tags\": [\"O\"]}\n"));
    QCOMPARE(d.sentences.size(), size_t(2));
    QCOMPARE(d.sentences[0].tags[3], std::string("B-LOC"));
    QCOMPARE(d.sentences[1].line, 3);
  }

  // Broken files: an error naming the file and the line, never a partial read.
  void broken_files_name_the_line() {
    QTemporaryDir dir;
    auto message = [&](const std::string& name, const std::string& text) {
      try {
        read_tagged_file(write(dir, name, text));
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    QVERIFY(message("a.txt", "EU B-ORG\nrejects\n").find("a.txt line 2") != std::string::npos);
    QVERIFY(message("b.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [\"O\"]}\n")
                .find("b.jsonl line 2: 2 tokens but 1 tags") != std::string::npos);
    QVERIFY(message("c.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [3]}\n").find("tags by name") != std::string::npos);
    QVERIFY(message("d.jsonl", "{\"tokens\": [\"a\"], \n").find("d.jsonl line 1") != std::string::npos);
    QVERIFY(message("e.txt", "\n\n-DOCSTART- O\n\n").find("no tagged sentences") != std::string::npos);
    QVERIFY(message("f.txt", std::string("Caf\xe9 O\n")).find("not UTF-8") != std::string::npos);
    QVERIFY(message("missing.txt", "").find("no error") == std::string::npos);
    // 100,000 nested arrays: refused with a message, not a stack overflow.
    QVERIFY(message("deep.jsonl", "{\"tokens\": " + std::string(100000, '[') + "\n").find("deep.jsonl line 1") != std::string::npos);
    // A stray line in an entity file: its last word would be read as a tag ("???") and make the whole file "not
    // entity tags"; it is refused, naming its own line (not the sentence's first).
    const std::string entities = "Alice B-PER\nBrown I-PER\nvisited O\nOhio B-LOC\n\nBob B-PER\nleft O\n";
    const std::string stray = message("g.txt", entities + "\nthis line is garbage ???\nParis B-LOC\n");
    QVERIFY2(stray.find("g.txt line 9: tag \"???\" is neither O nor B-") != std::string::npos, stray.c_str());
    QCOMPARE(message("h.txt", entities), std::string("no error"));
    // Part-of-speech files have no prefixes at all: never refused for that.
    QCOMPARE(message("pos.txt", "The DET\ncat NOUN\nsat VERB\n"), std::string("no error"));
  }

  // A validation tag the training data lacks, named by the line of the word that has it.
  void unknown_validation_tags_name_their_line() {
    QTemporaryDir dir;
    const TaggedData train = read_tagged_file(write(dir, "train.txt", "Alice B-PER\nvisited O\nOhio B-LOC\n"));
    const TaggedData known = read_tagged_file(write(dir, "ok.txt", "Bob B-PER\nleft O\n"));
    QVERIFY(first_unknown_tag(known, train.labels, "ok.txt").empty());
    const TaggedData val = read_tagged_file(write(dir, "val.txt", "Bob B-PER\n\nThe O\nEU B-MISC\n"));
    QCOMPARE(first_unknown_tag(val, train.labels, "val.txt"),
             std::string("val.txt line 4: tag \"B-MISC\" is not one of the model's labels (the training data's tags)"));
  }
};

QTEST_GUILESS_MAIN(TestNerData)
#include "test_ner_data.moc"
