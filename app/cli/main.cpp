// bertscope-cli: every engine feature from the command line. JSON on stdout (one object a line), messages on
// stderr, exit status 1 on any error.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/attention_command.h"
#include "cli/bench_command.h"
#include "cli/explain_command.h"
#include "cli/hub_commands.h"
#include "cli/json_output.h"
#include "cli/pretrain_commands.h"
#include "cli/train_commands.h"
#include "core/data_dir.h"
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
  std::string revision = "main";  // a Hub id's branch, tag or commit
  int device = -1;
  bool validation = false;
};

// One task input: flags, or a line of --jsonl (the fields hf-oracle's hf_pipeline.mjs reads).
struct Input {
  std::string text, text_pair, question, context;
  bool has_pair = false;
  int top_k = -1;
};

// Opens the model where `c` asks. With --backend auto, a GPU that fails while the weights go onto it (out of its
// memory, device lost) leaves the model on the CPU, and `c` then says cpu.
std::unique_ptr<Session> open_session(Common& c) {
  BackendRequest request{parse_backend_kind(c.backend), c.device, c.validation};
  std::unique_ptr<Session> session;
  const std::filesystem::path folder = resolve_model_path(c.model, cli::hub_options(c.revision));
  try {
    session = std::make_unique<Session>(folder, request);
  } catch (const DeviceError& e) {
    if (request.kind != BackendKind::Auto) throw;
    std::cerr << "bertscope: " << e.what() << "\nbertscope: --backend auto: loading the model on the CPU instead\n";
    c.backend = "cpu";
    request.kind = BackendKind::Cpu;
    session = std::make_unique<Session>(folder, request);
  }
  std::cerr << "bertscope: " << session->info().folder.string() << " on " << session->info().backend << "\n";
  if (!session->info().backend_warning.empty()) std::cerr << "bertscope: warning: " << session->info().backend_warning << "\n";
  if (!session->info().backend_note.empty()) std::cerr << "bertscope: " << session->info().backend_note << "\n";
  if (session->info().untrained) std::cerr << "bertscope: note: this model is untrained (random weights)\n";
  return session;
}

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("model", c.model, "Hugging Face model folder, a Hub id (name or org/name), or 'default'")->capture_default_str();
  cli::add_revision_option(cmd, c.revision);
  cmd->add_option("--backend", c.backend, "auto | vulkan | cpu")->capture_default_str();
  cmd->add_option("--device", c.device, "Vulkan device index (see 'devices'); -1 picks the best");
  cmd->add_flag("--validation", c.validation, "enable Vulkan validation layers");
}

// What to do when the GPU fails mid-job: true when the model now runs elsewhere and the input should run again.
using Recover = std::function<bool(const DeviceError&)>;

// Writes one input's answer, a JSON line, to `out`.
using Answer = std::function<void(const Input&, std::ostream& out)>;

// Reads a line of `in` into `line`, keeping at most `max` bytes of it (a 100 MB line must not take 100 MB to refuse);
// returns the line's full length, or nullopt at the end of the input.
std::optional<size_t> read_line(std::istream& in, std::string& line, size_t max) {
  line.clear();
  std::streambuf& buffer = *in.rdbuf();
  size_t length = 0;
  for (int c = buffer.sbumpc(); c != std::char_traits<char>::eof(); c = buffer.sbumpc()) {
    if (c == '\n') return length;
    if (length++ < max) line.push_back(static_cast<char>(c));
  }
  return length > 0 ? std::optional<size_t>(length) : std::nullopt;
}

// Runs `answer` on the flag input, or on every line of --jsonl (a bad line answers with an error line); returns the
// exit status. A GPU failure is not a bad line: unless `recover` moves the model (then the input runs again), it
// stops the command.
int run_inputs(const std::string& jsonl, const Input& flags, const Recover& recover, std::ostream& out,
               const Answer& answer) {
  auto run = [&](const Input& in) {
    try {
      answer(in, out);
    } catch (const DeviceError& e) {
      if (!recover(e)) throw;
      answer(in, out);
    }
  };
  if (jsonl.empty()) {
    run(flags);
    return 0;
  }
  std::ifstream in(jsonl, std::ios::binary);
  if (!in) throw Error(jsonl + ": cannot open");
  constexpr size_t max_line = 16u << 20;  // a line is one input; parsing 100 MB of JSON would take gigabytes
  int status = 0, line_no = 0;
  std::string line;
  for (std::optional<size_t> length; (length = read_line(in, line, max_line + 1));) {
    ++line_no;
    if (*length <= max_line && line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      if (*length > max_line) throw Error("the line is " + std::to_string(*length) + " bytes; at most 16 MiB a line");
      const json j = parse_json(line, "JSON line");
      if (!j.is_object()) throw Error("expected a JSON object");
      Input in_line;
      in_line.text = j.value("text", "");
      in_line.has_pair = j.contains("text_pair") && j["text_pair"].is_string();
      if (in_line.has_pair) in_line.text_pair = j["text_pair"];
      in_line.question = j.value("question", "");
      in_line.context = j.value("context", "");
      in_line.top_k = j.value("top_k", flags.top_k);
      run(in_line);
    } catch (const DeviceError&) {
      std::cerr << "bertscope: " << jsonl << ":" << line_no << ": stopped: the GPU failed\n";
      throw;
    } catch (const std::exception& e) {
      std::cerr << "bertscope: " << jsonl << ":" << line_no << ": " << e.what() << "\n";
      out << dump_json(json{{"error", e.what()}, {"line", line_no}}) << std::endl;  // e.what() may hold bad UTF-8
      status = 1;
    }
  }
  return status;
}

// run_inputs for a task whose answer is one JSON value, printed on stdout.
int run_inputs(const std::string& jsonl, const Input& flags, const Recover& recover,
               const std::function<json(const Input&)>& task) {
  return run_inputs(jsonl, flags, recover, std::cout, [&](const Input& in, std::ostream& out) {
    const json answer = task(in);  // whole before any of it is printed: a failure leaves no half line
    out << dump_json(answer) << std::endl;
  });
}

}  // namespace

int main(int argc, char** argv) {
  prepare_cpu_runtime(argv);
  // Named, so that help says "bertscope-cli", not the path it was started by (the man page is made from it).
  CLI::App app{"bertscope-cli: run Hugging Face BERT models on Vulkan or the CPU", "bertscope-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bertscope-cli ") + BERTSCOPE_VERSION);
  Common common;
  Input input;
  std::string jsonl;
  int tokens = 128, reps = 10;

  auto* info = app.add_subcommand("info", "what a model folder holds and where it runs");
  add_common(info, common);
  auto* devices = app.add_subcommand("devices", "list Vulkan devices (with their GPU self-check verdicts)");
  auto* self_check = app.add_subcommand("self-check", "run the GPU self-check now (a tiny model on a Vulkan device vs "
                                                      "the CPU) and remember its verdict for --backend auto");
  self_check->add_option("--device", common.device, "Vulkan device index (see 'devices'); -1: the one auto picks");
  self_check->add_flag("--validation", common.validation, "enable Vulkan validation layers");
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
  auto* ner = app.add_subcommand("ner", "named entities, as Hugging Face's token-classification pipeline");
  add_text(ner, false);
  std::string aggregation = "none", ignore_labels = "O";
  EntityOptions entity_options;
  ner->add_option("--aggregation", aggregation, "none | simple | first | average | max (Hugging Face's aggregation_strategy)")
      ->capture_default_str();
  ner->add_option("--ignore-labels", ignore_labels, "labels left out, comma-separated (\"\" keeps every label)")
      ->capture_default_str();
  ner->add_option("--stride", entity_options.stride, "tokens shared by neighbouring windows of a long text")
      ->check(CLI::Range(0, 8192))->capture_default_str();
  auto* nsp = app.add_subcommand("nsp", "next-sentence prediction for a sentence pair");
  add_text(nsp, true);
  auto* attn = app.add_subcommand("attention", "attention probabilities of every layer and head (or the chosen ones), "
                                               "as a JSON line or a .npy array, written a layer at a time");
  add_text(attn, true);
  cli::AttentionArgs attention_args;
  cli::add_attention_options(attn, attention_args);
  cli::ExplainArgs explain_args;
  auto* explain = cli::add_explain_command(app, explain_args);
  add_common(explain, common);
  auto* bench = app.add_subcommand("bench", "time fill-mask on an N-token input");
  add_common(bench, common);
  bench->add_option("--tokens", tokens, "input length in tokens")->check(CLI::Range(3, 8192))->capture_default_str();
  bench->add_option("--reps", reps, "timed repetitions after one warm-up")->check(CLI::Range(1, 100000))->capture_default_str();
  int train_batch = 0;
  bench->add_option("--train-batch", train_batch,
                    "time one fine-tuning step (2-label classifier, AdamW, no dropout) at this batch size instead")
      ->check(CLI::Range(0, 4096));
  std::string bench_sentences_file;
  int bench_batch = 32;
  bench->add_option("--sentences", bench_sentences_file,
                    "time batch inference (as evaluate runs it) over this file's lines instead; needs a classifier");
  bench->add_option("--batch-size", bench_batch, "--sentences: sentences per batch")->check(CLI::Range(1, 4096))->capture_default_str();

  auto* random = app.add_subcommand("random-model", "write a BERT folder with seeded random weights (for trying views and tests)");
  std::string random_out, random_head = "mlm", random_labels = "NEGATIVE,POSITIVE";
  RandomModelSpec spec;
  spec.untrained_label = true;
  random->add_option("out", random_out, "folder to write")->required();
  random->add_option("--head", random_head, "mlm | classifier | token | qa")->capture_default_str();
  auto* labels_option = random->add_option("--labels", random_labels,
      "classifier labels, comma-separated (token: CoNLL-2003's O,B-PER,I-PER,... unless given)")->capture_default_str();
  random->add_option("--layers", spec.layers)->check(CLI::Range(1, 48))->capture_default_str();
  random->add_option("--hidden", spec.hidden)->check(CLI::Range(1, 8192))->capture_default_str();
  random->add_option("--heads", spec.heads)->check(CLI::Range(1, 128))->capture_default_str();
  random->add_option("--intermediate", spec.intermediate)->check(CLI::Range(1, 65536))->capture_default_str();
  random->add_option("--seed", spec.seed)->capture_default_str();
  random->add_option("--vocab", spec.vocab_file, "vocab.txt to use (default: bert-base-uncased's, in bertscope's data folder)");

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
  convert_cmd->add_option("model", convert_in, "Hugging Face model folder, or a Hub id")->required();
  cli::add_revision_option(convert_cmd, common.revision);
  convert_cmd->add_option("out", convert_out, "folder to write")->required();
  convert_cmd->add_option("--dtype", convert_dtype, "f16 | bf16 | f32")->capture_default_str();
  auto* shrink_cmd = app.add_subcommand("shrink", "make a model smaller: keep the most used tokens and the strongest feed-forward neurons");
  std::string shrink_in, shrink_out, shrink_corpus;
  ShrinkOptions shrink_options;
  shrink_cmd->add_option("model", shrink_in, "Hugging Face model folder, or a Hub id")->required();
  cli::add_revision_option(shrink_cmd, common.revision);
  shrink_cmd->add_option("out", shrink_out, "folder to write (F32; convert it to F16 to ship)")->required();
  shrink_cmd->add_option("--vocab-size", shrink_options.vocab_size, "tokens to keep (0: all)")->capture_default_str();
  shrink_cmd->add_option("--corpus", shrink_corpus, "text whose token counts choose the tokens to keep");
  shrink_cmd->add_option("--intermediate", shrink_options.intermediate, "feed-forward neurons to keep a layer (0: all)")
      ->capture_default_str();

  HubCommand hub_args;
  auto* download_cmd = add_download_command(app, hub_args);
  auto* cache_cmd = add_cache_command(app, hub_args);

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
      FileVerdictStore store;
      for (const auto& d : gpu::VulkanContext::list_devices()) {
        const auto verdict = store.find(device_key(d));
        list.push_back({{"index", d.index}, {"name", d.name}, {"type", d.type}, {"key", device_key(d)},
                        {"self_check", !verdict ? "not run yet" : verdict->passed ? "passed on " + verdict->checked
                                                                  : "failed on " + verdict->checked + ": " + verdict->reason}});
      }
      if (list.empty()) std::cerr << "bertscope: no Vulkan device (the CPU backend will be used)\n";
      std::cout << list.dump() << std::endl;
      return 0;
    }
    if (*self_check) {
      FileVerdictStore store;
      const SelfCheckReport r = run_device_self_check(common.device, common.validation, &store);
      std::cerr << "bertscope: Vulkan device '" << r.device.name << "' " << (r.verdict.passed ? "passed" : "FAILED")
                << " the GPU self-check" << (r.verdict.passed ? "" : ": " + r.verdict.reason) << "\n";
      if (!r.note.empty()) std::cerr << "bertscope: " << r.note << "\n";
      json out = {{"device", r.device.name}, {"type", r.device.type}, {"key", r.key}, {"passed", r.verdict.passed},
                  {"max_error", r.result.max_error}, {"worst_output", r.result.worst_output},
                  {"tolerance", gpu::kSelfCheckTolerance}, {"outputs", r.result.outputs}, {"ms", r.result.ms},
                  {"checked", r.verdict.checked}, {"remembered_in", store.file().string()}};
      if (!r.verdict.passed) out["reason"] = r.verdict.reason;
      std::cout << out.dump() << std::endl;
      return r.verdict.passed ? 0 : 1;
    }
    if (*download_cmd) return run_download(hub_args);
    if (*cache_cmd) return run_cache(*cache_cmd, hub_args);
    if (*random) {
      if (random_head == "token" && labels_option->count() == 0)
        random_labels = "O,B-PER,I-PER,B-ORG,I-ORG,B-LOC,I-LOC,B-MISC,I-MISC";
      if (random_head == "classifier" || random_head == "token") {
        spec.token_classification = random_head == "token";
        std::stringstream labels(random_labels);
        for (std::string label; std::getline(labels, label, ',');) spec.labels.push_back(label);
        if (spec.labels.size() < 2) throw Error("--labels needs two or more labels");
      } else if (random_head == "qa") {
        spec.question_answering = true;
      } else if (random_head != "mlm") {
        throw Error("--head must be mlm, classifier, token or qa");
      }
      if (spec.vocab_file.empty()) spec.vocab_file = data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
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
      convert_model(resolve_model_path(convert_in, cli::hub_options(common.revision)), convert_out, types.at(convert_dtype));
      std::cout << json{{"out", convert_out}, {"dtype", convert_dtype}}.dump() << std::endl;
      return 0;
    }
    if (*shrink_cmd) {
      shrink_options.corpus = shrink_corpus;
      check_model_output(shrink_out);
      const ShrinkReport r = shrink_model(resolve_model_path(shrink_in, cli::hub_options(common.revision)), shrink_out, shrink_options);
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
    if (*bench && train_batch > 0) return bench_training_step(resolve_model_path(common.model, cli::hub_options(common.revision)).string(), {parse_backend_kind(common.backend), common.device, false},
                                                              tokens, reps, train_batch);
    if (*evaluate_cmd) return run_evaluate(train_args);
    std::unique_ptr<cli::AttentionOutput> attention_output;  // checked before the model loads: a bad --out costs nothing
    if (*attn) attention_output = std::make_unique<cli::AttentionOutput>(attention_args, !jsonl.empty());
    auto session = open_session(common);
    // Through `session` at each call: with --backend auto, a GPU failure swaps in a CPU session (recover_on_cpu).
    auto model = [&]() -> BertModel& { return session->model(); };
    auto tok = [&]() -> const Tokenizer& { return session->tokenizer(); };
    // A GPU that fails mid-job (device lost, out of its memory): with --backend auto the model is reloaded on the
    // CPU and the input runs again there; with --backend vulkan the command stops with the error.
    const Recover recover_on_cpu = [&](const DeviceError& e) {
      if (parse_backend_kind(common.backend) != BackendKind::Auto || !session->backend().is_gpu()) return false;
      std::cerr << "bertscope: " << e.what() << "\nbertscope: --backend auto: reloading the model on the CPU and "
                   "running the input again\n";
      session.reset();  // the failed GPU's objects go first
      common.backend = "cpu";
      session = open_session(common);
      return true;
    };
    auto pair = [](const Input& in) { return in.has_pair ? std::optional<std::string_view>(in.text_pair) : std::nullopt; };
    auto need_text = [](const Input& in) {
      if (in.text.empty()) throw Error("no text given (use --text or --jsonl)");
    };

    if (*info) {
      std::cout << cli::info_json(session->info()).dump(2) << std::endl;
      return 0;
    }
    if (*tokenize) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        Encoding e = tok().encode(in.text, pair(in));
        if (e.truncated_tokens) std::cerr << "bertscope: input truncated by " << e.truncated_count() << " tokens\n";
        return cli::tokenize_json(e);
      });
    if (*fill) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        need_text(in);
        return cli::fill_mask_json(fill_mask(model(), tok(), in.text, in.top_k > 0 ? in.top_k : 5));
      });
    if (*qa) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        QaOptions o;
        o.top_k = in.top_k > 0 ? in.top_k : 1;
        QaResult r = answer_question(model(), tok(), in.question, in.context, o);
        if (r.windows.size() > 1) std::cerr << "bertscope: context split into " << r.windows.size() << " windows\n";
        return cli::qa_json(r, o.top_k);
      });
    if (*classify_cmd) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        need_text(in);
        return cli::classify_json(classify(model(), tok(), in.text, pair(in)));
      });
    if (*tokens_cmd) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        need_text(in);
        return cli::token_classification_json(classify_tokens(model(), tok(), in.text));
      });
    if (*ner) {
      const auto how = parse_aggregation(aggregation);
      if (!how) throw Error("--aggregation must be none, simple, first, average or max, not \"" + aggregation + "\"");
      entity_options.aggregation = *how;
      entity_options.ignore_labels.clear();
      for (size_t from = 0; from <= ignore_labels.size() && !ignore_labels.empty();) {
        const size_t comma = std::min(ignore_labels.find(',', from), ignore_labels.size());
        entity_options.ignore_labels.push_back(ignore_labels.substr(from, comma - from));
        from = comma + 1;
      }
      return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        EntityResult r = recognize_entities(model(), tok(), in.text, entity_options);
        if (r.windows > 1) std::cerr << "bertscope: text read in " << r.windows << " windows\n";
        return cli::entities_json(r, entity_options.aggregation);
      });
    }
    if (*nsp) return run_inputs(jsonl, input, recover_on_cpu, [&](const Input& in) {
        need_text(in);
        if (!in.has_pair) throw Error("next-sentence prediction needs --text-pair");
        return cli::nsp_json(next_sentence(model(), tok(), in.text, in.text_pair));
      });
    if (*explain) return run_inputs("", input, recover_on_cpu, [&](const Input&) { return cli::run_explain(model(), tok(), explain_args); });
    if (*attn) {
      attention_output->check(model().config());  // a layer or head the model lacks, before any input runs
      // Written a layer at a time: once an input's output has begun, a GPU failure cannot run it again.
      bool writing = false;
      const Recover recover_before_writing = [&](const DeviceError& e) { return !writing && recover_on_cpu(e); };
      const int status = run_inputs(jsonl, input, recover_before_writing, attention_output->stream(),
                                    [&](const Input& in, std::ostream&) {
                                      need_text(in);
                                      writing = false;
                                      AttentionMaps maps(model(), tok(), in.text, pair(in), attention_output->selection());
                                      writing = true;
                                      attention_output->write(maps);
                                    });
      attention_output->commit();
      return status;
    }
    if (*bench && !bench_sentences_file.empty()) return cli::bench_sentences(*session, bench_sentences_file, bench_batch, reps);
    if (*bench) return cli::bench_fill_mask(*session, tokens, reps);
  } catch (const DeviceError& e) {
    std::cerr << "bertscope: error: " << e.what() << "\nbertscope: the job stopped; --backend cpu runs it on the CPU\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bertscope: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
