// libFuzzer harness: RoBERTa's byte-level BPE (ByteLevelBpe). Every input is used twice:
//  1. as text for a small fixed tokenizer (RoBERTa's special tokens, the 256 byte characters, a few merges; the
//     options picked by the first byte): encoded alone and as a pair (split at the middle), with checks that a crash
//     alone would miss: offsets inside their sentence and in order, ids in the vocabulary, and decode(encode(text))
//     giving the text back (invalid UTF-8 read as U+FFFD) when it has no '<' (added tokens drop or take spaces);
//  2. as a tokenizer folder, split at NUL bytes into vocab.json, merges.txt and tokenizer_config.json (no NUL:
//     tokenizer.json alone), loaded as ByteLevelBpe::load does and used on a fixed sentence.
#include <cstring>
#include <filesystem>
#include <string_view>

#include "fuzz_support.h"
#include "text/byte_level_bpe.h"
#include "text/unicode.h"

namespace {

using bertscope::ByteLevelBpe;

// Options from the bits of `variant`.
ByteLevelBpe make_tokenizer(unsigned variant) {
  std::vector<std::string> vocab = {"<s>", "<pad>", "</s>", "<unk>"};
  for (int b = 0; b < 256; ++b) vocab.push_back(ByteLevelBpe::to_byte_level(std::string(1, static_cast<char>(b))));
  std::vector<ByteLevelBpe::Merge> merges;
  auto merge = [&](const char* left, const char* right) {
    const std::string l = ByteLevelBpe::to_byte_level(left), r = ByteLevelBpe::to_byte_level(right);
    merges.push_back({l, r});
    vocab.push_back(l + r);
  };
  merge(" ", "t");
  merge("h", "e");
  merge(" t", "he");
  merge("a", "a");
  merge("aa", "aa");
  merge(" ", " ");
  merge("\xF0", "\x9F");  // parts of an emoji: pieces that split characters
  merge("\xF0\x9F", "\x98");
  merge("e", "\xCC");
  vocab.push_back("<mask>");
  std::vector<bertscope::AddedToken> added;
  for (const char* t : {"<s>", "<pad>", "</s>", "<unk>"}) added.push_back({t, -1, true, false, false, false, false});
  added.push_back({"<mask>", -1, true, true, (variant & 16) != 0, (variant & 32) != 0, false});
  bertscope::ByteLevelBpeOptions o;
  o.add_prefix_space = variant & 1;
  o.trim_offsets = !(variant & 2);
  o.use_regex = !(variant & 4);
  o.ignore_merges = variant & 8;
  o.clean_up_tokenization_spaces = false;
  o.model_max_length = 64;
  return ByteLevelBpe(vocab, merges, added, o);
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_sentence(const ByteLevelBpe& bpe, std::string_view text, int sequence) {
  using bertscope::unicode::decode_utf8, bertscope::unicode::encode_utf8;
  const auto tokens = bpe.tokenize(text, sequence);
  const auto length = static_cast<std::int32_t>(decode_utf8(text).size());
  std::int32_t last_start = 0;
  std::vector<std::int32_t> ids;
  for (const auto& t : tokens) {
    check(t.start >= 0 && t.start <= t.end && t.end <= length);
    // In order; except that with add_prefix_space, a piece after an added token gets a space aligned to its first
    // character, and trimming moves that "Ġ" token past it, as Hugging Face does.
    check(t.start >= last_start || bpe.options().add_prefix_space);
    check(t.id >= 0 && static_cast<size_t>(t.id) < bpe.vocab_size() && bpe.token(t.id) == t.text);
    check(t.sequence == sequence && t.type_id == 0 && t.word >= 0);
    last_start = t.start;
    ids.push_back(t.id);
    (void)bpe.readable(t.id);
  }
  if (text.find('<') == std::string_view::npos) {  // no added token: every byte comes back
    std::string expected = encode_utf8(decode_utf8(text));
    if (bpe.options().add_prefix_space && !expected.empty() && expected[0] != ' ') expected.insert(0, " ");
    check(bpe.decode(ids) == expected);
  }
}

void fuzz_text(const std::uint8_t* data, size_t size) {
  if (size == 0) return;
  // Built afresh for each input: a shared one's word cache would keep growing, which libFuzzer takes for a leak.
  const ByteLevelBpe bpe = make_tokenizer(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_sentence(bpe, text, 0);
  const auto half = text.size() / 2;
  const auto encoding = bpe.encode(text.substr(0, half), text.substr(half), 1 + data[0] % 80 + 3);
  check(encoding.size() <= static_cast<size_t>(1 + data[0] % 80 + 3));
  for (size_t i = 0; i < encoding.size(); ++i) (void)bpe.continues_word(encoding, i);
  (void)bpe.decode(encoding.ids(), false);
}

void fuzz_folder(const std::uint8_t* data, size_t size) {
  const std::filesystem::path folder = fuzz::scratch_folder();
  for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"})
    std::filesystem::remove(folder / f);
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  if (all.find('\0') == std::string_view::npos) {
    fuzz::scratch_file("tokenizer.json", data, size);
  } else {  // vocab.json NUL merges.txt [NUL tokenizer_config.json]
    const char* names[3] = {"vocab.json", "merges.txt", "tokenizer_config.json"};
    size_t begin = 0;
    for (int part = 0; part < 3 && begin <= size; ++part) {
      const size_t nul = part < 2 ? all.find('\0', begin) : std::string_view::npos;
      const size_t stop = nul == std::string_view::npos ? size : nul;
      fuzz::scratch_file(names[part], data + begin, stop - begin);
      if (nul == std::string_view::npos) break;
      begin = stop + 1;
    }
  }
  fuzz::expect_clean_errors([&] {
    const auto bpe = ByteLevelBpe::load(folder, 64);
    const auto e = bpe.encode("Hello <mask> world!  Na\xC3\xAFve caf\xC3\xA9, \xE5\x8C\x97\xE4\xBA\xAC "
                              "\xF0\x9F\x98\x80",
                              std::string_view("second <s>"));
    (void)bpe.decode(e.ids(), true);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz_text(data, size);
  fuzz_folder(data, size);
  return 0;
}
