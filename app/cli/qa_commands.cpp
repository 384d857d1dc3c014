// bertscope-cli train --task qa and evaluate --task qa: extractive question answering from SQuAD files, trained and
// scored as Hugging Face's run_qa example does it (windows of 384 tokens sharing 128, answers of at most 30 tokens
// from the 20 best start and end logits, the null answer for SQuAD v2.0 data), with the official SQuAD v1.1 / v2.0
// evaluation's exact match and F1.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/hub_commands.h"
#include "cli/train_commands.h"
#include "core/error.h"
#include "core/safe_files.h"
#include "data/squad.h"
#include "model/pretrained.h"
#include "session.h"
#include "train/qa_fine_tune.h"
#include "train/training_defaults.h"
#include "train/training_script.h"

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

// --validation SHARE: whole contexts held out (seeded), so that no paragraph is read in training and validation both.
QaData hold_out_validation(QaData& train, float share, const TrainCommand& a) {
  QaData validation = hold_out_contexts(train, share, a.seed);
  if (train.examples.empty()) throw Error("--validation " + a.validation + " leaves no training questions");
  const auto contexts = [](const QaData& d) {
    std::set<std::string> distinct;
    for (const QaExample& e : d.examples) distinct.insert(e.context);
    return distinct.size();
  };
  const size_t held = contexts(validation);
  std::cerr << "bertscope: validation: " << validation.examples.size() << " questions on " << held << " of "
            << held + contexts(train) << " contexts held out of " << a.train_file << "\n";
  return validation;
}

// run_qa's settings, fitted to the model: the window no longer than the model reads, and a stride under half of it
// (a stride near the window's size would make a window every few tokens).
QaOptions qa_options(const TrainCommand& a, int model_tokens) {
  if (a.max_seq_length < 8 || a.doc_stride < 0 || a.max_answer_length < 1 || a.n_best < 1)
    throw Error("--max-seq-length must be at least 8, --doc-stride at least 0, --max-answer-length and --n-best at least 1");
  QaOptions o;
  o.max_seq_len = std::min(a.max_seq_length, model_tokens);
  if (o.max_seq_len < a.max_seq_length)
    std::cerr << "bertscope: windows of " << o.max_seq_len << " tokens, the model's length (--max-seq-length "
              << a.max_seq_length << ")\n";
  o.doc_stride = a.doc_stride;
  if (2 * o.doc_stride >= o.max_seq_len) {
    o.doc_stride = o.max_seq_len / 3;  // run_qa's proportion, 128 of 384
    std::cerr << "bertscope: --doc-stride " << a.doc_stride << " is half the " << o.max_seq_len
              << "-token window or more; windows share " << o.doc_stride << " tokens instead\n";
  }
  o.max_answer_len = a.max_answer_length;
  o.n_best = a.n_best;
  return o;
}

int model_tokens(const ModelConfig& config, const Tokenizer& tokenizer) {
  return std::min(config.max_tokens(), tokenizer.model_max_length());
}

void print_epoch(const EpochResult& r) {
  std::fprintf(stderr, "epoch %d: train loss %.4f", r.epoch, r.train_loss);
  const SquadScores& s = r.squad;
  if (s.total) std::fprintf(stderr, ", validation exact match %.2f, F1 %.2f", s.exact, s.f1);
  if (s.total && s.v2)
    std::fprintf(stderr, " (answerable %.2f / %.2f, unanswerable %.2f; best F1 %.2f at no-answer threshold %.3f)",
                 s.has_ans_exact, s.has_ans_f1, s.no_ans_exact, s.best_f1, s.best_f1_thresh);
  std::fprintf(stderr, "\n");
}

}  // namespace

int run_train_qa(const TrainCommand& a) {
  if (a.train_file.empty()) throw Error("--task qa needs --train FILE (SQuAD JSON or JSON lines)");
  if (!a.csv.empty()) throw Error("--task qa reads --train FILE, not --csv");
  const auto folder = resolve_model_path(a.model, cli::hub_options(a.revision));
  if (a.export_script.empty()) check_model_output(a.out);  // before training: a refused folder must not cost the run
  QaData train = read_qa(a.train_file, "training");
  const bool v2_train = train.has_unanswerable;
  QaData validation;
  if (validation_is_file(a)) validation = read_qa(a.validation, "validation");
  else if (!a.validation.empty()) validation = hold_out_validation(train, parse_share(a.validation, "--validation"), a);
  const Pretrained pretrained = open_pretrained(folder);
  const Tokenizer& tokenizer = *pretrained.tokenizer;
  const QaOptions qa = qa_options(a, model_tokens(pretrained.config, tokenizer));
  if (!a.export_script.empty()) {  // the windows this run would use, which Hugging Face's model also takes
    TrainingJob job;
    job.task = "qa";
    job.train_file = a.train_file;
    if (validation_is_file(a)) job.validation_file = a.validation;
    else if (!a.validation.empty()) job.validation_share = parse_share(a.validation, "--validation");
    job.max_length = qa.max_seq_len;
    job.doc_stride = qa.doc_stride;
    const bool head = checkpoint_has_head(pretrained.config, TrainHead::QuestionAnswering);
    return export_training_script(a, job, fine_tune_options(a, model_shape(folder, pretrained.config, head)));
  }
  // SQuAD v2.0 rules (the null answer, HasAns/NoAns scores) when either file has unanswerable questions.
  const bool v2 = v2_train || validation.has_unanswerable;
  validation.has_unanswerable = v2;

  auto backend = open_backend(backend_request(a));
  const std::vector<QaFeature> features = qa_train_features(tokenizer, train.examples, qa.max_seq_len, qa.doc_stride);
  size_t answered_windows = 0;  // the others are labelled at [CLS], token 0
  for (const QaFeature& f : features) answered_windows += f.start_position != 0 || f.end_position != 0;
  BertTrainer trainer(pretrained, *backend, trainer_options(a, TrainHead::QuestionAnswering));
  std::cerr << "bertscope: fine-tuning " << folder.string() << " on " << backend->name() << ": " << train.examples.size()
            << " training questions in " << features.size() << " windows of up to " << qa.max_seq_len << " tokens ("
            << answered_windows << " holding their answer, the others labelled at [CLS]), "
            << validation.examples.size() << " validation questions, " << (v2 ? "SQuAD v2.0 (no-answer)" : "SQuAD v1.1")
            << " rules, " << trainer.trainable_parameter_count() << " trainable parameters\n";

  FineTuneOptions ft = fine_tune_options(a, model_shape(folder, pretrained.config, !trainer.head_is_new()));
  ft.max_length = qa.max_seq_len;
  watch_interrupts(true);
  const FineTuneResult result = fine_tune_qa(trainer, tokenizer, features, validation, ft, qa, cli_callbacks(print_epoch));
  watch_interrupts(false);
  report_kept_epoch(a, result);
  if (!save_unless_cancelled(result.cancelled, trainer, a.out)) return 130;
  json epochs = json::array();
  for (const auto& e : result.epochs) {
    json j = {{"epoch", e.epoch}, {"train_loss", e.train_loss}};
    if (e.squad.total) j["validation"] = squad_scores_json(e.squad);
    epochs.push_back(j);
  }
  json out = {{"out", a.out}, {"task", "qa"}, {"version", v2 ? "v2.0" : "v1.1"}, {"train_questions", train.examples.size()},
              {"train_windows", features.size()}, {"validation_questions", validation.examples.size()},
              {"max_seq_length", qa.max_seq_len}, {"doc_stride", qa.doc_stride}, {"max_answer_length", qa.max_answer_len},
              {"n_best", qa.n_best}, {"backend", backend->name()}, {"seconds", result.seconds}, {"epochs", epochs},
              {"kept_epoch", result.kept_epoch}, {"stopped_early", result.stopped_early}};
  const EpochResult& kept = result.epochs.at(static_cast<size_t>(result.kept_epoch - 1));  // the saved model's
  if (kept.squad.total) out["validation"] = squad_scores_json(kept.squad);
  std::cout << out.dump() << std::endl;
  return 0;
}

int run_evaluate_qa(const TrainCommand& a) {
  if (a.data.empty()) throw Error("--task qa needs --data FILE (SQuAD JSON or JSON lines)");
  Session session(resolve_model_path(a.model, cli::hub_options(a.revision)), backend_request(a));
  if (!session.model().has_qa_head())
    throw Error("this model has no question-answering head (it is not a *ForQuestionAnswering model)");
  const QaData data = read_qa(a.data, "evaluation");
  const QaOptions qa = qa_options(a, model_tokens(session.config(), session.tokenizer()));
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
  const QaEvaluation r = evaluate_qa(logits, session.tokenizer(), data, qa, progress, interrupt_requested);
  watch_interrupts(false);
  std::cerr << "\n";
  if (r.scores.missing) {
    std::cerr << "bertscope: interrupted; " << r.scores.missing << " questions were not answered\n";
    return 130;
  }
  std::cout << squad_scores_json(r.scores).dump() << std::endl;
  return 0;
}
