#pragma once
// The tokenizer reports offsets in Unicode code points (Hugging Face's convention); Qt strings index UTF-16 code
// units. CodePointIndex converts between the two for one string, so spans outside the Basic Multilingual Plane
// (emoji, rare CJK) highlight the right characters.
#include <QString>
#include <vector>

namespace bertscope::gui {

class CodePointIndex {
 public:
  explicit CodePointIndex(const QString& text) {
    for (qsizetype i = 0; i < text.size(); ++i) {
      utf16_.push_back(static_cast<int>(i));
      if (text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate()) ++i;
    }
    utf16_.push_back(static_cast<int>(text.size()));
  }
  // UTF-16 position of code point `cp` (clamped to the string).
  int utf16(int cp) const {
    if (cp <= 0) return 0;
    if (cp >= static_cast<int>(utf16_.size())) return utf16_.back();
    return utf16_[static_cast<size_t>(cp)];
  }
  // Code point containing UTF-16 position `pos`.
  int codePoint(int pos) const {
    int cp = 0;
    while (cp + 1 < static_cast<int>(utf16_.size()) && utf16_[static_cast<size_t>(cp + 1)] <= pos) ++cp;
    return cp;
  }

 private:
  std::vector<int> utf16_;  // utf16_[cp] = UTF-16 index where code point cp starts; last entry = length
};

}  // namespace bertscope::gui
