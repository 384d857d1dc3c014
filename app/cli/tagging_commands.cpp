// bertscope-cli train --task ner and evaluate --task ner: token classifiers from word-tagged files (CoNLL or JSON
// lines), as Hugging Face's run_ner example trains and scores them.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/hub_commands.h"
#include "cli/train_commands.h"
#include "core/error.h"
#include "core/safe_files.h"
#include "data/tagged.h"
#include "model/pretrained.h"
#include "session.h"
#include "tasks/tasks.h"
#include "train/token_fine_tune.h"
#include "train/training_defaults.h"
#include "train/training_script.h"

using nlohmann::json;
using namespace bertscope;

namespace {

TaggedData read_tagged(const std::string& path, const char* what) {
  TaggedData data = read_tagged_file(path);
  size_t words = 0;
  for (const TaggedSentence& s : data.sentences) words += s.words.size();
  std::cerr << "bertscope: " << what << " " << path << ": " << data.sentences.size() << " sentences, " << words << " words";
  if (data.iob1_fixes) std::cerr << " (IOB1 tags: " << data.iob1_fixes << " I- tags that open an entity read as B-)";
  std::cerr << "\n";
  return data;
}

// Entity scores where the tags are entities, token accuracy always, per-tag word scores for other tag sets.
json report_json(const TaggingReport& r) {
  auto scores = [](const EntityScores& s) {
    return json{{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
  };
  json j = {{"accuracy", r.seqeval.accuracy}, {"sentences", r.sentences}, {"words", r.words},
            {"words_not_scored", r.words_not_scored}};
  if (r.entities) {
    j["precision"] = r.seqeval.micro.precision;
    j["recall"] = r.seqeval.micro.recall;
    j["f1"] = r.seqeval.micro.f1;
    j["per_type"] = json::object();
    for (const auto& [type, s] : r.seqeval.per_type) j["per_type"][type] = scores(s);
    j["mode"] = r.strict ? "strict IOB2" : "default";
  } else {
    j["precision"] = j["recall"] = j["f1"] = nullptr;
    j["mode"] = "tags are not entity tags (no B-/I- prefixes): token accuracy and per-tag scores only";
    j["per_tag"] = json::object();
    for (const auto& [tag, s] : r.per_tag) j["per_tag"][tag] = scores(s);
  }
  return j;
}

void print_epoch(const EpochResult& r) {
  std::fprintf(stderr, "epoch %d: train loss %.4f", r.epoch, r.train_loss);
  const TaggingReport& t = r.tagging;
  if (t.sentences && t.entities)
    std::fprintf(stderr, ", validation entity precision %.4f, recall %.4f, F1 %.4f (seqeval %s), token accuracy %.4f",
                 t.seqeval.micro.precision, t.seqeval.micro.recall, t.seqeval.micro.f1, t.strict ? "strict" : "default",
                 t.seqeval.accuracy);
  else if (t.sentences)
    std::fprintf(stderr, ", validation token accuracy %.4f (not entity tags: no entity scores)", t.seqeval.accuracy);
  std::fprintf(stderr, "\n");
}

// --validation for NER: a file, else a share of the training sentences (seeded shuffle).
std::vector<TaggedSentence> validation_sentences(const TrainCommand& a, std::vector<TaggedSentence>& train,
                                                 std::string& source) {
  if (a.validation.empty()) return {};
  if (validation_is_file(a)) {
    source = a.validation;
    return read_tagged(a.validation, "validation").sentences;
  }
  const float share = parse_share(a.validation, "--validation");
  std::vector<size_t> order(train.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(a.seed));
  const size_t held = static_cast<size_t>(share * static_cast<float>(train.size()));
  if (held >= train.size()) throw Error("--validation " + a.validation + " leaves no training sentences");
  std::vector<TaggedSentence> kept, validation;
  for (size_t k = 0; k < order.size(); ++k) (k < held ? validation : kept).push_back(std::move(train[order[k]]));
  train = std::move(kept);
  source = a.train_file + " (held out)";
  return validation;
}

}  // namespace

int run_train_ner(const TrainCommand& a) {
  if (a.train_file.empty()) throw Error("--task ner needs --train FILE (CoNLL or JSON lines)");
  if (!a.csv.empty()) throw Error("--task ner reads --train FILE, not --csv");
  const auto folder = resolve_model_path(a.model, cli::hub_options(a.revision));
  if (a.export_script.empty()) check_model_output(a.out);  // before training: a refused folder must not cost the run
  std::vector<TaggedSentence> train = read_tagged(a.train_file, "training").sentences;
  std::string validation_source;
  const std::vector<TaggedSentence> validation = validation_sentences(a, train, validation_source);
  const std::vector<std::string> labels = sorted_tag_labels(train);  // run_ner's order
  if (labels.size() < 2) throw Error(a.train_file + ": every word has the tag \"" + labels.front() + "\"; a tagger needs two or more tags");
  for (const TaggedSentence& s : validation)  // run_ner stops on these too, later and less clearly
    for (const std::string& tag : s.tags)
      if (!std::binary_search(labels.begin(), labels.end(), tag))
        throw Error(validation_source + " line " + std::to_string(s.line) + ": tag \"" + tag +
                    "\" never occurs in the training data, so the model cannot learn it");
  if (!a.export_script.empty()) {
    TrainingJob job;
    job.task = "ner";
    job.train_file = a.train_file;
    if (validation_is_file(a)) job.validation_file = a.validation;
    else if (!a.validation.empty()) job.validation_share = parse_share(a.validation, "--validation");
    job.labels = labels;
    job.max_length = a.max_length;
    const Pretrained model = open_pretrained(folder);
    const bool head = checkpoint_has_head(model.config, TrainHead::TokenClassification);
    return export_training_script(a, job, fine_tune_options(a, model_shape(folder, model.config, head)));
  }

  auto backend = open_backend(backend_request(a));
  const Pretrained pretrained = open_pretrained(folder);
  BertTrainer trainer(pretrained, *backend, trainer_options(a, TrainHead::TokenClassification, labels));
  std::cerr << "bertscope: fine-tuning " << folder.string() << " on " << backend->name() << ": " << train.size()
            << " training and " << validation.size() << " validation sentences, " << labels.size() << " tags";
  for (size_t i = 0; i < labels.size() && i < 40; ++i) std::cerr << " " << labels[i];
  std::cerr << (is_entity_tag_set(labels) ? " (entity tags: validation scored by seqeval)"
                                          : " (not entity tags: validation scored by token accuracy)")
            << ", " << trainer.trainable_parameter_count() << " trainable parameters\n";

  const FineTuneOptions options = fine_tune_options(a, model_shape(folder, pretrained.config, !trainer.head_is_new()));
  watch_interrupts(true);
  const FineTuneResult result = fine_tune_tagger(trainer, *pretrained.tokenizer, train, validation, options,
                                                 cli_callbacks(print_epoch), a.train_file);
  watch_interrupts(false);
  report_kept_epoch(a, result);
  if (!save_unless_cancelled(result.cancelled, trainer, a.out)) return 130;
  json epochs = json::array();
  for (const auto& e : result.epochs) {
    json j = {{"epoch", e.epoch}, {"train_loss", e.train_loss}};
    if (e.tagging.sentences) j["validation"] = report_json(e.tagging);
    epochs.push_back(j);
  }
  json out = {{"out", a.out}, {"task", "ner"}, {"labels", labels}, {"train_size", train.size()},
              {"validation_size", validation.size()}, {"backend", backend->name()}, {"seconds", result.seconds},
              {"epochs", epochs}, {"kept_epoch", result.kept_epoch}, {"stopped_early", result.stopped_early}};
  const EpochResult& kept = result.epochs.at(static_cast<size_t>(result.kept_epoch - 1));  // the saved model's
  if (kept.tagging.sentences) out["validation"] = report_json(kept.tagging);
  std::cout << out.dump() << std::endl;
  return 0;
}

// evaluate --task ner: every sentence's words through the model, first piece per word, scored as seqeval does (or by
// token accuracy, for tags that are not entities).
int run_evaluate_ner(const TrainCommand& a) {
  if (a.data.empty()) throw Error("--task ner needs --data FILE (CoNLL or JSON lines)");
  Session session(resolve_model_path(a.model, cli::hub_options(a.revision)), backend_request(a));
  if (!session.model().has_token_classifier())
    throw Error("this model has no token-classification head (it is not a *ForTokenClassification model)");
  const TaggedData data = read_tagged(a.data, "evaluation");
  std::vector<std::vector<std::string>> words;
  for (const TaggedSentence& s : data.sentences) words.push_back(s.words);
  const auto predicted = predict_word_tags(session.model(), session.tokenizer(), words, a.max_length);
  const TaggingReport r = score_tagged(data.sentences, predicted, a.lenient);  // cut words leave both sides, as run_ner
  if (r.words_not_scored)
    std::cerr << "bertscope: " << r.words_not_scored << " words past --max-length " << a.max_length << " were not scored\n";
  std::cout << report_json(r).dump() << std::endl;
  return 0;
}
