// bertscope-cli: every engine feature from the command line. JSON on stdout (one object a line), messages on
// stderr, exit status 1 on any error.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "cli/json_output.h"
#include "cli/pretrain_commands.h"
#include "cli/train_commands.h"
#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "cpu/blas_setup.h"
#include "gpu/vulkan_context.h"
#include "model/convert.h"
#include "model/shrink.h"
#include "model/random_model.h"
#include "train/pretraining.h"
#include "text/vocab_trainer.h"
#include "session.h"

using nlohmann::json;
using namespace bertscope;

namespace {

struct Common {
  std::string model = "default";
  std::string backend = "auto";
  int device = -1;
  bool validation = false;
};

// One task input: flags, or a line of --jsonl (the fields hf-oracle's hf_pipeline.mjs reads).
struct Input {
  std::string text, text_pair, question, context;
  bool has_pair = false;
  int top_k = -1;
};

std::unique_ptr<Session> open_session(const Common& c) {
  BackendRequest request{parse_backend_kind(c.backend), c.device, c.validation};
  auto session = std::make_unique<Session>(resolve_model_path(c.model), request);
  std::cerr << "bertscope: " << session->info().folder.string() << " on " << session->info().backend << "\n";
  if (!session->info().backend_note.empty()) std::cerr << "bertscope: " << session->info().backend_note << "\n";
  if (session->info().untrained) std::cerr << "bertscope: note: this model is untrained (random weights)\n";
  return session;
}

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("model", c.model, "Hugging Face model folder, or 'default'")->capture_default_str();
  cmd->add_option("--backend", c.backend, "auto | vulkan | cpu")->capture_default_str();
  cmd->add_option("--device", c.device, "Vulkan device index (see 'devices'); -1 picks the best");
  cmd->add_flag("--validation", c.validation, "enable Vulkan validation layers");
}

// Runs `task` on the flag input, or on every line of --jsonl; returns the exit status.
int run_inputs(const std::string& jsonl, const Input& flags, const std::function<json(const Input&)>& task) {
  if (jsonl.empty()) {
    std::cout << dump_json(task(flags)) << std::endl;
    return 0;
  }
  std::ifstream in(jsonl);
  if (!in) throw Error(jsonl + ": cannot open");
  int status = 0, line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      constexpr size_t max_line = 16u << 20;  // a line is one input; parsing 100 MB of JSON would take gigabytes
      if (line.size() > max_line) throw Error("the line is " + std::to_string(line.size()) + " bytes; at most 16 MiB a line");
      const json j = parse_json(line, "JSON line");
      if (!j.is_object()) throw Error("expected a JSON object");
      Input in_line;
      in_line.text = j.value("text", "");
      in_line.has_pair = j.contains("text_pair") && j["text_pair"].is_string();
      if (in_line.has_pair) in_line.text_pair = j["text_pair"];
      in_line.question = j.value("question", "");
      in_line.context = j.value("context", "");
      in_line.top_k = j.value("top_k", flags.top_k);
      std::cout << dump_json(task(in_line)) << std::endl;
    } catch (const std::exception& e) {
      std::cerr << "bertscope: " << jsonl << ":" << line_no << ": " << e.what() << "\n";
      std::cout << dump_json(json{{"error", e.what()}, {"line", line_no}}) << std::endl;  // e.what() may hold bad UTF-8
      status = 1;
    }
  }
  return status;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  select_blas_kernels(argv);
  CLI::App app{"bertscope-cli: run Hugging Face BERT models on Vulkan or the CPU"};
  app.require_subcommand(1);
  Common common;
  Input input;
  std::string jsonl;
  int tokens = 128, reps = 10;

  auto* info = app.add_subcommand("info", "what a model folder holds and where it runs");
  add_common(info, common);
  auto* devices = app.add_subcommand("devices", "list Vulkan devices");
  auto add_text = [&](CLI::App* cmd, bool pair) {
    add_common(cmd, common);
    cmd->add_option("--text", input.text, "input text");
    if (pair) cmd->add_option("--text-pair", input.text_pair, "second sentence");
    cmd->add_option("--jsonl", jsonl, "file with one JSON input a line");
  };
  auto* tokenize = app.add_subcommand("tokenize", "the model's tokens (WordPiece or byte-level BPE), ids, type ids and offsets");
  add_text(tokenize, true);
  auto* fill = app.add_subcommand("fill-mask", "top-k predictions for each mask token ([MASK], <mask>)");
  add_text(fill, false);
  fill->add_option("--top-k", input.top_k, "predictions per mask (default 5)");
  auto* qa = app.add_subcommand("qa", "extractive question answering");
  add_common(qa, common);
  qa->add_option("--question", input.question, "the question");
  qa->add_option("--context", input.context, "the text to find the answer in");
  qa->add_option("--top-k", input.top_k, "answers to return (default 1)");
  qa->add_option("--jsonl", jsonl, "file with one JSON input a line");
  auto* classify_cmd = app.add_subcommand("classify", "sequence classification (label probabilities)");
  add_text(classify_cmd, true);
  auto* tokens_cmd = app.add_subcommand("token-classification", "a label for every token, with its probability (NER-style heads)");
  add_text(tokens_cmd, false);
  auto* nsp = app.add_subcommand("nsp", "next-sentence prediction for a sentence pair");
  add_text(nsp, true);
  auto* attn = app.add_subcommand("attention", "attention probabilities of every layer and head");
  add_text(attn, true);
  auto* bench = app.add_subcommand("bench", "time fill-mask on an N-token input");
  add_common(bench, common);
  bench->add_option("--tokens", tokens, "input length in tokens")->check(CLI::Range(3, 8192))->capture_default_str();
  bench->add_option("--reps", reps, "timed repetitions after one warm-up")->check(CLI::Range(1, 100000))->capture_default_str();
  int train_batch = 0;
  bench->add_option("--train-batch", train_batch,
                    "time one fine-tuning step (2-label classifier, AdamW, no dropout) at this batch size instead")
      ->check(CLI::Range(0, 4096));

  auto* random = app.add_subcommand("random-model", "write a BERT folder with seeded random weights (for trying views and tests)");
  std::string random_out, random_head = "mlm", random_labels = "NEGATIVE,POSITIVE";
  RandomModelSpec spec;
  spec.untrained_label = true;
  spec.vocab_file = resource_dir() / "vocab" / "bert-base-uncased-vocab.txt";
  random->add_option("out", random_out, "folder to write")->required();
  random->add_option("--head", random_head, "mlm | classifier | qa")->capture_default_str();
  random->add_option("--labels", random_labels, "classifier labels, comma-separated")->capture_default_str();
  random->add_option("--layers", spec.layers)->check(CLI::Range(1, 48))->capture_default_str();
  random->add_option("--hidden", spec.hidden)->check(CLI::Range(1, 8192))->capture_default_str();
  random->add_option("--heads", spec.heads)->check(CLI::Range(1, 128))->capture_default_str();
  random->add_option("--intermediate", spec.intermediate)->check(CLI::Range(1, 65536))->capture_default_str();
  random->add_option("--seed", spec.seed)->capture_default_str();
  random->add_option("--vocab", spec.vocab_file, "vocab.txt to use");

  auto* vocab_cmd = app.add_subcommand("train-vocab", "learn a WordPiece vocabulary (vocab.txt) from text files");
  std::vector<std::string> vocab_files;
  std::string vocab_out = "vocab.txt";
  VocabTrainerOptions vocab_options;
  bool cased = false;
  vocab_cmd->add_option("files", vocab_files, "UTF-8 text files")->required();
  vocab_cmd->add_option("--out", vocab_out, "vocab.txt to write")->capture_default_str();
  vocab_cmd->add_option("--vocab-size", vocab_options.vocab_size)->capture_default_str();
  vocab_cmd->add_option("--min-frequency", vocab_options.min_frequency)->capture_default_str();
  vocab_cmd->add_option("--limit-alphabet", vocab_options.limit_alphabet)->capture_default_str();
  vocab_cmd->add_flag("--cased", cased, "keep case and accents (default: uncased, like bert-base-uncased)");

  auto* convert_cmd = app.add_subcommand("convert", "rewrite a model folder's weights as F16, BF16 or F32");
  std::string convert_in, convert_out, convert_dtype = "f16";
  convert_cmd->add_option("model", convert_in, "Hugging Face model folder")->required();
  convert_cmd->add_option("out", convert_out, "folder to write")->required();
  convert_cmd->add_option("--dtype", convert_dtype, "f16 | bf16 | f32")->capture_default_str();
  auto* shrink_cmd = app.add_subcommand("shrink", "make a model smaller: keep the most used tokens and the strongest feed-forward neurons");
  std::string shrink_in, shrink_out, shrink_corpus;
  ShrinkOptions shrink_options;
  shrink_cmd->add_option("model", shrink_in, "Hugging Face model folder")->required();
  shrink_cmd->add_option("out", shrink_out, "folder to write (F32; convert it to F16 to ship)")->required();
  shrink_cmd->add_option("--vocab-size", shrink_options.vocab_size, "tokens to keep (0: all)")->capture_default_str();
  shrink_cmd->add_option("--corpus", shrink_corpus, "text whose token counts choose the tokens to keep");
  shrink_cmd->add_option("--intermediate", shrink_options.intermediate, "feed-forward neurons to keep a layer (0: all)")
      ->capture_default_str();

  PretrainCommand pretrain_args;
  auto* pretrain_cmd = add_pretrain_command(app, pretrain_args);
  EvaluateMlmCommand evaluate_mlm_args;
  auto* evaluate_mlm_cmd = add_evaluate_mlm_command(app, evaluate_mlm_args);
  TrainCommand train_args;
  auto* train = add_train_command(app, train_args);
  auto* evaluate_cmd = add_evaluate_command(app, train_args);

  CLI11_PARSE(app, argc, argv);
  input.has_pair = !input.text_pair.empty();

  try {
    if (*devices) {
      json list = json::array();
      for (const auto& d : gpu::VulkanContext::list_devices())
        list.push_back({{"index", d.index}, {"name", d.name}, {"type", d.type}});
      if (list.empty()) std::cerr << "bertscope: no Vulkan device (the CPU backend will be used)\n";
      std::cout << list.dump() << std::endl;
      return 0;
    }
    if (*random) {
      if (random_head == "classifier") {
        std::stringstream labels(random_labels);
        for (std::string label; std::getline(labels, label, ',');) spec.labels.push_back(label);
        if (spec.labels.size() < 2) throw Error("--labels needs two or more labels");
      } else if (random_head == "qa") {
        spec.question_answering = true;
      } else if (random_head != "mlm") {
        throw Error("--head must be mlm, classifier or qa");
      }
      write_random_model(random_out, spec);
      std::cerr << "bertscope: wrote a random (untrained) " << random_head << " model to " << random_out << "\n";
      return 0;
    }
    if (*train) return run_train(train_args);
    if (*pretrain_cmd) {
      check_pretraining_run_folder(pretrain_args.run);  // before any work: a bad folder costs nothing
      if (!pretrain_args.export_to.empty()) check_model_output(pretrain_args.export_to);
      // Resuming without --steps keeps the run's own length (the default would silently extend it).
      if (pretrain_cmd->count("--steps") == 0 && std::filesystem::exists(std::filesystem::path(pretrain_args.run) / "options.json"))
        pretrain_args.options.total_steps = 0;
      return run_pretrain(pretrain_args);
    }
    if (*convert_cmd) {
      const std::map<std::string, StDType> types = {{"f16", StDType::F16}, {"bf16", StDType::BF16}, {"f32", StDType::F32}};
      if (!types.count(convert_dtype)) throw Error("--dtype must be f16, bf16 or f32");
      check_model_output(convert_out);
      convert_model(resolve_model_path(convert_in), convert_out, types.at(convert_dtype));
      std::cout << json{{"out", convert_out}, {"dtype", convert_dtype}}.dump() << std::endl;
      return 0;
    }
    if (*shrink_cmd) {
      shrink_options.corpus = shrink_corpus;
      check_model_output(shrink_out);
      const ShrinkReport r = shrink_model(resolve_model_path(shrink_in), shrink_out, shrink_options);
      std::cout << json{{"out", shrink_out}, {"vocab_size", {r.vocab_before, r.vocab_after}},
                        {"intermediate_size", {r.intermediate_before, r.intermediate_after}},
                        {"parameters", {r.parameters_before, r.parameters_after}},
                        {"corpus_tokens_retokenized", r.corpus_tokens_retokenized}}.dump() << std::endl;
      return 0;
    }
    if (*evaluate_mlm_cmd) return run_evaluate_mlm(evaluate_mlm_args);
    if (*vocab_cmd) {
      vocab_options.lowercase = !cased;
      check_new_file(vocab_out);  // never over a file of the user's, the corpus included
      WordPieceTrainer trainer(vocab_options);
      for (const auto& file : vocab_files) {
        std::ifstream in(file);
        if (!in) throw Error(file + ": cannot open");
        for (std::string line; std::getline(in, line);) trainer.add_text(line);
      }
      std::cerr << "bertscope: " << trainer.word_count() << " words, " << trainer.distinct_words() << " distinct\n";
      const auto vocab = trainer.train([](int n, int target) { std::cerr << "\rbertscope: vocabulary " << n << "/" << target << std::flush; });
      std::cerr << "\n";
      write_vocab(vocab_out, vocab);
      std::cout << json{{"out", vocab_out}, {"vocab_size", vocab.size()}, {"words", trainer.word_count()},
                        {"distinct_words", trainer.distinct_words()}}.dump() << std::endl;
      return 0;
    }
    if (*bench && train_batch > 0) return bench_training_step(common.model, {parse_backend_kind(common.backend), common.device, false},
                                                              tokens, reps, train_batch);
    if (*evaluate_cmd) return run_evaluate(train_args);
    auto session = open_session(common);
    BertModel& model = session->model();
    const Tokenizer& tok = session->tokenizer();
    auto pair = [](const Input& in) { return in.has_pair ? std::optional<std::string_view>(in.text_pair) : std::nullopt; };
    auto need_text = [](const Input& in) {
      if (in.text.empty()) throw Error("no text given (use --text or --jsonl)");
    };

    if (*info) {
      std::cout << cli::info_json(session->info()).dump(2) << std::endl;
      return 0;
    }
    if (*tokenize) return run_inputs(jsonl, input, [&](const Input& in) {
        Encoding e = tok.encode(in.text, pair(in));
        if (e.truncated_tokens) std::cerr << "bertscope: input truncated by " << e.truncated_tokens << " tokens\n";
        return cli::tokenize_json(e);
      });
    if (*fill) return run_inputs(jsonl, input, [&](const Input& in) {
        need_text(in);
        return cli::fill_mask_json(fill_mask(model, tok, in.text, in.top_k > 0 ? in.top_k : 5));
      });
    if (*qa) return run_inputs(jsonl, input, [&](const Input& in) {
        QaOptions o;
        o.top_k = in.top_k > 0 ? in.top_k : 1;
        QaResult r = answer_question(model, tok, in.question, in.context, o);
        if (r.windows.size() > 1) std::cerr << "bertscope: context split into " << r.windows.size() << " windows\n";
        return cli::qa_json(r, o.top_k);
      });
    if (*classify_cmd) return run_inputs(jsonl, input, [&](const Input& in) {
        need_text(in);
        return cli::classify_json(classify(model, tok, in.text, pair(in)));
      });
    if (*tokens_cmd) return run_inputs(jsonl, input, [&](const Input& in) {
        need_text(in);
        return cli::token_classification_json(classify_tokens(model, tok, in.text));
      });
    if (*nsp) return run_inputs(jsonl, input, [&](const Input& in) {
        need_text(in);
        if (!in.has_pair) throw Error("next-sentence prediction needs --text-pair");
        return cli::nsp_json(next_sentence(model, tok, in.text, in.text_pair));
      });
    if (*attn) return run_inputs(jsonl, input, [&](const Input& in) {
        need_text(in);
        return cli::attention_json(attention(model, tok, in.text, pair(in)));
      });
    if (*bench) {
      // The same input as hf-oracle's bench_hf.mjs: a repeated sentence of N tokens with one [MASK].
      const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while",
                             "a", "bank", "of", "the", "river", "was", "flooded"};
      std::string text;
      for (int i = 0; i < std::max(1, tokens - 3); ++i) text += std::string(i ? " " : "") + (i == 5 ? "[MASK]" : words[i % 17]);
      if (tokens - 3 <= 5) text += " [MASK]";
      fill_mask(model, tok, text, 5);  // warm-up
      std::vector<double> ms;
      for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        fill_mask(model, tok, text, 5);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      std::cout << json{{"engine", "bertscope"}, {"backend", session->info().backend}, {"tokens", tok.encode(text).size()},
                        {"reps", reps}, {"median_ms", ms[ms.size() / 2]}, {"min_ms", ms.front()},
                        {"peak_rss_mb", peak_rss_mb()}}.dump()
                << std::endl;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "bertscope: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
