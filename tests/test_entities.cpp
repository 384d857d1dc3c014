// The entity pipeline's steps after the model, on the hand-built cases of transformers' own pipeline tests
// (tests/pipelines/test_pipelines_token_classification.py: test_aggregation_strategy and _example2), plus the
// decoder's word rebuilding and the merge of entities found twice in overlapping windows.
#include <QtTest>

#include <cmath>

#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "text/tokenizer.h"

using namespace bertscope;

namespace {

const std::map<int, std::string> kConll = {{0, "O"},     {1, "B-MISC"}, {2, "I-MISC"}, {3, "B-PER"}, {4, "I-PER"},
                                           {5, "B-ORG"}, {6, "I-ORG"},  {7, "B-LOC"},  {8, "I-LOC"}};

WordPieceTokenizer tiny_wordpiece() {
  TokenizerOptions o;
  o.lowercase = false;
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "En", "##zo", "UN", "Ra", "##ma", "##zotti"}, o);
}

PreEntity pre(std::string word, std::vector<double> scores, int start, int end, int index, bool subword) {
  scores.resize(kConll.size(), 0.0);  // the upstream arrays are of mixed lengths; only their argmax matters
  PreEntity p;
  p.word = std::move(word);
  p.scores = std::move(scores);
  p.start = start;
  p.end = end;
  p.index = index;
  p.is_subword = subword;
  p.token = index;
  return p;
}

struct Want {
  std::string label;
  double score;
  std::string word;
  int start, end;
};

void expect(const std::vector<Entity>& got, const std::vector<Want>& want, double tolerance = 5e-4) {
  QCOMPARE(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    QCOMPARE(got[i].label, want[i].label);
    QVERIFY2(std::fabs(got[i].score - want[i].score) < tolerance, qPrintable(QString::number(got[i].score)));
    QCOMPARE(got[i].word, want[i].word);
    QCOMPARE(got[i].start, want[i].start);
    QCOMPARE(got[i].end, want[i].end);
  }
}

}  // namespace

class TestEntities : public QObject {
  Q_OBJECT
 private slots:
  // "En ##zo ... UN": the word-level strategies all agree here; simple averages the two pieces' scores.
  void aggregation_strategy() {
    const auto tok = tiny_wordpiece();
    const std::vector<PreEntity> example = {
        pre("En", {0, 0, 0, 0, 0.9968166351318359}, 0, 2, 1, false),
        pre("##zo", {0, 0, 0, 0, 0.9957635998725891}, 2, 4, 2, true),
        pre("UN", {0, 0, 0, 0, 0, 0.9986497163772583}, 11, 13, 7, false),
    };
    const auto none = aggregate_entities(example, Aggregation::None, kConll, tok);
    expect(none, {{"I-PER", 0.997, "En", 0, 2}, {"I-PER", 0.996, "##zo", 2, 4}, {"B-ORG", 0.999, "UN", 11, 13}});
    QCOMPARE(none[0].index, 1);
    QCOMPARE(none[2].index, 7);
    expect(aggregate_entities(example, Aggregation::Simple, kConll, tok), {{"PER", 0.996, "Enzo", 0, 4}, {"ORG", 0.999, "UN", 11, 13}});
    expect(aggregate_entities(example, Aggregation::First, kConll, tok), {{"PER", 0.997, "Enzo", 0, 4}, {"ORG", 0.999, "UN", 11, 13}});
    expect(aggregate_entities(example, Aggregation::Max, kConll, tok), {{"PER", 0.997, "Enzo", 0, 4}, {"ORG", 0.999, "UN", 11, 13}});
    expect(aggregate_entities(example, Aggregation::Average, kConll, tok), {{"PER", 0.996, "Enzo", 0, 4}, {"ORG", 0.999, "UN", 11, 13}});
  }

  // "Ra ##ma ##zotti": first takes the first piece's label, max the most confident piece's, average the label
  // with the best mean (B-PER, which no piece picked).
  void aggregation_strategy_example2() {
    const auto tok = tiny_wordpiece();
    const std::vector<PreEntity> example = {
        pre("Ra", {0, 0.55, 0, 0.45}, 0, 2, 1, false),
        pre("##ma", {0, 0, 0, 0.2, 0, 0, 0, 0.8}, 2, 4, 2, true),
        pre("##zotti", {0, 0, 0, 0.4, 0, 0, 0.6}, 11, 13, 3, true),
    };
    expect(aggregate_entities(example, Aggregation::None, kConll, tok),
           {{"B-MISC", 0.55, "Ra", 0, 2}, {"B-LOC", 0.8, "##ma", 2, 4}, {"I-ORG", 0.6, "##zotti", 11, 13}}, 1e-9);
    expect(aggregate_entities(example, Aggregation::First, kConll, tok), {{"MISC", 0.55, "Ramazotti", 0, 13}}, 1e-9);
    expect(aggregate_entities(example, Aggregation::Max, kConll, tok), {{"LOC", 0.8, "Ramazotti", 0, 13}}, 1e-9);
    expect(aggregate_entities(example, Aggregation::Average, kConll, tok), {{"PER", 0.35, "Ramazotti", 0, 13}}, 1e-9);
  }

  // B- starts a new entity even after the same tag; I- of another tag too; labels without B-/I- continue.
  void grouping_follows_bio_tags() {
    const auto tok = tiny_wordpiece();
    const std::vector<PreEntity> tokens = {
        pre("En", {0, 0, 0, 0.9}, 0, 2, 1, false),        // B-PER
        pre("UN", {0, 0, 0, 0, 0.8}, 3, 5, 2, false),     // I-PER: joins
        pre("Ra", {0, 0, 0, 0.7}, 6, 8, 3, false),        // B-PER: a new entity
        pre("En", {0, 0, 0, 0, 0, 0, 0.6}, 9, 11, 4, false),  // I-ORG: a new entity
    };
    const auto groups = aggregate_entities(tokens, Aggregation::Simple, kConll, tok);
    expect(groups, {{"PER", 0.85, "En UN", 0, 5}, {"PER", 0.7, "Ra", 6, 8}, {"ORG", 0.6, "En", 9, 11}}, 1e-9);
    QCOMPARE(groups[0].tokens, (std::vector<int>{1, 2}));
    const std::map<int, std::string> plain = {{0, "O"}, {1, "PER"}};
    const auto untagged = aggregate_entities({pre("En", {0, 0.9}, 0, 2, 1, false), pre("UN", {0, 0.7}, 3, 5, 2, false)},
                                             Aggregation::Simple, plain, tok);
    expect(untagged, {{"PER", 0.8, "En UN", 0, 5}}, 1e-9);
  }

  // convert_tokens_to_string as the fast tokenizer's WordPiece decoder does it.
  void words_are_rebuilt_by_the_decoder() {
    const auto tok = tiny_wordpiece();
    QCOMPARE(tok.tokens_to_string({"New", "York"}), std::string("New York"));
    QCOMPARE(tok.tokens_to_string({"Ra", "##ma", "##zotti"}), std::string("Ramazotti"));
    QCOMPARE(tok.tokens_to_string({"##ma", "Ra"}), std::string("##ma Ra"));  // the first piece keeps its "##"
    QCOMPARE(tok.tokens_to_string({"U", ".", "N", "."}), std::string("U. N."));
    QCOMPARE(tok.tokens_to_string({}), std::string());
  }

  // Two windows found the same span: the longer one wins, then the better scored one.
  void overlapping_windows_keep_one_entity() {
    auto entity = [](int start, int end, double score) {
      Entity e;
      e.label = "PER";
      e.start = start;
      e.end = end;
      e.score = score;
      return e;
    };
    const auto merged = merge_overlapping_entities(
        {entity(0, 5, 0.9), entity(20, 30, 0.5), entity(20, 30, 0.7), entity(22, 26, 0.99), entity(40, 45, 0.8),
         entity(40, 48, 0.6)});
    QCOMPARE(merged.size(), size_t(3));
    QCOMPARE(merged[0].start, 0);
    QCOMPARE(merged[1].score, 0.7);  // same span: the better score; the shorter (22, 26) loses
    QCOMPARE(merged[2].end, 48);     // the longer span wins over a better score
    QVERIFY(merge_overlapping_entities({}).empty());
  }

  // A text longer than the model takes: read in overlapping windows, every token labelled once, in text order,
  // on both backends.
  void long_texts_go_in_windows() {
    QString why;
    const auto fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    for (const char* backend : {"cpu", "vulkan"}) {
      BackendRequest request;
      request.kind = parse_backend_kind(backend);
      std::unique_ptr<Session> s;
      try {
        s = std::make_unique<Session>(fixtures / "bert_token", request);
      } catch (const std::exception& e) {
        QSKIP(e.what());
      }
      std::string text;
      for (int i = 0; i < 300; ++i) text += "Alice met Bob in Paris on day " + std::to_string(i) + ". ";
      EntityOptions every;
      every.ignore_labels.clear();
      every.stride = 16;
      const EntityResult r = recognize_entities(s->model(), s->tokenizer(), text, every);
      const auto tokens = s->tokenizer().tokenize(text);
      QVERIFY2(r.windows > 2, qPrintable(QString::number(r.windows)));
      QCOMPARE(r.tokens.size(), tokens.size());
      QCOMPARE(r.entities.size(), tokens.size());  // aggregation none: one entity per token, each found once
      for (size_t i = 0; i < tokens.size(); ++i) {
        QCOMPARE(r.entities[i].start, tokens[i].start);
        QCOMPARE(r.tokens[i].start, tokens[i].start);
      }
      every.aggregation = Aggregation::Simple;
      const EntityResult grouped = recognize_entities(s->model(), s->tokenizer(), text, every);
      for (size_t i = 1; i < grouped.entities.size(); ++i)  // merged across window edges: no overlaps left
        QVERIFY(grouped.entities[i].start >= grouped.entities[i - 1].end);
    }
  }

  // Word-tagged data (CoNLL) reads each word's tag from its first piece; for words without punctuation that is the
  // same tokenization, and so the same answer, as the joined sentence's first pieces.
  void word_tags_come_from_first_pieces() {
    QString why;
    const auto fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    for (const char* model : {"bert_token", "roberta_token", "distilbert_token"}) {
      BackendRequest request;
      request.kind = BackendKind::Cpu;
      Session s(fixtures / model, request);
      const std::vector<std::string> words = {"Unaffable", "Alice", "met", "Bob", "in", "Paris", "yesterday"};
      const auto tags = predict_word_tags(s.model(), s.tokenizer(), {words});
      QCOMPARE(tags.size(), size_t(1));
      QCOMPARE(tags[0].size(), words.size());
      const TokenClassifyResult joined = classify_tokens(s.model(), s.tokenizer(), "Unaffable Alice met Bob in Paris yesterday");
      std::vector<std::string> first_pieces;
      int last_word = -1;
      for (const TokenLabel& t : joined.tokens) {
        const Token& token = joined.encoding.tokens[static_cast<size_t>(t.index)];
        if (token.word == last_word) continue;
        last_word = token.word;
        first_pieces.push_back(t.entity);
      }
      QCOMPARE(tags[0], first_pieces);
      // Truncation: the words that do not fit get no tag.
      const auto cut = predict_word_tags(s.model(), s.tokenizer(), {words}, 5);
      QVERIFY(!cut[0][0].empty());
      QVERIFY(cut[0].back().empty());
    }
  }

  void aggregation_names() {
    QCOMPARE(parse_aggregation("SIMPLE"), std::optional<Aggregation>(Aggregation::Simple));
    QCOMPARE(parse_aggregation("average"), std::optional<Aggregation>(Aggregation::Average));
    QVERIFY(!parse_aggregation("mean"));
    QCOMPARE(aggregation_name(Aggregation::Max), std::string("max"));
  }
};

QTEST_GUILESS_MAIN(TestEntities)
#include "test_entities.moc"
