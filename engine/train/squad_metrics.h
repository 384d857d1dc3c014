#pragma once
// SQuAD's official evaluation (the v1.1 and v2.0 scripts' rules): answers normalised (lower case; ASCII punctuation,
// the articles a/an/the and extra white space removed), exact match and token F1 taken as the best over the gold
// answers, reported in percent. For v2.0 data also HasAns/NoAns scores and the no-answer probability threshold that
// would have scored best.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/squad.h"

namespace bertscope {

// The scripts' normalize_answer. Lower-casing is per code point (Python's str.lower differs only for a few
// characters whose lower case is two code points, such as U+0130).
std::string normalize_squad_answer(std::string_view text);
// 1 when the normalised strings are equal, else 0.
double squad_exact(std::string_view gold, std::string_view prediction);
// Token F1 of the normalised strings. `v2`: when either side has no tokens, 1 if both have none (the v2.0 script);
// v1.1 scores that 0.
double squad_f1(std::string_view gold, std::string_view prediction, bool v2);

struct QaPrediction {
  std::string text;                    // "" predicts "no answer"
  double no_answer_probability = 0;    // the v2.0 script's na_prob, used for the best threshold
};

struct SquadScores {
  bool v2 = false;          // the data has unanswerable questions: the v2.0 script's rules and report
  int total = 0;
  int missing = 0;          // questions without a prediction (scored 0)
  double exact = 0, f1 = 0; // percent
  int has_ans_total = 0, no_ans_total = 0;
  double has_ans_exact = 0, has_ans_f1 = 0, no_ans_exact = 0, no_ans_f1 = 0;
  double best_exact = 0, best_exact_thresh = 0, best_f1 = 0, best_f1_thresh = 0;
};

SquadScores score_squad(const std::vector<QaExample>& examples, const std::map<std::string, QaPrediction>& predictions,
                        bool v2);
// As the official scripts print it: v1.1 {"exact_match", "f1"}; v2.0 {"exact", "f1", "total", "HasAns_exact", ...,
// "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"}.
nlohmann::json squad_scores_json(const SquadScores& s);

}  // namespace bertscope
