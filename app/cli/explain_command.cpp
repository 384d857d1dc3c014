#include "cli/explain_command.h"

#include <charconv>
#include <chrono>
#include <iostream>

#include "core/error.h"
#include "explain/explain.h"
#include "explain/head_gradients.h"

using nlohmann::json;

namespace bertscope::cli {

CLI::App* add_explain_command(CLI::App& app, ExplainArgs& a) {
  auto* cmd = app.add_subcommand("explain", "why the model gives an output: each token's saliency for one logit "
                                            "(gradient x input or integrated gradients), or --rank-heads");
  cmd->add_option("--task", a.task, "fill-mask | classify | qa | ner")
      ->required()
      ->check(CLI::IsMember({"fill-mask", "classify", "qa", "ner"}));
  cmd->add_option("--text", a.text, "input text (qa: the context)")->required();
  cmd->add_option("--text-pair", a.text_pair, "second sentence (classify)");
  cmd->add_option("--question", a.question, "the question (qa)");
  cmd->add_option("--target", a.target,
                  "the logit: fill-mask a word, classify and ner a label (name or id), qa start or end; default: the "
                  "model's top choice (qa: start)");
  cmd->add_option("--position", a.position,
                  "token index of the target: fill-mask the mask (default the first), qa the answer's start or end "
                  "(default the best), ner the token (default the first entity)");
  cmd->add_option("--method", a.method, "grad-input | ig (integrated gradients)")
      ->check(CLI::IsMember({"grad-input", "ig"}))
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "integrated gradients' steps")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--baseline", a.baseline, "integrated gradients' baseline: zero or pad word embeddings")
      ->check(CLI::IsMember({"zero", "pad"}))
      ->capture_default_str();
  cmd->add_option("--head-mask", a.head_mask, "heads to switch off first, LAYER:HEAD,... (0-based)");
  cmd->add_flag("--rank-heads", a.rank_heads,
                "instead of saliency: every head's importance, the target logit's drop when it alone is switched off, "
                "and its gradient with respect to the head's gate (Michel et al. 2019)");
  return cmd;
}

namespace {

// The logit --target names, for the task (ExplainTarget::index); -1 when not given.
int target_index(BertModel& model, const Tokenizer& tokenizer, ExplainTask task, const std::string& target) {
  if (task == ExplainTask::QuestionAnswering) {
    if (target.empty() || target == "start") return 0;
    if (target == "end") return 1;
    throw Error("--target for qa is start or end, not \"" + target + "\"");
  }
  if (target.empty()) return -1;
  if (task == ExplainTask::FillMask) {
    if (auto id = tokenizer.find(target)) return *id;
    throw Error("--target \"" + target + "\" is not an entry of the model's vocabulary (fill-mask explains one entry's logit)");
  }
  for (const auto& [id, name] : model.config().id2label)
    if (name == target) return id;
  int id = -1;
  const auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), id);
  if (ec == std::errc() && end == target.data() + target.size()) return id;  // checked against the head later
  std::string names;
  for (const auto& [i, name] : model.config().id2label) names += (names.empty() ? "" : ", ") + name;
  throw Error("--target \"" + target + "\" is not one of the model's labels (" + names + ") or a label id");
}

json target_json(BertModel& model, const Tokenizer& tokenizer, const Encoding& e, const ExplainTarget& t, const TargetScore& s) {
  json j = {{"position", t.position}, {"token", e.tokens.at(static_cast<size_t>(t.position)).text}, {"index", t.index},
            {"logit", s.logit}, {"probability", s.probability}};
  if (t.task == ExplainTask::FillMask) j["word"] = tokenizer.readable(t.index);
  else if (t.task == ExplainTask::QuestionAnswering) j["logit_of"] = t.index == 0 ? "start" : "end";
  else j["label"] = model.config().id2label.count(t.index) ? model.config().id2label.at(t.index) : std::to_string(t.index);
  return j;
}

}  // namespace

json run_explain(BertModel& model, const Tokenizer& tokenizer, const ExplainArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const ExplainTask task = parse_explain_task(a.task);
  if (task == ExplainTask::QuestionAnswering && a.question.empty()) throw Error("qa needs --question (and --text, the context)");
  if (task != ExplainTask::QuestionAnswering && !a.question.empty()) throw Error("--question is for --task qa");
  if (!a.text_pair.empty() && task != ExplainTask::Classify) throw Error("--text-pair is for --task classify");
  const int L = model.config().num_hidden_layers, A = model.config().num_attention_heads;
  model.set_head_mask(parse_head_mask(a.head_mask, L, A));

  const Encoding e = task == ExplainTask::QuestionAnswering ? tokenizer.encode(a.question, a.text)
                     : a.text_pair.empty()                  ? tokenizer.encode(a.text)
                                                            : tokenizer.encode(a.text, a.text_pair);
  if (e.truncated_tokens) std::cerr << "bertscope: input truncated by " << e.truncated_count() << " tokens\n";
  if (a.position >= static_cast<int>(e.size()))
    throw Error("--position " + std::to_string(a.position) + " is past the input's " + std::to_string(e.size()) + " tokens");
  const int index = target_index(model, tokenizer, task, a.target);
  const bool position_given = a.position >= 0 && task != ExplainTask::Classify;
  const ExplainTarget target = resolve_target(model, tokenizer, e, task, position_given ? a.position : -1, index);
  const TargetScore score = score_target(model, e, target);
  json out = {{"task", a.task}, {"target", target_json(model, tokenizer, e, target, score)}};
  if (!model.head_mask().empty()) out["head_mask"] = head_mask_spec(model.head_mask());

  if (a.rank_heads) {
    const HeadRanking r = rank_heads(model, e, target);
    json grid = json::array(), grid_p = json::array(), ranking = json::array();
    for (int l = 0; l < L; ++l) {
      json row = json::array(), row_p = json::array();
      for (int h = 0; h < A; ++h) {
        const size_t i = static_cast<size_t>(l) * A + h;
        row.push_back(r.already_off[i] ? json(nullptr) : json(r.logit_change[i]));
        row_p.push_back(r.already_off[i] ? json(nullptr) : json(r.probability_change[i]));
      }
      grid.push_back(row);
      grid_p.push_back(row_p);
    }
    for (const auto& [l, h] : r.ranking) {
      const size_t i = static_cast<size_t>(l) * A + h;
      ranking.push_back({{"layer", l}, {"head", h}, {"logit_change", r.logit_change[i]}, {"probability_change", r.probability_change[i]}});
    }
    out["importance"] = grid;  // (layers, heads): the logit's drop without the head; null for heads already off
    out["probability_change"] = grid_p;
    out["ranking"] = ranking;
    // Michel et al.'s gradient importance, from one backward pass: d(logit)/d(head gate), the first-order estimate
    // of "importance" above.
    const HeadGradients g = head_gradients(model, e, target);
    json gradient = json::array();
    for (int l = 0; l < L; ++l) {
      json row = json::array();
      for (int h = 0; h < A; ++h) {
        const size_t i = static_cast<size_t>(l) * A + h;
        row.push_back(g.already_off[i] ? json(nullptr) : json(g.gradient[i]));
      }
      gradient.push_back(row);
    }
    out["gradient"] = gradient;
  } else {
    SaliencyOptions o;
    o.method = a.method == "ig" ? SaliencyMethod::IntegratedGradients : SaliencyMethod::GradientInput;
    o.steps = a.steps;
    o.baseline = a.baseline == "pad" ? SaliencyBaseline::Pad : SaliencyBaseline::Zero;
    const Saliency s = saliency(model, e, target, o);
    json tokens = json::array();
    for (size_t t = 0; t < e.size(); ++t)
      tokens.push_back({{"index", t}, {"token", e.tokens[t].text}, {"score", s.scores[t]}, {"norm", s.norms[t]}});
    out["method"] = a.method;
    out["tokens"] = tokens;
    if (o.method == SaliencyMethod::IntegratedGradients) {
      out["steps"] = s.steps;
      out["baseline"] = a.baseline;
      out["baseline_logit"] = s.baseline_logit;
      out["completeness_error"] = s.completeness_error;
    }
  }
  out["ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace bertscope::cli
