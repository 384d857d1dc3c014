// RoBERTa's byte-level BPE tokenizer: hand-worked cases on a small vocabulary built here (offsets as Hugging Face's
// Python fast tokenizer reports them, worked out from tokenizers' source: pre_tokenizers/byte_level.rs,
// processors/roberta.rs, added_vocabulary.rs), then conformance with Hugging Face (hf-oracle's transformers.js) on
// GPT-2's real vocabulary laid out as roberta-base's (oracle/make_roberta_tokenizer.py) and varied inputs.
//
// Where transformers.js differs from Hugging Face's Python (tokenizers), the Python behaviour is what bertscope does
// and what the hand-worked cases check; the oracle inputs avoid these:
//  - \s in GPT-2's pattern: JavaScript's has U+FEFF and lacks U+0085; Rust's and Oniguruma's are Unicode White_Space;
//  - token type ids: transformers.js's RobertaProcessing would give the pair 1s (its tokenize answers none); Python 0s;
//  - truncation: transformers.js cuts the joined ids (dropping the last </s>); Python truncates each sentence
//    (longest first, both to halves when both are long) before adding <s> and </s>;
//  - added tokens: transformers.js matches them in one pass, Python first the non-normalized ones then the others
//    (the same unless two added tokens overlap);
//  - add_prefix_space/trim_offsets: transformers.js takes tokenizer.json's, Python's RobertaTokenizerFast imposes
//    tokenizer_config.json's (false/true when it says nothing).
// And hf_pipeline.mjs passes no text_pair when it is "", where Python would encode an empty second sentence
// (<s> A </s></s></s>): the oracle inputs have no empty text_pair; encode_pairs_and_type_ids covers it.
#include <QElapsedTimer>
#include <QtTest>
#include <fstream>
#include <set>

#include "core/error.h"
#include "test_support.h"
#include "text/byte_level_bpe.h"
#include "text/unicode.h"

using namespace bertscope;

namespace {

// A byte-level vocabulary: <s> <pad> </s> <unk>, the 256 byte characters, the given words (each merged left to
// right, one character at a time, a leading space last, so BPE rebuilds exactly these words), then <mask>.
struct MiniVocab {
  std::vector<std::string> vocab = {"<s>", "<pad>", "</s>", "<unk>"};
  std::vector<ByteLevelBpe::Merge> merges;
  std::set<std::string> have{vocab.begin(), vocab.end()};
  std::set<ByteLevelBpe::Merge> merged;

  MiniVocab() {
    for (int b = 0; b < 256; ++b) add(ByteLevelBpe::to_byte_level(std::string(1, static_cast<char>(b))));
  }
  void add(const std::string& t) {
    if (have.insert(t).second) vocab.push_back(t);
  }
  void merge(const std::string& left, const std::string& right) {
    if (merged.insert({left, right}).second) merges.push_back({left, right});
    add(left + right);
  }
  void word(const std::string& utf8) {
    if (utf8.size() > 1 && utf8[0] == ' ') {  // " world": "world", then "Ġ" + "world" (as GPT-2's merges go)
      word(utf8.substr(1));
      merge(ByteLevelBpe::to_byte_level(" "), ByteLevelBpe::to_byte_level(utf8.substr(1)));
      return;
    }
    const std::u32string chars = unicode::decode_utf8(ByteLevelBpe::to_byte_level(utf8));
    std::string left = unicode::encode_utf8(chars.substr(0, 1));
    for (size_t i = 1; i < chars.size(); ++i) {
      const std::string right = unicode::encode_utf8(chars.substr(i, 1));
      merge(left, right);
      left += right;
    }
  }
};

const std::vector<std::string> kWords = {"Paris", "Hello", " world", " is", " the", " of", " France", "  ", "I",
                                         " they", " can", " play", "ing", " Hello", " a", " b", "aa"};

MiniVocab mini_vocab() {
  MiniVocab v;
  for (const auto& w : kWords) v.word(w);
  v.merge("aa", "aa");
  v.add("<mask>");
  return v;
}

std::vector<AddedToken> roberta_added(const MiniVocab& v, bool mask_lstrip = true) {
  std::vector<AddedToken> added;
  for (const char* t : {"<s>", "<pad>", "</s>", "<unk>"}) added.push_back({t, -1, true, false, false, false, false});
  AddedToken mask{"<mask>", -1, true, mask_lstrip, false, false, false};
  added.push_back(mask);
  (void)v;
  return added;
}

ByteLevelBpe mini(ByteLevelBpeOptions options = {}, bool mask_lstrip = true) {
  const MiniVocab v = mini_vocab();
  return ByteLevelBpe(v.vocab, v.merges, roberta_added(v, mask_lstrip), options);
}

std::vector<std::string> texts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}

using Span = std::pair<int, int>;
std::vector<Span> spans(const std::vector<Token>& tokens) {
  std::vector<Span> out;
  for (const auto& t : tokens) out.emplace_back(t.start, t.end);
  return out;
}

// GPT-2's splits of a text, read back from the tokens' word indices (each token's bytes, joined by word).
std::vector<std::string> words(const ByteLevelBpe& bpe, std::string_view text) {
  std::vector<std::string> out;
  int current = -1;
  for (const Token& t : bpe.tokenize(text)) {
    if (t.word != current) out.emplace_back();
    current = t.word;
    out.back() += ByteLevelBpe::from_byte_level(t.text);
  }
  return out;
}

std::string u8(const char32_t* s) { return unicode::encode_utf8(s); }

void write(const QTemporaryDir& dir, const char* name, const std::string& content) {
  std::ofstream(dir.filePath(name).toStdString(), std::ios::binary) << content;
}

// A vocab.json + merges.txt + tokenizer_config.json folder of the mini vocabulary.
void write_mini_folder(const QTemporaryDir& dir, const std::string& tokenizer_config = "{\"model_max_length\": 512}") {
  const MiniVocab v = mini_vocab();
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < v.vocab.size(); ++i) vocab[v.vocab[i]] = i;
  write(dir, "vocab.json", vocab.dump());
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : v.merges) merges += a + " " + b + "\n";
  write(dir, "merges.txt", merges);
  write(dir, "tokenizer_config.json", tokenizer_config);
}

template <class F>
QString error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return "(no error)";
}

}  // namespace

class TestBpe : public QObject {
  Q_OBJECT
 private slots:
  void byte_map_is_gpt2s() {
    QCOMPARE(ByteLevelBpe::to_byte_level("a b"), u8(U"a\u0120b"));  // the space is "Ġ"
    QCOMPARE(ByteLevelBpe::to_byte_level("\n"), u8(U"\u010A"));     // "Ċ"
    QCOMPARE(ByteLevelBpe::to_byte_level("\xc3\xa9"), u8(U"\u00C3\u00A9"));  // é's two bytes
    QCOMPARE(ByteLevelBpe::to_byte_level(std::string(1, '\0')), u8(U"\u0100"));
    for (int b = 0; b < 256; ++b) {
      const std::string one(1, static_cast<char>(b));
      QCOMPARE(ByteLevelBpe::from_byte_level(ByteLevelBpe::to_byte_level(one)), one);
    }
  }

  void gpt2_pattern_splits() {
    const ByteLevelBpe bpe = mini();
    using V = std::vector<std::string>;
    QCOMPARE(words(bpe, "I'm they'll can't"), (V{"I", "'m", " they", "'ll", " can", "'t"}));
    QCOMPARE(words(bpe, "I'M 'sam ''s"), (V{"I", "'", "M", " '", "sam", " ''", "s"}));  // case-sensitive
    QCOMPARE(words(bpe, "abc123 456 x!? !"), (V{"abc", "123", " 456", " x", "!?", " !"}));
    QCOMPARE(words(bpe, "a   b"), (V{"a", "  ", " b"}));       // the last space goes with the word
    QCOMPARE(words(bpe, "a\n\nb"), (V{"a", "\n", "\n", "b"}));  // \s+(?!\S), then \s+ for the one before b
    QCOMPARE(words(bpe, "a \n b"), (V{"a", " \n", " b"}));
    QCOMPARE(words(bpe, "end   "), (V{"end", "   "}));          // a run that ends the text is taken whole
    QCOMPARE(words(bpe, " "), (V{" "}));
    QCOMPARE(words(bpe, u8(U"cafe\u0301 x\u00b2\u2462")), (V{"cafe", u8(U"\u0301"), " x", u8(U"\u00b2\u2462")}));
    // U+0085 is White_Space for Rust and Oniguruma (so for Hugging Face); JavaScript's \s lacks it and would keep
    // "\u0085\u0085" together as punctuation. U+FEFF is not White_Space (JavaScript's \s has it).
    QCOMPARE(words(bpe, u8(U"\u0085\u0085x")), (V{u8(U"\u0085"), u8(U"\u0085"), "x"}));
    QCOMPARE(words(bpe, u8(U"a\uFEFF\uFEFFb")), (V{"a", u8(U"\uFEFF\uFEFF"), "b"}));
    QCOMPARE(words(bpe, u8(U"a\u3000\u3000b")), (V{"a", u8(U"\u3000"), u8(U"\u3000"), "b"}));
    QVERIFY(bpe.tokenize("").empty());
  }

  void merges_rebuild_words_and_offsets_skip_the_space() {
    const ByteLevelBpe bpe = mini();
    auto tokens = bpe.tokenize("Hello world");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"Hello", u8(U"\u0120world")}));
    // Hugging Face: [(0, 5), (6, 11)]: trim_offsets leaves the space out of "Ġworld".
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 5}, {6, 11}}));
    QCOMPARE(tokens[0].word, 0);
    QCOMPARE(tokens[1].word, 1);
    QCOMPARE(bpe.readable(tokens[1].id), std::string(" world"));
    // A word not in the vocabulary falls apart into known pieces: " playing" -> "Ġplay" "ing".
    tokens = bpe.tokenize("Hello playing");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"Hello", u8(U"\u0120play"), "ing"}));
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 5}, {6, 10}, {10, 13}}));
    QCOMPARE(tokens[2].word, 1);
  }

  void whitespace_tokens_have_empty_spans() {
    const ByteLevelBpe bpe = mini();
    // "a", "ĠĠ", "Ġb": "ĠĠ" is all spaces, so trimming leaves (3, 3); Hugging Face gives the same.
    const auto tokens = bpe.tokenize("a   b");
    QCOMPARE(texts(tokens), (std::vector<std::string>{"a", u8(U"\u0120\u0120"), u8(U"\u0120b")}));
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 1}, {3, 3}, {4, 5}}));
    const auto lone = bpe.tokenize(" ");
    QCOMPARE(spans(lone), (std::vector<Span>{{1, 1}}));
  }

  void split_characters_cover_the_whole_character() {
    const ByteLevelBpe bpe = mini();
    // 😀 is F0 9F 98 80: four byte tokens here, each covering code point 1 (as Hugging Face's char offsets do).
    const auto tokens = bpe.tokenize(u8(U"x\U0001F600y"));
    QCOMPARE(tokens.size(), size_t(6));
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 1}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {2, 3}}));
    QCOMPARE(bpe.decode({tokens[1].id, tokens[2].id, tokens[3].id, tokens[4].id}), u8(U"\U0001F600"));
    // Part of a character: one U+FFFD for the truncated sequence, as from_utf8_lossy and Python's "replace".
    QCOMPARE(bpe.decode({tokens[0].id, tokens[1].id, tokens[2].id, tokens[5].id}), u8(U"x\uFFFDy"));
    QCOMPARE(bpe.readable(tokens[1].id), u8(U"\uFFFD"));
  }

  void mask_takes_the_space_before_it() {
    const ByteLevelBpe bpe = mini();
    const std::string text = "Paris is the <mask> of France.";
    const auto tokens = bpe.tokenize(text);
    const std::string mask = "<mask>";
    QCOMPARE(texts(tokens), (std::vector<std::string>{"Paris", u8(U"\u0120is"), u8(U"\u0120the"), mask,
                                                      u8(U"\u0120of"), u8(U"\u0120France"), "."}));
    // Hugging Face: the mask's split is " <mask>" (12, 19), which RobertaProcessing trims to (13, 19).
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 5}, {6, 8}, {9, 12}, {13, 19}, {20, 22}, {23, 29}, {29, 30}}));
    QVERIFY(tokens[3].special);
    QCOMPARE(tokens[3].id, bpe.mask_id());
    QCOMPARE(tokens[3].word, 3);
    QCOMPARE(tokens[6].word, 6);
    // Without lstrip the space stays a token of its own.
    const ByteLevelBpe plain = mini({}, /*mask_lstrip=*/false);
    QCOMPARE(texts(plain.tokenize("Paris <mask>")), (std::vector<std::string>{"Paris", u8(U"\u0120"), mask}));
    // All the whitespace before it, of any kind; none when there is none; at the start.
    auto t = bpe.tokenize(u8(U"the\t \u00a0<mask>x<mask>"));
    QCOMPARE(texts(t), (std::vector<std::string>{"the", mask, "x", mask}));
    QCOMPARE(spans(t), (std::vector<Span>{{0, 3}, {6, 12}, {12, 13}, {13, 19}}));
    t = bpe.tokenize("  <mask>");
    QCOMPARE(texts(t), (std::vector<std::string>{mask}));
    QCOMPARE(spans(t), (std::vector<Span>{{2, 8}}));
    // Typed special tokens stay whole; near misses do not.
    t = bpe.tokenize("<s>Hello</s><pad>");
    QCOMPARE(texts(t), (std::vector<std::string>{"<s>", "Hello", "</s>", "<pad>"}));
    QVERIFY(t[0].special && !t[1].special && t[3].special);
    QCOMPARE(bpe.tokenize("<mas k>").size(), size_t(7));
  }

  void add_prefix_space() {
    ByteLevelBpeOptions o;
    o.add_prefix_space = true;
    const ByteLevelBpe bpe = mini(o);
    auto tokens = bpe.tokenize("Hello world");
    QCOMPARE(texts(tokens), (std::vector<std::string>{u8(U"\u0120Hello"), u8(U"\u0120world")}));
    // The added space is not trimmed from the first token: (0, 5), as Hugging Face (transformers #16321, fixed).
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 5}, {6, 11}}));
    // A text that starts with its own space gets none added; that space then stays in the first span, (0, 6), as
    // tokenizers' process_offsets keeps one leading space of the first token whenever add_prefix_space is on.
    tokens = bpe.tokenize(" Hello");
    QCOMPARE(texts(tokens), (std::vector<std::string>{u8(U"\u0120Hello")}));
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 6}}));
  }

  void encode_pairs_and_type_ids() {
    const ByteLevelBpe bpe = mini();
    const Encoding e = bpe.encode("Hello", std::string_view("Hello world"));
    const auto hello = *bpe.find("Hello"), world = *bpe.find(u8(U"\u0120world"));
    QCOMPARE(e.ids(), (std::vector<std::int32_t>{0, hello, 2, 2, hello, world, 2}));
    QCOMPARE(e.type_ids(), (std::vector<std::int32_t>(7, 0)));  // RoBERTa: all 0
    QCOMPARE(e.tokens[4].sequence, 1);
    QCOMPARE(e.tokens[3].sequence, -1);
    QVERIFY(e.tokens[0].special && e.tokens[2].special && e.tokens[3].special && e.tokens[6].special);
    QCOMPARE(e.tokens[5].start, 6);  // offsets into its own sentence
    QCOMPARE(bpe.encode("").ids(), (std::vector<std::int32_t>{0, 2}));
    QCOMPARE(bpe.encode("", std::string_view("")).ids(), (std::vector<std::int32_t>{0, 2, 2, 2}));
  }

  void truncation_is_longest_first_as_tokenizers() {
    const ByteLevelBpe bpe = mini();
    const std::string ten = "a a a a a a a a a a";  // "a" + 9 x "Ġa": 10 tokens
    QCOMPARE(bpe.tokenize(ten).size(), size_t(10));
    Encoding e = bpe.encode(ten, std::nullopt, 7);
    QCOMPARE(e.size(), size_t(7));
    QCOMPARE(e.truncated_tokens, 5);
    QCOMPARE(e.tokens.back().id, bpe.sep_id());
    // Both long (10 + 10, 7 left after the 4 special tokens): 3 and 4, tokenizers' halves (the second gets the odd
    // one when they tie). Python's slow tokenizer, dropping one token at a time, would keep 4 and 3.
    e = bpe.encode(ten, std::string_view(ten), 11);
    QCOMPARE(e.size(), size_t(11));
    QCOMPARE(e.truncated_tokens, 13);
    auto count = [&](int sequence) {
      return std::count_if(e.tokens.begin(), e.tokens.end(), [&](const Token& t) { return t.sequence == sequence; });
    };
    QCOMPARE(count(0), 3);
    QCOMPARE(count(1), 4);
    // Only the longer one needs cutting: the shorter keeps all its tokens.
    e = bpe.encode(ten, std::string_view("a a"), 11);
    QCOMPARE(count(0), 5);
    QCOMPARE(count(1), 2);
    e = bpe.encode("a a", std::string_view(ten), 11);
    QCOMPARE(count(0), 2);
    QCOMPARE(count(1), 5);
    // A longer first sentence gets the odd token: 11 + 10, 7 left: 4 and 3.
    e = bpe.encode(ten + " a", std::string_view(ten), 11);
    QCOMPARE(count(0), 4);
    QCOMPARE(count(1), 3);
    QVERIFY_THROWS_EXCEPTION(Error, bpe.encode("a", std::string_view("b"), 3));
    QCOMPARE(bpe.encode(ten, std::nullopt, 2).size(), size_t(2));
    // 0: the model's maximum.
    ByteLevelBpeOptions o;
    o.model_max_length = 5;
    QCOMPARE(mini(o).encode(ten).size(), size_t(5));
  }

  void decode_as_hugging_face() {
    const ByteLevelBpe bpe = mini();
    const Encoding e = bpe.encode("Hello world , it's <mask> .");
    QCOMPARE(bpe.decode(e.ids()), std::string("Hello world, it's."));  // clean_up_tokenization_spaces
    QCOMPARE(bpe.decode(e.ids(), false), std::string("<s>Hello world, it's<mask>.</s>"));
    ByteLevelBpeOptions o;
    o.clean_up_tokenization_spaces = false;
    const ByteLevelBpe raw = mini(o);
    QCOMPARE(raw.decode(e.ids()), std::string("Hello world , it's ."));
    QCOMPARE(raw.decode(raw.encode("  tabs\tand\nnew lines  ").ids()), std::string("  tabs\tand\nnew lines  "));
    QCOMPARE(raw.decode({-1, 100000, *bpe.find("Hello")}), std::string("Hello"));  // unknown ids are skipped
  }

  void invalid_utf8_reads_as_replacement_characters() {
    const ByteLevelBpe bpe = mini();
    const auto tokens = bpe.tokenize("a\xff" "b");
    QCOMPARE(tokens.size(), size_t(5));  // a, the three bytes of U+FFFD, b
    QCOMPARE(spans(tokens), (std::vector<Span>{{0, 1}, {1, 2}, {1, 2}, {1, 2}, {2, 3}}));
    QCOMPARE(bpe.decode(bpe.encode("a\xff" "b").ids()), u8(U"a\uFFFDb"));
  }

  void word_boundaries_for_display() {
    const ByteLevelBpe bpe = mini();
    const Encoding e = bpe.encode("Hello, playing world!", std::string_view("Hello"));
    // <s> Hello , Ġplay ing Ġworld ! </s> </s> Hello </s>
    std::vector<bool> continues;
    for (size_t i = 0; i < e.size(); ++i) continues.push_back(bpe.continues_word(e, i));
    QCOMPARE(continues, (std::vector<bool>{false, false, true, false, true, false, true, false, false, false, false}));
    const Encoding spaced = bpe.encode("a\nb");  // after a newline a new word starts
    QVERIFY(!bpe.continues_word(spaced, 2) && !bpe.continues_word(spaced, 3));
  }

  void lookups() {
    const ByteLevelBpe bpe = mini();
    const MiniVocab v = mini_vocab();
    QCOMPARE(bpe.vocab_size(), v.vocab.size());
    QCOMPARE(bpe.cls_id(), 0);
    QCOMPARE(bpe.pad_id(), 1);
    QCOMPARE(bpe.sep_id(), 2);
    QCOMPARE(bpe.unk_id(), 3);
    QCOMPARE(bpe.mask_id(), static_cast<std::int32_t>(v.vocab.size() - 1));
    QCOMPARE(bpe.token(bpe.mask_id()), std::string("<mask>"));
    QVERIFY(bpe.is_special(0) && bpe.is_special(bpe.mask_id()) && !bpe.is_special(4) && !bpe.is_special(-1));
    QVERIFY(!bpe.find("nope"));
    const auto hello = std::find(v.vocab.begin(), v.vocab.end(), "Hello") - v.vocab.begin();
    QCOMPARE(*bpe.find("Hello"), static_cast<std::int32_t>(hello));
  }

  void loads_folders() {
    QTemporaryDir dir;
    write_mini_folder(dir);
    const ByteLevelBpe from_files = ByteLevelBpe::load(dir.path().toStdString(), 512);
    const ByteLevelBpe direct = mini();
    const std::string text = "Paris is the <mask> of France. Hello   playing\n\nworld";
    QCOMPARE(from_files.encode(text).ids(), direct.encode(text).ids());
    QCOMPARE(spans(from_files.encode(text).tokens), spans(direct.encode(text).tokens));
    QCOMPARE(from_files.mask_id(), direct.mask_id());
    // tokenizer.json alone, with merges in the old "a b" form.
    const MiniVocab v = mini_vocab();
    nlohmann::json j;
    j["model"] = {{"type", "BPE"}, {"unk_token", nullptr}, {"vocab", nlohmann::json::object()},
                  {"merges", nlohmann::json::array()}};
    for (size_t i = 0; i < v.vocab.size(); ++i) j["model"]["vocab"][v.vocab[i]] = i;
    for (const auto& [a, b] : v.merges) j["model"]["merges"].push_back(a + " " + b);
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}};
    j["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}}};
    j["added_tokens"] = nlohmann::json::array();
    for (const auto& a : roberta_added(v))
      j["added_tokens"].push_back({{"id", *direct.find(a.content)}, {"content", a.content}, {"lstrip", a.lstrip},
                                   {"rstrip", false}, {"single_word", false}, {"normalized", false},
                                   {"special", true}});
    QTemporaryDir json_only;
    write(json_only, "tokenizer.json", j.dump());
    const ByteLevelBpe from_json = ByteLevelBpe::load(json_only.path().toStdString(), 512);
    QCOMPARE(from_json.encode(text).ids(), direct.encode(text).ids());
    QCOMPARE(spans(from_json.encode(text).tokens), spans(direct.encode(text).tokens));
  }

  void usable_length() {
    QTemporaryDir dir;
    write_mini_folder(dir);
    // RoBERTa's config says 514 positions, but two go to padding_idx + 1: tokenizer_config's 512 is the limit.
    QCOMPARE(ByteLevelBpe::load(dir.path().toStdString(), 514).options().model_max_length, 512);
    QCOMPARE(ByteLevelBpe::load(dir.path().toStdString(), 512).options().model_max_length, 512);
    QCOMPARE(ByteLevelBpe::load(dir.path().toStdString(), 128).options().model_max_length, 128);
    QTemporaryDir bare;  // no model_max_length (or 1e30, "no limit"): the caller's number
    write_mini_folder(bare, "{\"model_max_length\": 1e30}");
    QCOMPARE(ByteLevelBpe::load(bare.path().toStdString(), 510).options().model_max_length, 510);
  }

  void folder_options() {
    QTemporaryDir dir;
    write_mini_folder(dir, R"({"add_prefix_space": true, "clean_up_tokenization_spaces": false,
                               "mask_token": {"content": "<mask>", "lstrip": false}})");
    const ByteLevelBpe bpe = ByteLevelBpe::load(dir.path().toStdString(), 512);
    QVERIFY(bpe.options().add_prefix_space);
    QVERIFY(!bpe.options().clean_up_tokenization_spaces);
    QCOMPARE(texts(bpe.tokenize("Hello <mask>")),
             (std::vector<std::string>{u8(U"\u0120Hello"), u8(U"\u0120"), "<mask>"}));  // lstrip off
  }

  void rejects_bad_folders() {
    QTemporaryDir empty;
    QVERIFY(error_of([&] { ByteLevelBpe::load(empty.path().toStdString(), 512); }).contains("merges.txt"));
    auto check = [](const char* file, const std::string& content, const char* expected_in_message) {
      QTemporaryDir dir;
      write_mini_folder(dir);
      write(dir, file, content);
      const QString message = error_of([&] { ByteLevelBpe::load(dir.path().toStdString(), 512); });
      QVERIFY2(message.contains(file) && message.contains(expected_in_message), qPrintable(message));
    };
    check("merges.txt", "#version: 0.2\nH e\nHe l l\n", "line 3");
    check("merges.txt", "H\n", "line 1");
    check("merges.txt", "#version: 0.2\nzz q\n", "'zz' is not in the vocabulary");
    check("vocab.json", "[1, 2]", "vocabulary");
    check("vocab.json", R"({"<s>": 0, "</s>": 5})", "outside");
    check("vocab.json", R"({"<s>": 0, "</s>": "one"})", "the id of '</s>'");
    check("vocab.json", "{\"<s>\": 0,", "not valid JSON");
    check("tokenizer_config.json", R"({"mask_token": "[MASK]"})", "'[MASK]' is not in");
    check("tokenizer_config.json", R"({"add_prefix_space": "yes"})", "add_prefix_space");
    check("special_tokens_map.json", R"({"cls_token": 5})", "cls_token");
    QTemporaryDir no_cls;  // <s> is required
    {
      nlohmann::json vocab = {{"</s>", 0}, {"a", 1}};
      write(no_cls, "vocab.json", vocab.dump());
      write(no_cls, "merges.txt", "#version: 0.2\n");
    }
    QVERIFY(error_of([&] { ByteLevelBpe::load(no_cls.path().toStdString(), 512); }).contains("<s>"));
    QTemporaryDir wordpiece;
    write(wordpiece, "tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"[CLS]": 0}}})");
    QVERIFY(error_of([&] { ByteLevelBpe::load(wordpiece.path().toStdString(), 512); }).contains("\"BPE\""));
  }

  void long_inputs_stay_fast() {
    // Hugging Face's BPE has no length cap and needs none: merging is a heap, O(n log n) in a word's bytes. Debug
    // build, 2 cores: a 100,000-character word (merged down to "aaaa" pieces) and 5,000 words each take well
    // under a second; the bound here only catches a quadratic regression.
    const ByteLevelBpe bpe = mini();
    QElapsedTimer timer;
    timer.start();
    const auto tokens = bpe.tokenize(std::string(100000, 'a'));
    const qint64 word_ms = timer.elapsed();
    QCOMPARE(tokens.size(), size_t(25000));
    QCOMPARE(tokens.back().end, 100000);
    std::string text;
    for (int i = 0; i < 5000; ++i) text += i % 7 == 0 ? "Hello, " : "playing world ";
    timer.restart();
    const auto many = bpe.tokenize(text);
    const qint64 words_ms = timer.elapsed();
    qInfo("100,000-character word: %lld ms; 5,000 words (%zu tokens): %lld ms", word_ms, many.size(), words_ms);
    QVERIFY(word_ms < 10000 && words_ms < 10000);
  }

  void matches_hugging_face() {
    const char* env = std::getenv("BERTSCOPE_ORACLE_FIXTURES");
    if (!env) QSKIP("BERTSCOPE_ORACLE_FIXTURES is not set (run through ctest)");
    const std::filesystem::path dir = std::filesystem::path(env) / "bpe";
    if (std::filesystem::exists(dir / "SKIPPED")) {
      std::ifstream in(dir / "SKIPPED");
      std::string reason;
      std::getline(in, reason);
      QSKIP(qPrintable(QString::fromStdString("Hugging Face oracle unavailable: " + reason)));
    }
    if (!std::filesystem::exists(dir / "bpe_expected.jsonl"))
      QSKIP("bpe oracle fixtures missing (oracle_fixtures did not run)");
    // From tokenizer.json (+ tokenizer_config.json), and from vocab.json + merges.txt: both must agree.
    QTemporaryDir files_only;
    for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"})
      std::filesystem::copy_file(dir / "roberta" / f, files_only.filePath(f).toStdString());
    const ByteLevelBpe from_json = ByteLevelBpe::load(dir / "roberta", 512);
    const ByteLevelBpe from_files = ByteLevelBpe::load(files_only.path().toStdString(), 512);
    QCOMPARE(from_json.vocab_size(), size_t(50261));
    QCOMPARE(from_json.mask_id(), 50260);
    for (const char* set : {"bpe", "bpe_random"}) {
      const auto inputs = test::read_jsonl(dir / (std::string(set) + "_inputs.jsonl"));
      const auto expected = test::read_jsonl(dir / (std::string(set) + "_expected.jsonl"));
      QCOMPARE(inputs.size(), expected.size());
      QVERIFY(!inputs.empty());
      for (const ByteLevelBpe* bpe : {&from_json, &from_files}) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          compare(*bpe, inputs[i], expected[i]);
          if (QTest::currentTestFailed()) QFAIL(qPrintable(QString("%1_inputs.jsonl line %2").arg(set).arg(i + 1)));
        }
      }
    }
    // Speed on the real vocabulary (Debug build): a 100,000-character word and 5,000 words.
    QElapsedTimer timer;
    timer.start();
    const size_t long_word = from_json.tokenize(std::string(100000, 'x') + "yz").size();
    const qint64 word_ms = timer.elapsed();
    std::string text;
    for (int i = 0; i < 625; ++i) text += "The quick brown fox can't jump 42 times! ";
    timer.restart();
    const size_t many = from_json.tokenize(text).size();
    qInfo("GPT-2 vocabulary: 100,000-character word -> %zu tokens in %lld ms; 5,000 words -> %zu tokens in %lld ms",
          long_word, word_ms, many, static_cast<qint64>(timer.elapsed()));
  }

 private:
  static void compare(const ByteLevelBpe& bpe, const nlohmann::json& in, const nlohmann::json& expected) {
    const std::string text = in["text"].get<std::string>();
    std::optional<std::string> pair;
    if (in.contains("text_pair")) pair = in["text_pair"].get<std::string>();
    const Encoding e = bpe.encode(text, pair ? std::optional<std::string_view>(*pair) : std::nullopt, 1 << 30);
    QVERIFY2(e.ids() == expected["ids"].get<std::vector<std::int32_t>>(),
             qPrintable("ids differ from Hugging Face for " + QString::fromStdString(in.dump())));
    const auto& type_ids = expected["type_ids"];  // transformers.js gives none for RoBERTa; Hugging Face 0s
    if (!type_ids.is_null()) QVERIFY(e.type_ids() == type_ids.get<std::vector<std::int32_t>>());
    QVERIFY(e.type_ids() == std::vector<std::int32_t>(e.size(), 0));
    check_offsets(bpe, e, text, pair.value_or(""));
  }

  // Each token's span is the text its bytes decode to, without the spaces trimming leaves out; a token holding part
  // of a character covers all the characters its bytes touch.
  static void check_offsets(const ByteLevelBpe& bpe, const Encoding& e, const std::string& a, const std::string& b) {
    const std::u32string sentences[2] = {unicode::decode_utf8(a), unicode::decode_utf8(b)};
    for (const Token& t : e.tokens) {
      if (t.sequence < 0) {
        QCOMPARE(t.start, 0);
        QCOMPARE(t.end, 0);
        continue;
      }
      const std::u32string& s = sentences[t.sequence];
      QVERIFY(t.start >= 0 && t.start <= t.end && t.end <= static_cast<int>(s.size()));
      const std::u32string covered = s.substr(t.start, t.end - t.start);
      if (t.id == bpe.mask_id()) {
        QCOMPARE(unicode::encode_utf8(covered), std::string("<mask>"));
        continue;
      }
      std::u32string own = unicode::decode_utf8(bpe.readable(t.id));
      if (own.find(U'\uFFFD') != std::u32string::npos) {  // part of a character: its bytes lie in what it covers
        std::string bytes = ByteLevelBpe::from_byte_level(t.text);
        while (!bytes.empty() && bytes.front() == ' ') bytes.erase(bytes.begin());  // trimmed away
        QVERIFY(!covered.empty() && unicode::encode_utf8(covered).find(bytes) != std::string::npos);
        continue;
      }
      while (!own.empty() && own.front() == U' ') own.erase(own.begin());
      while (!own.empty() && own.back() == U' ') own.pop_back();
      QVERIFY2(covered == own, qPrintable(QString("token %1 covers '%2'")
                                              .arg(QString::fromStdString(t.text),
                                                   QString::fromStdString(unicode::encode_utf8(covered)))));
    }
  }
};

QTEST_GUILESS_MAIN(TestBpe)
#include "test_bpe.moc"
