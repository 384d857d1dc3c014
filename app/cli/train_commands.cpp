#include "cli/train_commands.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/hub_commands.h"
#include "core/error.h"
#include "model/pretrained.h"
#include "core/safe_files.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "tasks/tasks.h"
#include "session.h"
#include "train/fine_tune.h"
#include "train/optimizer.h"
#include "train/training_defaults.h"
#include "train/training_script.h"
#include "model/checkpoint.h"

using nlohmann::json;
using namespace bertscope;

namespace {

std::atomic<bool> interrupted{false};

void add_data_options(CLI::App* cmd, TrainCommand& a) {
  cmd->add_option("model", a.model, "Hugging Face model folder, a Hub id (name or org/name), or 'default'")->capture_default_str();
  cli::add_revision_option(cmd, a.revision);
  cmd->add_option("--csv", a.csv, "CSV/TSV file of labelled sentences (sentence classification)");
  cmd->add_option("--text-column", a.text_column, "column with the sentences (name or 1-based number)");
  cmd->add_option("--label-column", a.label_column, "column with the labels (name or 1-based number)");
  cmd->add_option("--delimiter", a.delimiter, "auto | comma | tab | semicolon | bar")->capture_default_str();
  cmd->add_option("--header", a.header, "auto | yes | no: is the first row a header?")->capture_default_str();
  cmd->add_flag("--stop-on-bad-rows", a.stop_on_bad_rows, "stop at the first unreadable row instead of skipping it");
  cmd->add_option("--max-length", a.max_length, "tokens per sentence")->capture_default_str();
  cmd->add_option("--backend", a.backend, "auto | vulkan | cpu")->capture_default_str();
  cmd->add_option("--device", a.device, "Vulkan device index");
}

// --task qa's windows and answers, as Hugging Face's run_qa names them.
void add_qa_options(CLI::App* cmd, TrainCommand& a) {
  cmd->add_option("--max-seq-length", a.max_seq_length, "--task qa: tokens per window, question included (capped at "
                                                         "the model's length)")->capture_default_str();
  cmd->add_option("--doc-stride", a.doc_stride, "--task qa: context tokens neighbouring windows share")->capture_default_str();
  cmd->add_option("--max-answer-length", a.max_answer_length, "--task qa: longest answer, in tokens")->capture_default_str();
  cmd->add_option("--n-best", a.n_best, "--task qa: answers start and end among a window's N highest logits")->capture_default_str();
}

CsvOptions csv_options(const TrainCommand& a) {
  CsvOptions o;
  const std::map<std::string, char> names = {{"auto", 0}, {"comma", ','}, {"tab", '\t'}, {"semicolon", ';'}, {"bar", '|'}};
  if (!names.count(a.delimiter)) throw Error("--delimiter must be auto, comma, tab, semicolon or bar");
  o.delimiter = names.at(a.delimiter);
  if (a.header != "auto" && a.header != "yes" && a.header != "no") throw Error("--header must be auto, yes or no");
  o.header = a.header == "auto" ? -1 : a.header == "yes" ? 1 : 0;
  o.bad_rows = a.stop_on_bad_rows ? BadRows::Stop : BadRows::Skip;
  return o;
}

struct CsvLayout {  // what read_csv found, for --export-script
  char delimiter = ',';
  bool has_header = true;
};

// Reads the CSV and reports what was found on stderr (and in `layout`).
LabelledData read_data(const TrainCommand& a, const std::vector<std::string>& known_labels = {}, CsvLayout* layout = nullptr) {
  if (a.csv.empty() || a.text_column.empty() || a.label_column.empty())
    throw Error("sentence classification needs --csv, --text-column and --label-column");
  const CsvTable table = read_csv(a.csv, csv_options(a));
  std::cerr << "bertscope: " << a.csv << ": " << table.rows.size() << " rows, " << table.columns.size() << " columns ("
            << delimiter_name(table.delimiter) << "-separated, " << (table.has_header ? "with" : "no") << " header)\n";
  if (layout) *layout = {table.delimiter, table.has_header};
  LabelledData data = labelled_examples(table, a.text_column, a.label_column,
                                        a.stop_on_bad_rows ? BadRows::Stop : BadRows::Skip, known_labels);
  data.problems.insert(data.problems.begin(), table.problems.begin(), table.problems.end());
  for (size_t i = 0; i < data.problems.size() && i < 10; ++i)
    std::cerr << "bertscope: " << a.csv << ":" << data.problems[i].line << ": skipped: " << data.problems[i].message << "\n";
  if (data.problems.size() > 10) std::cerr << "bertscope: ... " << data.problems.size() - 10 << " more rows skipped\n";
  return data;
}

json metrics_json(const ClassificationMetrics& m, const std::vector<std::string>& labels) {
  json f1 = json::object();
  for (size_t i = 0; i < labels.size(); ++i) f1[labels[i]] = m.f1[i];
  return {{"count", m.count}, {"accuracy", m.accuracy}, {"f1", m.macro_f1}, {"f1_per_label", f1},
          {"confusion_matrix", m.confusion}};
}

}  // namespace

BackendRequest backend_request(const TrainCommand& a) { return {parse_backend_kind(a.backend), a.device, false}; }

TrainerOptions trainer_options(const TrainCommand& a, TrainHead head, const std::vector<std::string>& labels) {
  TrainerOptions o;
  o.head = head;
  o.labels = labels;
  o.dropout = a.dropout;
  o.frozen_layers = a.freeze;
  o.seed = a.seed;
  return o;
}

ModelShape model_shape(const std::filesystem::path& folder, const ModelConfig& config, bool pretrained_head) {
  ModelShape m;
  m.parameters = Checkpoint(folder).parameter_count();
  m.hidden = config.hidden_size;
  m.layers = config.num_hidden_layers;
  m.untrained = config.raw.value("bertscope_untrained", false);
  m.pretrained_head = pretrained_head;
  return m;
}

FineTuneOptions fine_tune_options(const TrainCommand& a, const ModelShape& model) {
  if (a.patience < 0) throw Error("--patience must be 0 (no early stopping) or more epochs");
  const TrainingDefaults fitted = training_defaults(model);
  FineTuneOptions o;
  std::string given;  // the options the user set, which win over the fitted ones
  auto pick = [&given](const auto& value, auto fallback, const char* name) {
    if (value) {
      std::ostringstream text;
      text << name << " " << *value;
      given += (given.empty() ? "" : ", ") + text.str();
    }
    return value.value_or(fallback);
  };
  o.epochs = pick(a.epochs, fitted.epochs, "--epochs");
  o.learning_rate = pick(a.learning_rate, fitted.learning_rate, "--lr");
  o.batch_size = pick(a.batch_size, fitted.batch_size, "--batch-size");
  o.warmup_ratio = pick(a.warmup, fitted.warmup_ratio, "--warmup");
  o.weight_decay = pick(a.weight_decay, fitted.weight_decay, "--weight-decay");
  o.max_length = a.max_length;
  o.seed = a.seed;
  o.patience = a.patience;
  if (!a.epochs || !a.learning_rate)
    std::cerr << "bertscope: defaults for " << describe_defaults(model, fitted)
              << (given.empty() ? "" : "; yours, which win: " + given) << " (pass --epochs/--lr to change)\n";
  return o;
}

void report_kept_epoch(const TrainCommand& a, const FineTuneResult& result) {
  if (a.patience <= 0 || result.epochs.empty()) return;
  const EpochResult& kept = result.epochs.at(static_cast<size_t>(result.kept_epoch - 1));
  if (!has_validation_score(kept)) {
    std::cerr << "bertscope: --patience has nothing to compare: no validation data, so every epoch ran\n";
    return;
  }
  std::fprintf(stderr, "bertscope: kept epoch %d's weights (best validation %s %.4f)", result.kept_epoch,
               validation_score_name(kept).c_str(), validation_score(kept));
  if (result.stopped_early)
    std::fprintf(stderr, "; stopped early after epoch %d: no better score in %d epoch%s", result.epochs.back().epoch,
                 a.patience, a.patience == 1 ? "" : "s");
  std::fprintf(stderr, "\n");
}

bool save_unless_cancelled(bool cancelled, BertTrainer& trainer, const std::string& out) {
  if (cancelled) {
    std::cerr << "bertscope: cancelled; nothing was saved\n";
    return false;
  }
  trainer.save(out);
  std::cerr << "bertscope: saved to " << out << "\n";
  return true;
}

FineTuneCallbacks cli_callbacks(std::function<void(const EpochResult&)> epoch_done) {
  FineTuneCallbacks callbacks;
  callbacks.progress = print_progress;
  callbacks.epoch_done = std::move(epoch_done);
  callbacks.cancelled = interrupt_requested;
  return callbacks;
}

bool validation_is_file(const TrainCommand& a) {
  if (a.validation.empty()) return false;
  std::error_code ec;
  if (std::filesystem::exists(a.validation, ec)) return true;
  if (a.validation.find_first_not_of("0123456789.") != std::string::npos) throw Error("--validation " + a.validation + ": no such file");
  return false;
}

int export_training_script(const TrainCommand& a, TrainingJob job, const FineTuneOptions& options) {
  // Paths that exist here are written absolute, so the script runs from any folder of this machine.
  auto local = [](const std::string& path) {
    std::error_code ec;
    return !path.empty() && std::filesystem::exists(path, ec) ? std::filesystem::absolute(path).lexically_normal().string() : path;
  };
  job.model = a.model == "default" ? resolve_model_path(a.model).string() : local(a.model);
  std::error_code ec;
  const bool hub_id = a.model != "default" && !std::filesystem::exists(a.model, ec);
  if (hub_id) job.revision = a.revision;  // the branch, tag or commit this run read
  job.train_file = local(job.train_file);
  job.validation_file = local(job.validation_file);
  job.out = a.out;
  job.epochs = options.epochs;
  job.batch_size = options.batch_size;
  job.learning_rate = options.learning_rate;
  job.warmup_ratio = options.warmup_ratio;
  job.weight_decay = options.weight_decay;
  job.patience = options.patience;
  job.seed = a.seed;
  const std::filesystem::path file = output_path(a.export_script);
  StagedFile script(file);  // never over an existing file
  script.stream() << training_script(job);
  script.commit();
  std::cerr << "bertscope: wrote " << file.string() << ": the same " << job.task << " job for Hugging Face's Trainer "
            << "(python3 " << file.filename().string() << ", or accelerate launch; it needs transformers and datasets)\n";
  std::cout << json{{"script", file.string()}, {"task", job.task}, {"job", training_job_json(job)}}.dump() << std::endl;
  return 0;
}

bool interrupt_requested() { return interrupted.load(); }

void watch_interrupts(bool on) {
  if (on) std::signal(SIGINT, [](int) { interrupted = true; });  // Ctrl+C: stop cleanly between steps
  else std::signal(SIGINT, SIG_DFL);
}

void print_progress(const TrainProgress& p) {
  static ProgressThrottle throttle(1.0);  // a line a second reads; one per step scrolls past unread
  if (!throttle.due(ProgressThrottle::ends_epoch(p))) return;
  std::fprintf(stderr, "step %d/%d  epoch %d/%d  loss %.4f  lr %.2e  %.1f sentences/s  ETA %.0f s\n", p.step,
               p.total_steps, p.epoch, p.epochs, p.loss, p.learning_rate, p.sentences_per_second, p.eta_seconds);
}

float parse_share(const std::string& text, const std::string& option) {
  size_t used = 0;
  float share = -1;
  try {
    share = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(share >= 0 && share < 1))
    throw Error(option + " \"" + text + "\" is not a share from 0 to below 1 (e.g. 0.2)");
  return share;
}

CLI::App* add_train_command(CLI::App& app, TrainCommand& a) {
  auto* cmd = app.add_subcommand("train", "fine-tune a sentence classifier on a CSV of labelled sentences, a token "
                                          "classifier (--task ner) on CoNLL / JSON-lines files of tagged words, or a "
                                          "question answerer (--task qa) on SQuAD files");
  add_data_options(cmd, a);
  add_qa_options(cmd, a);
  cmd->add_option("--task", a.task, "classification | ner (token classification: a tag per word) | qa (extractive "
                                    "question answering)")->capture_default_str();
  cmd->add_option("--train", a.train_file, "--task ner: CoNLL file (word ... tag per line) or JSON lines with "
                                           "tokens/ner_tags; --task qa: SQuAD v1.1/v2.0 JSON or JSON lines");
  cmd->add_option("--export-script", a.export_script, "write the job as a Python script for Hugging Face's Trainer "
                                                      "to FILE instead of training (a new file)");
  cmd->add_option("--out", a.out, "folder to save the fine-tuned model in (Hugging Face layout)")->required();
  // Unset, these are fitted to the model (train/training_defaults.h), and the run says what it chose.
  cmd->add_option("--epochs", a.epochs, "default: fitted to the model's size (e.g. 5 for small models, 3 for BERT-base)");
  cmd->add_option("--learning-rate,--lr", a.learning_rate, "peak learning rate; default: fitted to the model's size "
                                                           "(e.g. 1e-4 for small models, 5e-5 for BERT-base)");
  cmd->add_option("--batch-size", a.batch_size, "default: 16");
  cmd->add_option("--patience", a.patience, "early stopping: stop after N epochs without a better validation score "
                                            "and keep the best epoch's weights (0: off)")->capture_default_str();
  cmd->add_option("--validation", a.validation,
                  "share held out for validation (stratified; default 0.2); --task ner / qa: a file, or a share of "
                  "--train (qa: whole contexts held out; default: no validation)");
  cmd->add_option("--seed", a.seed, "split, shuffling, dropout and new weights")->capture_default_str();
  cmd->add_option("--freeze", a.freeze, "freeze the embeddings and this many lowest layers")->capture_default_str();
  cmd->add_option("--dropout", a.dropout,
                  "hidden and attention dropout; the classification heads use config.json's own where Hugging Face "
                  "does (classifier_dropout; DistilBERT's seq_classif_dropout), and 0 turns all dropout off")
      ->capture_default_str();
  cmd->add_option("--warmup", a.warmup, "share of steps for learning-rate warm-up (default 0.1)");
  cmd->add_option("--weight-decay", a.weight_decay, "default 0.01");
  cmd->add_option("--save-split", a.save_split, "also write the split as DIR/train.tsv and DIR/validation.tsv (text, label)");
  return cmd;
}

CLI::App* add_evaluate_command(CLI::App& app, TrainCommand& a) {
  auto* cmd = app.add_subcommand("evaluate", "accuracy, F1 and confusion matrix of a classifier on a labelled CSV, "
                                             "entity precision, recall and F1 (seqeval) of a token classifier, or SQuAD's "
                                             "exact match and F1 of a question answerer");
  add_data_options(cmd, a);
  add_qa_options(cmd, a);
  cmd->add_option("--task", a.task, "classification | ner (token classification: tags per word) | qa (SQuAD)")->capture_default_str();
  cmd->add_option("--data", a.data, "--task ner: a CoNLL file (word ... tag per line) or JSON lines with tokens/ner_tags; "
                                    "--task qa: SQuAD v1.1/v2.0 JSON or JSON lines");
  cmd->add_flag("--lenient", a.lenient, "--task ner: read entities by conlleval's rules (seqeval's default mode) "
                                        "instead of strict IOB2");
  return cmd;
}

int run_train(const TrainCommand& a) {
  if (a.task == "ner") return run_train_ner(a);
  if (a.task == "qa") return run_train_qa(a);
  if (a.task != "classification") throw Error("--task must be classification, ner or qa, not \"" + a.task + "\"");
  if (!a.train_file.empty()) throw Error("--train is for --task ner and qa; sentence classification reads --csv");
  const float validation_share = a.validation.empty() ? 0.2f : parse_share(a.validation, "--validation");
  const auto folder = resolve_model_path(a.model, cli::hub_options(a.revision));
  if (a.export_script.empty()) check_model_output(a.out);  // before training: a refused folder must not cost the run
  const std::filesystem::path split_dir = a.save_split.empty() ? "" : output_path(a.save_split);
  if (!a.save_split.empty())
    for (const char* name : {"train.tsv", "validation.tsv"}) check_new_file(split_dir / name);
  CsvLayout layout;
  LabelledData data = read_data(a, {}, &layout);
  const Pretrained pretrained = open_pretrained(folder);
  if (!a.export_script.empty()) {
    TrainingJob job;
    job.task = "classification";
    job.train_file = a.csv;
    job.validation_share = validation_share;
    job.text_column = a.text_column;
    job.label_column = a.label_column;
    job.delimiter = std::string(1, layout.delimiter);
    job.has_header = layout.has_header;
    job.labels = data.labels;
    job.max_length = a.max_length;
    const bool head = checkpoint_has_head(pretrained.config, TrainHead::SequenceClassification);
    return export_training_script(a, job, fine_tune_options(a, model_shape(folder, pretrained.config, head)));
  }
  const Split split = stratified_split(data.examples, static_cast<int>(data.labels.size()), validation_share, a.seed);
  if (!a.save_split.empty()) {  // for baselines and other tools to use the very same split
    std::filesystem::create_directories(split_dir);
    for (const auto& [name, part] : {std::pair{"train.tsv", &split.train}, {"validation.tsv", &split.validation}}) {
      std::string tsv;
      for (const Example& e : *part) {
        std::string text = e.text;
        std::replace(text.begin(), text.end(), '\t', ' ');
        std::replace(text.begin(), text.end(), '\n', ' ');
        tsv += text + '\t' + data.labels[static_cast<size_t>(e.label)] + '\n';
      }
      check_new_file(split_dir / name);
      write_file_atomically(split_dir / name, tsv);
    }
  }
  auto backend = open_backend(backend_request(a));
  const Tokenizer& tokenizer = *pretrained.tokenizer;
  BertTrainer trainer(pretrained, *backend, trainer_options(a, TrainHead::SequenceClassification, data.labels));
  std::cerr << "bertscope: fine-tuning " << folder.string() << " on " << backend->name() << ": " << split.train.size()
            << " training and " << split.validation.size() << " validation sentences, labels";
  for (const auto& l : data.labels) std::cerr << " \"" << l << "\"";
  std::cerr << ", " << trainer.trainable_parameter_count() << " trainable parameters\n";

  const FineTuneCallbacks callbacks = cli_callbacks([](const EpochResult& r) {
    std::fprintf(stderr, "epoch %d: train loss %.4f", r.epoch, r.train_loss);
    if (r.validation.count) std::fprintf(stderr, ", validation accuracy %.4f, F1 %.4f", r.validation.accuracy, r.validation.macro_f1);
    std::fprintf(stderr, "\n");
  });
  watch_interrupts(true);
  const FineTuneOptions options = fine_tune_options(a, model_shape(folder, pretrained.config, !trainer.head_is_new()));
  const FineTuneResult result = fine_tune(trainer, tokenizer, split.train, split.validation, options, callbacks);
  watch_interrupts(false);
  report_kept_epoch(a, result);
  if (!save_unless_cancelled(result.cancelled, trainer, a.out)) return 130;
  json epochs = json::array();
  for (const auto& e : result.epochs) {
    json j = {{"epoch", e.epoch}, {"train_loss", e.train_loss}};
    if (e.validation.count) j["validation"] = metrics_json(e.validation, data.labels);
    epochs.push_back(j);
  }
  json out = {{"out", a.out}, {"labels", data.labels}, {"train_size", split.train.size()},
              {"validation_size", split.validation.size()}, {"skipped_rows", data.problems.size()},
              {"backend", backend->name()}, {"seconds", result.seconds}, {"epochs", epochs},
              {"kept_epoch", result.kept_epoch}, {"stopped_early", result.stopped_early}};
  const EpochResult& kept = result.epochs.at(static_cast<size_t>(result.kept_epoch - 1));  // the saved model's
  if (kept.validation.count) {
    const auto& m = kept.validation;
    out["accuracy"] = m.accuracy;
    out["f1"] = m.macro_f1;
    out["confusion_matrix"] = m.confusion;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

int run_evaluate(const TrainCommand& a) {
  if (a.task == "ner") return run_evaluate_ner(a);
  if (a.task == "qa") return run_evaluate_qa(a);
  if (a.task != "classification") throw Error("--task must be classification, ner or qa, not \"" + a.task + "\"");
  Session session(resolve_model_path(a.model, cli::hub_options(a.revision)), backend_request(a));
  if (!session.model().has_classifier()) throw Error("this model has no sequence-classification head (classifier)");
  std::vector<std::string> labels;
  for (const auto& [id, label] : session.config().id2label) labels.push_back(label);
  LabelledData data = read_data(a, labels);
  const auto predicted = predict(session.model(), session.tokenizer(), data.examples, a.max_length);
  json out = metrics_json(evaluate(data.examples, predicted, static_cast<int>(labels.size())), labels);
  out["labels"] = labels;
  out["skipped_rows"] = data.problems.size();
  std::cout << out.dump() << std::endl;
  return 0;
}

std::unique_ptr<Backend> open_backend(const BackendRequest& request) {
  BackendChoice choice = choose_backend(request);
  if (!choice.warning.empty()) std::cerr << "bertscope: warning: " << choice.warning << "\n";
  if (!choice.note.empty()) std::cerr << "bertscope: " << choice.note << "\n";
  return std::move(choice.backend);
}

int bench_training_step(const std::string& model, const BackendRequest& request, int tokens, int reps, int batch) {
  auto backend = open_backend(request);
  TrainerOptions options;
  options.labels = {"LABEL_0", "LABEL_1"};
  options.dropout = 0.0f;
  BertTrainer trainer(resolve_model_path(model), *backend, options);
  if (tokens > trainer.config().max_tokens())
    throw Error("--tokens " + std::to_string(tokens) + " is more than the model's " +
                std::to_string(trainer.config().max_tokens()) + " positions");
  OptimizerOptions opt;
  opt.learning_rate = 2e-5f;
  AdamW adamw(trainer.params(), *backend, opt);
  std::mt19937 rng(0);
  std::uniform_int_distribution<int> id(1000, 1999), label(0, 1);
  TrainBatch b;
  b.tokens.batch = batch;
  b.tokens.seq_len = tokens;
  for (int i = 0; i < batch * tokens; ++i) {
    b.tokens.ids.push_back(id(rng));
    b.tokens.type_ids.push_back(0);
    b.tokens.mask.push_back(1);
  }
  for (int i = 0; i < batch; ++i) b.labels.push_back(label(rng));
  auto step = [&] {
    trainer.compute_gradients(b);
    adamw.step();  // reads back the gradient norm: the step has finished on every backend
  };
  step();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::cout << json{{"engine", "bertscope"}, {"backend", backend->name()}, {"what", "train step batch " + std::to_string(batch)},
                    {"tokens", tokens}, {"reps", reps}, {"median_ms", ms[ms.size() / 2]}, {"min_ms", ms.front()},
                    {"peak_rss_mb", u.ru_maxrss / 1024.0}}.dump()
            << std::endl;
  return 0;
}
