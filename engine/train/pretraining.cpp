#include "train/pretraining.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "core/test_hooks.h"
#include "model/pretrained.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "train/bert_trainer.h"
#include "train/optimizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace bertscope {

namespace {

json options_json(const PretrainOptions& o) {
  return {{"layers", o.layers}, {"hidden", o.hidden}, {"heads", o.heads}, {"intermediate", o.intermediate},
          {"max_positions", o.max_positions},
          {"sinusoidal_positions", o.sinusoidal_positions}, {"seq_len", o.seq_len}, {"batch_size", o.batch_size},
          {"total_steps", o.total_steps}, {"warmup_steps", o.warmup_steps}, {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay}, {"beta2", o.beta2}, {"dropout", o.dropout}, {"seed", o.seed},
          {"init_from", o.init_from}};
}

PretrainOptions options_from(const json& j, PretrainOptions o) {
  o.layers = j.at("layers"); o.hidden = j.at("hidden"); o.heads = j.at("heads"); o.intermediate = j.at("intermediate");
  o.max_positions = j.at("max_positions");
  o.seq_len = j.at("seq_len"); o.batch_size = j.at("batch_size");
  o.sinusoidal_positions = j.value("sinusoidal_positions", false);  // runs before it existed used N(0, 0.02)
  o.total_steps = j.at("total_steps"); o.warmup_steps = j.at("warmup_steps"); o.learning_rate = j.at("learning_rate");
  o.weight_decay = j.at("weight_decay"); o.beta2 = j.at("beta2"); o.dropout = j.at("dropout"); o.seed = j.at("seed");
  o.init_from = j.value("init_from", "");
  return o;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// The corpus as one stream of token ids, tokenized once and cached in the run folder.
std::vector<std::int32_t> corpus_tokens(const fs::path& run_dir, const fs::path& corpus, const Tokenizer& tokenizer,
                                        const PretrainCallbacks& cb) {
  const fs::path cache = run_dir / "tokens.bin";
  std::vector<std::int32_t> ids;
  if (fs::exists(cache)) {
    ids.resize(fs::file_size(cache) / sizeof(std::int32_t));
    std::ifstream(cache, std::ios::binary).read(reinterpret_cast<char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(std::int32_t)));
    return ids;
  }
  if (cb.message) cb.message("tokenizing " + corpus.string() + " (once; cached in " + cache.string() + ")");
  std::ifstream in(corpus);
  if (!in) throw Error(corpus.string() + ": cannot open the corpus");
  for (std::string line; std::getline(in, line);)
    for (const Token& t : tokenizer.tokenize(line)) ids.push_back(t.id);
  write_file_atomically(cache, std::string_view(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(std::int32_t)));
  return ids;
}

bool never_ours(const std::string&) { return false; }

// The step of a complete checkpoint folder (state.json is the last file a checkpoint gets), or -1.
int checkpoint_step(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_regular_file(folder / "state.json", ec)) return -1;
  try {
    return read_json_file(folder / "state.json").at("step").get<int>();
  } catch (const std::exception&) {
    return -1;
  }
}

// Where the file system cannot swap two folders atomically (FAT, NFS), a checkpoint is replaced by two renames; a
// run killed between them has no checkpoint/ but both the old and the new one complete under their temporary
// names. Returns the most advanced of those, or an empty path.
fs::path interrupted_checkpoint(const fs::path& run_dir) {
  fs::path best;
  int best_step = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    if (entry.path().filename().string().rfind(".checkpoint.bertscope-", 0) != 0 || !entry.is_directory(ec)) continue;
    if (const int step = checkpoint_step(entry.path()); step > best_step) best = entry.path(), best_step = step;
  }
  return best;
}

// Drops the rows of curve.csv past `step`, which a run killed after its last checkpoint had logged: the resumed
// run logs those steps again. A last line without its newline (cut by the kill) goes too.
void trim_curve(const fs::path& curve, int step) {
  std::error_code ec;
  if (!fs::is_regular_file(curve, ec)) return;
  std::ifstream in(curve, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string kept;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = text.substr(start, end - start);
    const bool later = !line.empty() && std::isdigit(static_cast<unsigned char>(line[0])) &&
                       std::strtoll(line.c_str(), nullptr, 10) > step;
    if (!later) kept += line + "\n";
  }
  if (kept.size() != text.size()) write_file_atomically(curve, kept);
}

}  // namespace

std::vector<PretrainProgress> read_pretraining_curve(const fs::path& run_dir, int last_step) {
  std::vector<PretrainProgress> rows;
  std::ifstream in(run_dir / "curve.csv");
  int total_steps = 0;
  if (const fs::path options = run_dir / "options.json"; fs::exists(options))
    total_steps = read_json_file(options).value("total_steps", 0);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;  // the header
    std::vector<std::string> cells;
    for (size_t start = 0;; ) {
      const size_t comma = line.find(',', start);
      cells.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (cells.size() < 8) continue;  // cut short
    const auto number = [&cells](size_t i) { return i < cells.size() ? std::strtod(cells[i].c_str(), nullptr) : 0.0; };
    PretrainProgress p;
    p.step = std::atoi(cells[0].c_str());
    if (p.step > last_step) break;
    p.total_steps = total_steps;
    p.loss = number(1);
    p.learning_rate = number(2);
    p.tokens_per_second = number(3);
    p.elapsed_seconds = number(4);
    if (!cells[5].empty()) {  // an evaluation step
      MlmEvalResult h;
      h.top1 = number(5);
      h.top5 = number(6);
      h.baseline_top1 = number(7);
      h.loss = number(8);
      h.masked = static_cast<std::int64_t>(number(9));
      p.heldout = h;
    }
    rows.push_back(p);
  }
  return rows;
}

void check_pretraining_run_folder(const fs::path& run_dir) {
  const fs::path folder = output_path(run_dir);
  if (fs::exists(folder / "options.json") && fs::exists(folder / "checkpoint" / "state.json")) return;  // resumes
  if (fs::exists(folder / "options.json") && !fs::exists(folder / "checkpoint") && !interrupted_checkpoint(folder).empty())
    return;  // resumes from the checkpoint a kill left under its temporary name
  if (fs::exists(folder / "options.json"))  // never silently restart a run whose checkpoint is gone
    throw Error(run_dir.string() + " is a pre-training run without its checkpoint (checkpoint/state.json is missing); "
                "nothing was changed. Restore the checkpoint, or start a new run in another folder");
  // A new run: only in a new or empty folder, so no file of the user's is appended to, replaced or reused.
  check_replaceable_folder(folder, never_ours, "a pre-training run");
}

int pretrain(const fs::path& run_dir, const fs::path& corpus, const fs::path& vocab, const fs::path& heldout_path,
             Backend& backend, const PretrainOptions& requested, const PretrainCallbacks& cb) {
  check_pretraining_run_folder(run_dir);  // never write into a folder of the user's
  const fs::path ckpt = run_dir / "checkpoint";
  if (requested.seq_len < 3 || requested.batch_size < 1 || requested.log_every < 1 || requested.eval_every < 1 ||
      requested.checkpoint_every < 1)
    throw Error("pre-training needs a sequence length of at least 3 and a batch size and every interval of at least 1");
  PretrainOptions o = requested;
  if (fs::exists(run_dir / "options.json")) {  // resuming: the run's own settings, today's reporting intervals
    o = options_from(read_json_file(run_dir / "options.json"), requested);
    if (requested.total_steps > o.total_steps) o.total_steps = requested.total_steps;  // a run may be extended
  }
  if (fs::exists(run_dir / "options.json") && !fs::exists(ckpt)) {
    if (const fs::path found = interrupted_checkpoint(run_dir); !found.empty()) {
      fs::rename(found, ckpt);  // a folder this program made, put back where it belongs
      if (cb.message) cb.message("recovered the checkpoint of an interrupted run from " + found.string());
    }
  }
  if (!fs::exists(ckpt / "state.json") && o.init_from.empty() && vocab.empty())
    throw Error("a new run needs a vocabulary (--vocab) or a model to start from (--init-from)");
  if (!fs::exists(ckpt / "state.json")) {
    // A new run is made whole under a temporary name, then moved into place: a kill leaves either no run or one
    // that resumes, never a folder that is neither (which the next start would have to refuse as the user's).
    StagedFolder fresh(run_dir, never_ours, "a pre-training run");
    const fs::path first = fresh.path() / "checkpoint";
    if (!o.init_from.empty()) {  // a later phase: the given model, re-saved as F32
      TrainerOptions copy;
      copy.head = TrainHead::MaskedLM;
      BertTrainer(o.init_from, backend, copy).save(first, StDType::F32);
      if (cb.message) cb.message("starting from " + o.init_from + " (copied to " + ckpt.string() + ")");
    } else {  // a fresh model: Hugging Face's initialisation
      RandomModelSpec spec;
      spec.vocab_file = vocab;
      spec.layers = o.layers;
      spec.hidden = o.hidden;
      spec.heads = o.heads;
      spec.intermediate = o.intermediate;
      spec.max_positions = o.max_positions;
      spec.seed = o.seed;
      spec.sinusoidal_positions = o.sinusoidal_positions;
      write_random_model(first, spec);
      if (cb.message) cb.message("new " + std::to_string(o.layers) + "-layer model in " + ckpt.string());
    }
    write_file_atomically(first / "state.json", json{{"step", 0}, {"elapsed_seconds", 0.0}}.dump() + "\n");
    write_file_atomically(fresh.path() / "options.json", options_json(o).dump(2) + "\n");  // makes it a run; the architecture
                                                                                     // always comes from the checkpoint
    fresh.commit();
  }
  const Pretrained pretrained = open_pretrained(ckpt);
  const ModelConfig& config = pretrained.config;
  // The architecture is the checkpoint's (a later phase's comes from the model it started from).
  o.layers = config.num_hidden_layers;
  o.hidden = config.hidden_size;
  o.heads = config.num_attention_heads;
  o.intermediate = config.intermediate_size;
  o.max_positions = config.max_position_embeddings;
  write_file_atomically(run_dir / "options.json", options_json(o).dump(2) + "\n");
  const json state = read_json_file(ckpt / "state.json");
  int step = state.at("step");
  double elapsed_before = state.value("elapsed_seconds", 0.0);
  trim_curve(run_dir / "curve.csv", step);

  const Tokenizer& tokenizer = *pretrained.tokenizer;
  if (o.seq_len > config.max_tokens()) throw Error("sequence length exceeds the model's positions");
  const std::vector<std::int32_t> stream = corpus_tokens(run_dir, corpus, tokenizer, cb);
  const std::int64_t body = o.seq_len - 2, n_seq = static_cast<std::int64_t>(stream.size()) / body;
  if (n_seq < o.batch_size) throw Error("the corpus is too small for one batch");
  const std::vector<std::string> heldout = heldout_path.empty() ? std::vector<std::string>{} : read_lines(heldout_path);

  TrainerOptions topt;
  topt.head = TrainHead::MaskedLM;
  topt.dropout = o.dropout;
  topt.seed = o.seed;
  BertTrainer trainer(pretrained, backend, topt);
  trainer.set_step(static_cast<std::uint32_t>(step));
  if (fs::exists(ckpt / "optimizer.safetensors")) {  // the AdamW moments, so the resumed steps are the same
    SafetensorsFile moments(ckpt / "optimizer.safetensors");
    for (auto& p : trainer.params()) {
      std::vector<float> converted;
      p->m = backend.upload(moments.read_f32("m." + p->name, converted), p->value.shape());
      p->v = backend.upload(moments.read_f32("v." + p->name, converted), p->value.shape());
    }
  }
  OptimizerOptions opt;
  opt.learning_rate = o.learning_rate;
  opt.beta2 = o.beta2;
  opt.eps = 1e-6f;  // as BERT's pre-training
  opt.weight_decay = o.weight_decay;
  opt.warmup_steps = o.warmup_steps;
  opt.total_steps = o.total_steps;
  AdamW adamw(trainer.params(), backend, opt);
  adamw.set_steps_taken(step);

  auto checkpoint = [&](double elapsed) {
    trainer.save(ckpt, StDType::F32, [&](const fs::path& tmp) {
      std::vector<std::vector<float>> host;
      std::vector<StWriteTensor> tensors;
      host.reserve(trainer.params().size() * 2);
      for (auto& p : trainer.params()) {
        for (const char* which : {"m.", "v."}) {
          const Tensor& t = which[0] == 'm' ? p->m : p->v;
          host.emplace_back(static_cast<size_t>(t.numel()));
          backend.download(t, host.back());
          tensors.push_back({which + p->name, p->value.shape(), host.back()});
        }
      }
      write_safetensors(tmp / "optimizer.safetensors", tensors, StDType::F32);
      write_file_atomically(tmp / "state.json", json{{"step", step}, {"elapsed_seconds", elapsed}}.dump() + "\n");
    }, is_checkpoint_file_name);  // replaces this run's own previous checkpoint, and nothing else
  };

  // The data of step s (1-based): sequences from the epoch's permutation, masks from (seed, s).
  std::vector<std::int64_t> order;
  std::int64_t order_epoch = -1;
  const std::int32_t first_ordinary = 5;  // [PAD] [UNK] [CLS] [SEP] [MASK] lead a bertscope vocabulary
  auto make_batch = [&](int s) {
    TrainBatch b;
    b.tokens.batch = o.batch_size;
    b.tokens.seq_len = o.seq_len;
    std::mt19937 rng(o.seed * 2654435761U + static_cast<std::uint32_t>(s));
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::uniform_int_distribution<std::int32_t> random_token(first_ordinary, config.vocab_size - 1);
    for (int j = 0; j < o.batch_size; ++j) {
      const std::int64_t g = static_cast<std::int64_t>(s - 1) * o.batch_size + j;
      const std::int64_t epoch = g / n_seq;
      if (epoch != order_epoch) {
        order.resize(static_cast<size_t>(n_seq));
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), std::mt19937(o.seed + static_cast<std::uint32_t>(epoch) * 7919U));
        order_epoch = epoch;
      }
      const std::int32_t* seq = stream.data() + order[static_cast<size_t>(g % n_seq)] * body;
      for (int t = 0; t < o.seq_len; ++t) {
        const std::int32_t id = t == 0 ? tokenizer.cls_id() : t == o.seq_len - 1 ? tokenizer.sep_id() : seq[t - 1];
        std::int32_t input = id, label = -100;
        if (t > 0 && t < o.seq_len - 1 && u(rng) < 0.15f) {
          label = id;
          const float r = u(rng);
          input = r < 0.8f ? tokenizer.mask_id() : r < 0.9f ? random_token(rng) : id;
        }
        b.tokens.ids.push_back(input);
        b.tokens.type_ids.push_back(0);
        b.tokens.mask.push_back(1);
        b.labels.push_back(label);
      }
    }
    return b;
  };

  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(clock::now() - started).count(); };
  std::ofstream curve(run_dir / "curve.csv", std::ios::app);
  if (fs::file_size(run_dir / "curve.csv") == 0)
    curve << "step,loss,learning_rate,tokens_per_second,elapsed_seconds,heldout_top1,heldout_top5,heldout_baseline_top1,"
             "heldout_loss,heldout_masked\n";
  double loss_sum = 0;
  int loss_steps = 0;
  auto window_start = clock::now();
  if (cb.message) cb.message("training from step " + std::to_string(step) + " of " + std::to_string(o.total_steps) +
                             " on " + backend.name() + ", " + std::to_string(n_seq) + " sequences of " +
                             std::to_string(o.seq_len) + " tokens");
  while (step < o.total_steps) {
    if ((cb.stop && cb.stop()) || (o.pause_at_step > 0 && step >= o.pause_at_step)) break;
    const TrainBatch batch = make_batch(step + 1);
    const double loss = trainer.compute_gradients(batch);
    trainer.check_loss(loss, step + 1);  // stops before the step: the last checkpoint stays good
    loss_sum += loss;
    adamw.step();
    ++step;
    ++loss_steps;
    const bool report = step % o.log_every == 0 || step == o.total_steps;
    const bool evaluate = !heldout.empty() && (step % o.eval_every == 0 || step == o.total_steps);
    if (report || evaluate) {
      PretrainProgress p;
      p.step = step;
      p.total_steps = o.total_steps;
      p.loss = loss_sum / loss_steps;
      p.learning_rate = adamw.learning_rate_at(step);
      const double window = std::chrono::duration<double>(clock::now() - window_start).count();
      p.tokens_per_second = window > 0 ? loss_steps * double(o.batch_size) * o.seq_len / window : 0;
      p.elapsed_seconds = elapsed();
      p.eta_seconds = p.tokens_per_second > 0 ? (o.total_steps - step) * double(o.batch_size) * o.seq_len / p.tokens_per_second : 0;
      if (evaluate) {
        p.heldout = evaluate_mlm([&](const TokenBatch& b, const std::vector<std::int32_t>& rows) {
          return trainer.mlm_logits(b, rows);
        }, tokenizer, heldout, o.seq_len, 0, 3000);
      }
      curve << step << "," << p.loss << "," << p.learning_rate << "," << p.tokens_per_second << "," << p.elapsed_seconds << ",";
      if (p.heldout)
        curve << p.heldout->top1 << "," << p.heldout->top5 << "," << p.heldout->baseline_top1 << "," << p.heldout->loss
              << "," << p.heldout->masked;
      else curve << ",,,,";
      curve << "\n" << std::flush;
      if (!curve) throw Error((run_dir / "curve.csv").string() + ": write failed (disk full?); the last checkpoint is intact");
      if (cb.progress) cb.progress(p);
      loss_sum = 0;
      loss_steps = 0;
      window_start = clock::now();
    }
    test_hooks::pause_point("pretrain-step");  // logged, not checkpointed: where tests/test_kill.cpp kills a run
    if (step % o.checkpoint_every == 0) checkpoint(elapsed());
  }
  checkpoint(elapsed());
  if (cb.message) cb.message("checkpoint at step " + std::to_string(step) + " in " + ckpt.string());
  return step;
}

}  // namespace bertscope
