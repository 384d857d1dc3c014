// The WordPiece tokenizer: unit tests on a small hand-made vocabulary, then conformance with Hugging Face
// (hf-oracle's transformers.js) on the real bert-base-uncased vocabulary and a varied set of inputs.
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_support.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

using namespace bertscope;

namespace {

WordPieceTokenizer small_tokenizer(bool lowercase = true, int max_len = 512) {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "play", "##ing",
                                    "##s", "un", "##aff", "##able", ",", "!", "cafe", "北", "京", "hello", "world",
                                    ".", "a", "##b", "Hello"};
  TokenizerOptions o;
  o.lowercase = lowercase;
  o.strip_accents = lowercase;
  o.model_max_length = max_len;
  return WordPieceTokenizer(vocab, o);
}

std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> v;
  for (const auto& t : tokens) v.push_back(t.text);
  return v;
}

// The original characters a token covers.
std::string span(const std::string& text, const Token& t) {
  auto u = unicode::decode_utf8(text);
  return unicode::encode_utf8(std::u32string_view(u).substr(t.start, t.end - t.start));
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT
 private slots:
  void splits_words_and_subwords() {
    auto t = small_tokenizer();
    QCOMPARE(texts(t.tokenize("The cat playing!")), (std::vector<std::string>{"the", "cat", "play", "##ing", "!"}));
    QCOMPARE(texts(t.tokenize("unaffable")), (std::vector<std::string>{"un", "##aff", "##able"}));
  }
  void unknown_words_become_unk() {
    auto t = small_tokenizer();
    auto tokens = t.tokenize("cats dogs");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"cat", "##s", "[UNK]"}));
    QVERIFY(tokens[2].unknown);
    QCOMPARE(span("cats dogs", tokens[2]), std::string("dogs"));
    std::string long_word(101, 'a');  // over 100 characters: [UNK] without trying WordPiece
    QCOMPARE(texts(t.tokenize(long_word)), (std::vector<std::string>{"[UNK]"}));
  }
  void lowercases_and_strips_accents_with_offsets() {
    auto t = small_tokenizer();
    const std::string text = "  CAFÉ, hello";
    auto tokens = t.tokenize(text);
    QCOMPARE(texts(tokens), (std::vector<std::string>{"cafe", ",", "hello"}));
    QCOMPARE(span(text, tokens[0]), std::string("CAFÉ"));
    QCOMPARE(tokens[0].start, 2);
    QCOMPARE(span(text, tokens[1]), std::string(","));
  }
  void cased_vocabulary_keeps_case() {
    auto t = small_tokenizer(false);
    QCOMPARE(texts(t.tokenize("Hello hello")), (std::vector<std::string>{"Hello", "hello"}));
  }
  void cjk_and_control_characters() {
    auto t = small_tokenizer();
    QCOMPARE(texts(t.tokenize("北京")), (std::vector<std::string>{"北", "京"}));
    QCOMPARE(texts(t.tokenize(std::string("the\x01\x7f cat\t\n") + "\xe2\x80\x8b")), (std::vector<std::string>{"the", "cat"}));
    QVERIFY(t.tokenize("").empty());
    QVERIFY(t.tokenize(" \n\t ").empty());
  }
  void special_tokens_typed_in_text_stay_whole() {
    auto t = small_tokenizer();
    auto tokens = t.tokenize("the[MASK]cat [mask]");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"the", "[MASK]", "cat", "[UNK]", "[UNK]", "[UNK]"}));
    QVERIFY(tokens[1].special);
    QCOMPARE(tokens[1].start, 3);
    QCOMPARE(tokens[1].end, 9);
  }
  void pairs_and_truncation() {
    auto t = small_tokenizer(true, 8);
    Encoding e = t.encode("the cat", std::string_view("hello world"));
    QCOMPARE(e.ids(), (std::vector<std::int32_t>{2, 5, 6, 3, 18, 19, 3}));
    QCOMPARE(e.type_ids(), (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 1}));
    QCOMPARE(e.truncated_tokens, 0);
    Encoding cut = t.encode("the cat the cat the cat", std::string_view("hello"));  // 6 + 1 + 3 > 8
    QCOMPARE(static_cast<int>(cut.size()), 8);
    QCOMPARE(cut.truncated_tokens, 2);
    QCOMPARE(cut.tokens.back().text, std::string("[SEP]"));
  }
  void decode_merges_pieces() {
    auto t = small_tokenizer();
    QCOMPARE(t.decode(t.encode("The cat playing, hello!").ids()), std::string("the cat playing, hello!"));
  }
  void invalid_utf8_is_dropped_not_crashing() {
    auto t = small_tokenizer();
    QCOMPARE(texts(t.tokenize("the \xff\xfe cat")), (std::vector<std::string>{"the", "cat"}));
  }
  void load_rejects_bad_folders() {
    QTemporaryDir dir;
    QVERIFY_THROWS_EXCEPTION(Error, WordPieceTokenizer::load(dir.path().toStdString(), 512));
    std::ofstream(dir.filePath("vocab.txt").toStdString()) << "a\nb\n";  // no [CLS]/[SEP]/[UNK]
    QVERIFY_THROWS_EXCEPTION(Error, WordPieceTokenizer::load(dir.path().toStdString(), 512));
  }

  // added_tokens.json and special_tokens_map.json, as transformers' from_pretrained applies them for a folder without
  // tokenizer.json (AutoTokenizer then converts to the fast tokenizer, whose matching this follows): new tokens take
  // the next ids; the special ones match as typed and count as special; the others match after lower-casing.
  void added_tokens_json_extends_the_vocabulary() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    {
      std::ofstream vocab(folder + "/vocab.txt");
      for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "!", "<", ">", "ent"}) vocab << t << "\n";
    }
    std::ofstream(folder + "/added_tokens.json") << R"({"newword": 12, "<ent>": 11})";
    std::ofstream(folder + "/special_tokens_map.json")
        << R"({"cls_token": "[CLS]", "additional_special_tokens": [{"content": "<ent>", "lstrip": false}]})";
    const WordPieceTokenizer t = WordPieceTokenizer::load(folder, 512);
    QCOMPARE(t.vocab_size(), size_t(13));
    const auto tokens = t.tokenize("the<ent>cat NewWord!");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"the", "<ent>", "cat", "newword", "!"}));
    QCOMPARE(tokens[1].id, 11);
    QVERIFY(tokens[1].special && t.is_special(11));
    QCOMPARE(tokens[3].id, 12);
    QVERIFY(!tokens[3].special && !t.is_special(12));
    QCOMPARE(span("the<ent>cat NewWord!", tokens[3]), std::string("NewWord"));
    QCOMPARE(t.decode(t.encode("the<ent>cat newword").ids()), std::string("the cat newword"));  // <ent> is special

    // An id that is neither the next one nor (with tokenizer.json) the token's own is refused, naming the file.
    std::ofstream(folder + "/added_tokens.json") << R"({"newword": 20})";
    try {
      WordPieceTokenizer::load(folder, 512);
      QFAIL("a non-consecutive added token was accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("added_tokens.json") != std::string::npos, e.what());
    }
    std::ofstream(folder + "/added_tokens.json") << R"(["not", "an", "object"])";
    QVERIFY_THROWS_EXCEPTION(Error, WordPieceTokenizer::load(folder, 512));
  }

  // tokenizer.json's added_tokens keep their "special" and "normalized" flags; a token past model.vocab is appended.
  // A normalized token matches the normalized (lower-cased) text, as the tokenizers library does since it normalizes
  // the token's content too. transformers.js differs here: it answers [UNK] for both "BIRD" and "bird" (checked by
  // hand with hf-oracle's tokenize on this folder); "Dog" matching only as typed is the same in both.
  void tokenizer_json_added_tokens_keep_their_flags() {
    QTemporaryDir dir;
    nlohmann::json vocab = {{"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3}, {"[MASK]", 4}, {"the", 5}, {"cat", 6}};
    nlohmann::json added = nlohmann::json::array();
    int id = 0;
    for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
      added.push_back({{"id", id++}, {"content", s}, {"special", true}, {"normalized", false}});
    added.push_back({{"id", 7}, {"content", "Dog"}, {"special", false}, {"normalized", false}});
    added.push_back({{"id", 8}, {"content", "Bird"}, {"special", false}, {"normalized", true}});
    const nlohmann::json tok = {{"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}},
                                {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
                                {"added_tokens", added}};
    std::ofstream(dir.filePath("tokenizer.json").toStdString()) << tok.dump();
    const WordPieceTokenizer t = WordPieceTokenizer::load(dir.path().toStdString(), 512);
    QCOMPARE(t.vocab_size(), size_t(9));
    const auto tokens = t.tokenize("the Dog dog BIRD bird");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"the", "Dog", "[UNK]", "Bird", "Bird"}));
    QVERIFY(!tokens[1].special && !t.is_special(7));
  }

  void matches_hugging_face() {
    QString why;
    auto dir = test::oracle_fixtures(&why);
    if (dir.empty()) QSKIP(qPrintable(why));
    auto inputs = test::read_jsonl(dir / "tokenize_inputs.jsonl");
    auto expected = test::read_jsonl(dir / "tokenize_expected.jsonl");
    QCOMPARE(inputs.size(), expected.size());
    // From vocab.txt + tokenizer_config.json, and from tokenizer.json alone: both must agree with Hugging Face.
    QTemporaryDir json_only;
    std::filesystem::copy_file(dir / "mlm_small" / "tokenizer.json", json_only.filePath("tokenizer.json").toStdString());
    const WordPieceTokenizer from_vocab = WordPieceTokenizer::load(dir / "mlm_small", 512);
    const WordPieceTokenizer from_json = WordPieceTokenizer::load(json_only.path().toStdString(), 512);
    for (const WordPieceTokenizer* tok : {&from_vocab, &from_json}) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& in = inputs[i];
        std::optional<std::string> pair;
        if (in.contains("text_pair")) pair = in["text_pair"].get<std::string>();
        Encoding e = tok->encode(in["text"].get<std::string>(), pair ? std::optional<std::string_view>(*pair) : std::nullopt);
        QVERIFY2(e.ids() == expected[i]["ids"].get<std::vector<std::int32_t>>(),
                 qPrintable(QString("ids differ from Hugging Face for input %1: %2").arg(i).arg(QString::fromStdString(in.dump()))));
        QVERIFY(e.type_ids() == expected[i]["type_ids"].get<std::vector<std::int32_t>>());
        const auto text32 = unicode::decode_utf8(in["text"].get<std::string>());
        for (const Token& t : e.tokens)  // offsets stay inside the sentence they came from
          QVERIFY(t.start >= 0 && t.start <= t.end);
        (void)text32;
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
