// bertscope-cli evaluate --task qa (and train --task qa): extractive question answering from SQuAD files, scored with
// the official SQuAD v1.1 / v2.0 evaluation's exact match and F1.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/hub_commands.h"
#include "cli/train_commands.h"
#include "core/error.h"
#include "data/squad.h"
#include "session.h"
#include "train/qa_fine_tune.h"

using nlohmann::json;
using namespace bertscope;

namespace {

QaData read_qa(const std::string& path, const char* what) {
  QaData data = read_qa_file(path);
  size_t unanswerable = 0;
  for (const QaExample& e : data.examples) unanswerable += e.answers.empty();
  std::cerr << "bertscope: " << what << " " << path << ": " << data.examples.size() << " questions";
  if (data.has_unanswerable) std::cerr << " (" << unanswerable << " without an answer: SQuAD v2.0 scores)";
  std::cerr << "\n";
  if (!data.skipped.empty()) {
    std::cerr << "bertscope: " << data.skipped.size() << " entries skipped:\n";
    for (size_t i = 0; i < data.skipped.size() && i < 20; ++i) std::cerr << "  " << data.skipped[i] << "\n";
    if (data.skipped.size() > 20) std::cerr << "  ... and " << data.skipped.size() - 20 << " more\n";
  }
  return data;
}

QaOptions qa_options(const TrainCommand& a) {
  QaOptions o;
  o.max_seq_len = a.max_seq_length;
  o.doc_stride = a.doc_stride;
  o.max_answer_len = a.max_answer_length;
  return o;
}

}  // namespace

int run_evaluate_qa(const TrainCommand& a) {
  if (a.data.empty()) throw Error("--task qa needs --data FILE (SQuAD JSON or JSON lines)");
  Session session(resolve_model_path(a.model, cli::hub_options(a.revision)), backend_request(a));
  if (!session.model().has_qa_head())
    throw Error("this model has no question-answering head (it is not a *ForQuestionAnswering model)");
  const QaData data = read_qa(a.data, "evaluation");
  BertModel& model = session.model();
  const QaLogitsFn logits = [&model](const TokenBatch& batch) {
    EncoderOutput out = model.encode(batch);
    return model.qa_logits(out.hidden);
  };
  size_t last_shown = 0;
  auto progress = [&](size_t done, size_t total) {
    if (done == total || done - last_shown >= 50) {
      std::cerr << "\rbertscope: answered " << done << " of " << total << " questions" << std::flush;
      last_shown = done;
    }
  };
  watch_interrupts(true);
  const QaEvaluation r = evaluate_qa(logits, session.tokenizer(), data, qa_options(a), progress, interrupt_requested);
  watch_interrupts(false);
  std::cerr << "\n";
  if (r.scores.missing) {
    std::cerr << "bertscope: interrupted; " << r.scores.missing << " questions were not answered\n";
    return 130;
  }
  std::cout << squad_scores_json(r.scores).dump() << std::endl;
  return 0;
}
