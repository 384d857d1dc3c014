// Question-answering data and scores: SQuAD v1.1/v2.0 JSON and JSON lines read with bad entries reported by id; the
// official evaluation scripts' normalisation, exact match, F1 and v2.0 best threshold on cases worked by hand from
// the scripts' code; and run_qa's training windows with the answer's tokens (or [CLS]) labelled.
#include <QtTest>
#include <set>

#include "core/error.h"
#include "data/squad.h"
#include "text/tokenizer.h"
#include "train/qa_fine_tune.h"
#include "train/squad_metrics.h"

using namespace bertscope;

namespace {

WordPieceTokenizer small_tokenizer() {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat",
                                    ".", "what", "did", "sit", "?", "a", "dog", "ran", "to", "park", "##s", "who"};
  TokenizerOptions o;
  o.model_max_length = 512;
  return WordPieceTokenizer(vocab, o);
}

QaExample example(std::string question, std::string context, std::string answer, int start) {
  QaExample e;
  e.id = "q";
  e.question = std::move(question);
  e.context = std::move(context);
  if (!answer.empty()) e.answers.push_back({std::move(answer), start});
  return e;
}

std::string window_text(const Encoding& e, int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += (i > from ? " " : "") + e.tokens[static_cast<size_t>(i)].text;
  return s;
}

}  // namespace

class TestQaData : public QObject {
  Q_OBJECT
 private slots:
  void reads_squad_v1_and_v2() {
    const std::string v2 = R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{
      "context": "The Normans gave their name to Normandy, a region in France.",
      "qas": [{"id": "q1", "question": "Where is Normandy?", "answers": [{"text": "France", "answer_start": 53}]},
              {"id": "q2", "question": "Who named Paris?", "answers": [], "is_impossible": true},
              {"id": "q3", "question": "Wrong start?", "answers": [{"text": "France", "answer_start": 3}]},
              {"id": "q1", "question": "Same id again", "answers": [{"text": "France", "answer_start": 53}]},
              {"id": "q5", "question": "No answers, not impossible", "answers": []}]}]}]})";
    const QaData d = parse_qa(v2, "dev.json");
    QCOMPARE(d.examples.size(), size_t(2));
    QVERIFY(d.has_unanswerable);
    QCOMPARE(d.examples[0].answers[0].text, std::string("France"));
    QVERIFY(d.examples[1].answers.empty());
    QCOMPARE(d.skipped.size(), size_t(3));
    QVERIFY2(d.skipped[0].rfind("q3: answer \"France\" is not at its answer_start 3", 0) == 0, d.skipped[0].c_str());
    QVERIFY(d.skipped[1].rfind("q1: the id is used", 0) == 0);
    QVERIFY(d.skipped[2].rfind("q5: no answers", 0) == 0);
  }
  void answer_start_counts_characters_not_bytes() {
    // "Café" is 4 characters and 5 bytes: SQuAD's answer_start is Python's str index.
    const QaData d = parse_qa(R"({"question": "Where?", "context": "Café Zürich is here.", "answers": {"text": ["Zürich"], "answer_start": [5]}})",
                              "x.jsonl");
    QCOMPARE(d.examples.size(), size_t(1));
    QVERIFY(!d.has_unanswerable);
  }
  void reads_json_lines() {
    const std::string lines =
        "{\"id\": \"a\", \"question\": \"What did the cat sit on?\", \"context\": \"The cat sat on the mat.\", "
        "\"answers\": {\"text\": [\"the mat\"], \"answer_start\": [15]}}\n\n"
        "{\"id\": 7, \"question\": \"Who barked?\", \"context\": \"Nobody.\", \"answers\": {\"text\": [], \"answer_start\": []}}\n"
        "{\"question\": \"Q\", \"context\": \"C\", \"answers\": {\"text\": [\"x\"], \"answer_start\": []}}\n";
    const QaData d = parse_qa(lines, "train.jsonl");
    QCOMPARE(d.examples.size(), size_t(2));
    QCOMPARE(d.examples[1].id, std::string("7"));
    QVERIFY(d.has_unanswerable);
    QCOMPARE(d.skipped.size(), size_t(1));
    QVERIFY2(d.skipped[0].rfind("line 4:", 0) == 0, d.skipped[0].c_str());
  }
  void refuses_what_is_not_qa_data() {
    for (const std::string& bad : {std::string("not json at all"), std::string("{\"data\": [{\"no\": 1}]}"),
                                  std::string("\xff\xfe{}"), std::string(""),
                                  std::string("{\"question\": \"q\", \"context\": \"c\", \"answers\": []}")}) {
      try {
        parse_qa(bad, "bad.json");
        QFAIL(("accepted: " + bad).c_str());
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("bad.json") != std::string::npos, e.what());
      }
    }
    std::string deep(100000, '[');  // nesting bounded, not a stack overflow
    QVERIFY_THROWS_EXCEPTION(Error, parse_qa(deep, "deep.json"));
  }

  // Held-out validation (the CLI's --validation SHARE, the Fine-tune view's validation share): whole paragraphs,
  // seeded, so that no context is read in training and validation both.
  void holds_out_whole_contexts() {
    QaData data;
    for (int c = 0; c < 10; ++c)
      for (int q = 0; q < 3; ++q)
        data.examples.push_back({"c" + std::to_string(c) + "q" + std::to_string(q), "Q?", "context " + std::to_string(c),
                                 c == 0 && q == 0 ? std::vector<QaAnswerSpan>{} : std::vector<QaAnswerSpan>{{"context", 0}}});
    data.has_unanswerable = true;
    QaData train = data;
    const QaData held = hold_out_contexts(train, 0.3, 7);
    QCOMPARE(held.examples.size(), size_t(9));  // 3 of 10 contexts, all 3 questions of each
    QCOMPARE(train.examples.size(), size_t(21));
    std::set<std::string> held_contexts;
    for (const QaExample& e : held.examples) held_contexts.insert(e.context);
    QCOMPARE(held_contexts.size(), size_t(3));
    for (const QaExample& e : train.examples) QVERIFY(!held_contexts.count(e.context));
    QCOMPARE(held.has_unanswerable, held_contexts.count("context 0") > 0);
    QCOMPARE(train.has_unanswerable, held_contexts.count("context 0") == 0);
    QaData again = data;  // the same seed holds out the same contexts; another seed, others
    QCOMPARE(hold_out_contexts(again, 0.3, 7).examples.front().id, held.examples.front().id);
    bool other = false;
    for (std::uint32_t seed = 8; seed < 20 && !other; ++seed) {
      QaData copy = data;
      std::set<std::string> contexts;
      for (const QaExample& e : hold_out_contexts(copy, 0.3, seed).examples) contexts.insert(e.context);
      other = contexts != held_contexts;
    }
    QVERIFY(other);
    QaData none = data;  // a share of 0 holds out nothing; of 1, everything
    QVERIFY(hold_out_contexts(none, 0, 7).examples.empty());
    QCOMPARE(none.examples.size(), size_t(30));
    QaData all = data;
    QCOMPARE(hold_out_contexts(all, 1, 7).examples.size(), size_t(30));
    QVERIFY(all.examples.empty());
  }

  // normalize_answer: lower case, string.punctuation removed, \b(a|an|the)\b to a space, white space collapsed.
  void normalizes_as_the_official_script() {
    QCOMPARE(normalize_squad_answer("The Quick, brown fox!"), std::string("quick brown fox"));
    QCOMPARE(normalize_squad_answer("an apple a day"), std::string("apple day"));
    QCOMPARE(normalize_squad_answer("theater anthem"), std::string("theater anthem"));  // articles only as words
    QCOMPARE(normalize_squad_answer("A-team"), std::string("ateam"));  // punctuation goes first
    QCOMPARE(normalize_squad_answer("the\u2014cat"), std::string("\u2014cat"));  // an em dash is not string.punctuation
    QCOMPARE(normalize_squad_answer("  l'Amour\t\n  TOUJOURS "), std::string("lamour toujours"));
    QCOMPARE(normalize_squad_answer("The"), std::string(""));
  }
  void exact_and_f1_as_the_official_script() {
    QCOMPARE(squad_exact("The cat", "cat."), 1.0);
    QCOMPARE(squad_exact("cat", "cats"), 0.0);
    // gold [cat, sat], prediction [cat, sat, on, mat]: 2 in common, precision 1/2, recall 1 -> F1 2/3.
    QVERIFY(qAbs(squad_f1("the cat sat", "cat sat on the mat", false) - 2.0 / 3) < 1e-12);
    // Counter intersection: "x x y" vs "x y y" share one x and one y.
    QVERIFY(qAbs(squad_f1("x x y", "x y y", false) - 2.0 / 3) < 1e-12);
    QCOMPARE(squad_f1("cat", "dog", false), 0.0);
    // Empty sides: v1.1 scores 0 (no token in common); v2.0 scores 1 when both are empty.
    QCOMPARE(squad_f1("", "", false), 0.0);
    QCOMPARE(squad_f1("", "", true), 1.0);
    QCOMPARE(squad_f1("", "a cat", true), 0.0);
    QCOMPARE(squad_f1("the", "", true), 1.0);  // "the" normalises to nothing
  }
  void scores_v1_as_the_official_script() {
    std::vector<QaExample> examples(2);
    examples[0].id = "1";
    examples[0].answers = {{"Denver Broncos", 0}, {"the Broncos", 0}};
    examples[1].id = "2";
    examples[1].answers = {{"Santa Clara, California", 0}};
    std::map<std::string, QaPrediction> predictions = {{"1", {"Broncos", 0}}, {"2", {"Santa Clara", 0}}};
    const SquadScores s = score_squad(examples, predictions, false);
    // q1: exact with "the Broncos" -> 1; q2: F1 of [santa, clara] vs [santa, clara, california] = 0.8.
    QCOMPARE(s.exact, 50.0);
    QVERIFY(qAbs(s.f1 - 90.0) < 1e-9);
    const auto j = squad_scores_json(s);
    QVERIFY(j.contains("exact_match") && j.contains("f1") && !j.contains("HasAns_exact"));
    // A question without a prediction scores 0.
    predictions.erase("2");
    QCOMPARE(score_squad(examples, predictions, false).missing, 1);
    QVERIFY(qAbs(score_squad(examples, predictions, false).f1 - 50.0) < 1e-9);
  }
  void scores_v2_and_finds_the_best_threshold() {
    // q1 answerable and right (na 0.1); q2 unanswerable but answered (na 0.6); q3 unanswerable, left empty (na 0.3).
    std::vector<QaExample> examples(3);
    examples[0].id = "q1";
    examples[0].answers = {{"France", 0}};
    examples[1].id = "q2";
    examples[2].id = "q3";
    const std::map<std::string, QaPrediction> predictions = {
        {"q1", {"France", 0.1}}, {"q2", {"Paris", 0.6}}, {"q3", {"", 0.3}}};
    const SquadScores s = score_squad(examples, predictions, true);
    QVERIFY(qAbs(s.exact - 200.0 / 3) < 1e-9);
    QCOMPARE(s.has_ans_total, 1);
    QCOMPARE(s.has_ans_exact, 100.0);
    QCOMPARE(s.no_ans_total, 2);
    QCOMPARE(s.no_ans_exact, 50.0);
    // find_best_thresh: start at 2 (all "no answer"); q1 (0.1) +1 -> 3, best at 0.1; q3 (0.3) +0; q2 (0.6) -1.
    QCOMPARE(s.best_exact, 100.0);
    QCOMPARE(s.best_exact_thresh, 0.1);
    const auto j = squad_scores_json(s);
    for (const char* key : {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact",
                            "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"})
      QVERIFY2(j.contains(key), key);
  }

  // run_qa's prepare_train_features: the answer's first and last tokens inside a window, [CLS] elsewhere.
  void labels_the_answer_tokens_in_each_window() {
    const WordPieceTokenizer t = small_tokenizer();
    // Context tokens: the cat sat on the mat . a dog ran to the park ##s .  (the answer "parks" is two pieces)
    const QaExample e = example("  who ran?", "The cat sat on the mat. A dog ran to the parks.", "the parks", 37);
    QCOMPARE(e.context.substr(37, 9), std::string("the parks"));
    auto one = qa_train_features(t, {e}, 384, 128);
    QCOMPARE(one.size(), size_t(1));
    const Encoding& w = one[0].encoding;
    QCOMPARE(window_text(w, one[0].start_position, one[0].end_position), std::string("the park ##s"));
    QCOMPARE(w.tokens[0].text, std::string("[CLS]"));
    QCOMPARE(w.tokens[1].text, std::string("who"));  // the question is left-stripped, as run_qa does

    // Windows of 12 tokens: [CLS] who ran ? [SEP] + 6 context tokens + [SEP], stride 2 -> windows start every 4.
    auto windows = qa_train_features(t, {e}, 12, 2);
    QVERIFY(windows.size() >= 3);
    int labelled = 0;
    for (const QaFeature& f : windows) {
      if (f.start_position == 0) {
        QCOMPARE(f.end_position, 0);  // [CLS] when the answer is not wholly inside
        continue;
      }
      ++labelled;
      QCOMPARE(window_text(f.encoding, f.start_position, f.end_position), std::string("the park ##s"));
    }
    QCOMPARE(labelled, 1);

    // An unanswerable question labels every window at [CLS].
    for (const QaFeature& f : qa_train_features(t, {example("who?", "The cat sat.", "", 0)}, 384, 128))
      QVERIFY(f.start_position == 0 && f.end_position == 0);
  }
  void an_answer_inside_a_word_piece_labels_the_whole_piece() {
    const WordPieceTokenizer t = small_tokenizer();
    // "park" of "parks": the answer ends inside the word; its token is "park" alone.
    const QaExample e = example("who?", "A dog ran to the parks.", "park", 17);
    const auto f = qa_train_features(t, {e}, 384, 128);
    QCOMPARE(window_text(f[0].encoding, f[0].start_position, f[0].end_position), std::string("park"));
  }
};

QTEST_GUILESS_MAIN(TestQaData)
#include "test_qa_data.moc"
