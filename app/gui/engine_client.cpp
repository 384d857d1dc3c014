#include "engine_client.h"

#include <QMetaObject>
#include <algorithm>
#include <filesystem>
#include <new>

#include "core/data_dir.h"
#include "core/error.h"
#include "explain/attention_flow.h"
#include "hub_download.h"
#include "neuron_view.h"

namespace bertscope::gui {

QString job_name(Job job) {
  switch (job) {
    case Job::Load: return QStringLiteral("Loading the model");
    case Job::Tokenize: return QStringLiteral("Tokenizing");
    case Job::FillMask: return QStringLiteral("Predicting masked words");
    case Job::Attention: return QStringLiteral("Computing attention");
    case Job::Answer: return QStringLiteral("Answering");
    case Job::Classify: return QStringLiteral("Classifying");
    case Job::Entities: return QStringLiteral("Finding entities");
    case Job::RankHeads: return QStringLiteral("Ranking heads");
    case Job::AttentionFlow: return QStringLiteral("Computing attention rollout/flow");
    case Job::Neurons: return QStringLiteral("Computing query and key vectors");
    case Job::Explain: return QStringLiteral("Explaining the prediction");
    case Job::Compare: return QStringLiteral("Opening the model to compare with");
  }
  return {};
}

namespace {

Session& require(std::unique_ptr<Session>& session) {
  if (!session) throw Error("no model is loaded");
  return *session;
}

std::optional<std::string> optional_text(const QString& s) {
  if (s.trimmed().isEmpty()) return std::nullopt;
  return s.toStdString();
}

// The tokens' texts as a reader sees them; the views only show them.
void make_readable(const Tokenizer& tokenizer, Encoding& encoding) {
  for (Token& t : encoding.tokens) t.text = tokenizer.readable(t.id);
}

// How prediction `token` fills the mask at `position`: asks continues_word of the encoding with the mask replaced.
PredictedWord predicted_word(const Tokenizer& tokenizer, Encoding encoding, int position, std::int32_t token) {
  Token& t = encoding.tokens.at(static_cast<size_t>(position));
  t.id = token;
  t.text = tokenizer.token(token);
  t.special = tokenizer.is_special(token);
  PredictedWord word;
  word.joins = tokenizer.continues_word(encoding, static_cast<size_t>(position));
  if (word.joins) {
    // The piece without its continuation marker: what decoding it after the token before adds ("##ing" -> "ing").
    const std::int32_t before = encoding.tokens[static_cast<size_t>(position) - 1].id;
    const QString both = QString::fromStdString(tokenizer.decode({before, token}, false));
    const QString alone = QString::fromStdString(tokenizer.decode({before}, false));
    word.text = both.startsWith(alone) ? both.mid(alone.size()) : QString::fromStdString(tokenizer.readable(token));
  } else {
    word.text = QString::fromStdString(tokenizer.readable(token)).trimmed();  // the text keeps its own spaces
  }
  return word;
}

// What the UI knows about `session`'s model.
std::shared_ptr<LoadedModel> loaded_model(Session& session, const BackendRequest& backend) {
  auto out = std::make_shared<LoadedModel>();
  out->info = session.info();
  out->mlm = session.model().has_mlm_head();
  out->nsp = session.model().has_nsp_head();
  out->classifier = session.model().has_classifier();
  out->qa = session.model().has_qa_head();
  out->token_classifier = session.model().has_token_classifier();
  if (out->token_classifier)
    for (int i = 0; i < session.model().num_token_labels(); ++i)
      out->token_labels << QString::fromStdString(session.config().id2label.at(i));
  // RoBERTa keeps a one-row type embedding: every token has type 0, so there is nothing to show.
  out->token_types = session.config().has_token_types() && session.config().type_vocab_size > 1;
  out->max_tokens = session.config().max_tokens();
  out->layers = session.config().num_hidden_layers;
  out->heads = session.config().num_attention_heads;
  const Tokenizer& tokenizer = session.tokenizer();
  out->mask_token = QString::fromStdString(tokenizer.mask_token());
  out->cls_token = QString::fromStdString(tokenizer.token(tokenizer.cls_id()));
  out->sep_token = QString::fromStdString(tokenizer.token(tokenizer.sep_id()));
  out->backend = backend;
  out->on_gpu = session.backend().is_gpu();
  try {
    std::error_code no_such_folder;  // no built-in model here: nothing is it
    out->built_in = std::filesystem::equivalent(out->info.folder, data_dir() / "default-model", no_such_folder);
  } catch (const std::exception&) {
    out->built_in = false;  // no data folder (a copied binary): the user's own model still opens
  }
  return out;
}

}  // namespace

ShownEncoding shown_encoding(const Tokenizer& tokenizer, Encoding encoding) {
  ShownEncoding shown;
  shown.continues.resize(encoding.size());
  for (size_t i = 0; i < encoding.size(); ++i) shown.continues[i] = tokenizer.continues_word(encoding, i);
  make_readable(tokenizer, encoding);
  shown.encoding = std::move(encoding);
  return shown;
}

EngineClient::EngineClient(QObject* parent) : QObject(parent) {
  worker_ = new QObject;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.setObjectName(QStringLiteral("bertscope engine"));
  thread_.start();
}

EngineClient::~EngineClient() {
  closing_ = true;  // queued jobs are skipped; the one in flight finishes
  // The session's GPU objects are released on the thread that made and used them.
  QMetaObject::invokeMethod(worker_, [this] {
    sessionB_.reset();
    session_.reset();
  }, Qt::QueuedConnection);
  thread_.quit();
  thread_.wait();
}

quint64 EngineClient::post(Job job, std::function<Delivery(std::unique_ptr<Session>&)> work, int lane) {
  const quint64 id = next_id_++;
  if (lane < 0) lane = static_cast<int>(job);
  latest_[static_cast<size_t>(lane)] = id;
  if (pending_++ == 0) emit busyChanged(true, job_name(job));
  // Every request runs with the heads switched off when it was asked for (a load starts with every head on).
  QMetaObject::invokeMethod(worker_, [this, id, job, lane, work = std::move(work), mask = headMask_] {
    Delivery deliver;
    if (!closing_ && latest_[static_cast<size_t>(lane)] == id) {  // skip work a newer request replaced
      try {
        if (session_ && job != Job::Load) session_->model().set_head_mask(mask);
        deliver = work(session_);
      } catch (const DeviceError& e) {
        const QString message = QString::fromUtf8(e.what());
        deliver = [this, job, message](quint64 i) {
          emit failed(i, job, message);
          emit deviceFailed(i, job, message);
        };
      } catch (const std::bad_alloc&) {
        deliver = [this, job](quint64 i) {
          emit failed(i, job, tr("Out of memory. Try a shorter text, the CPU backend or a smaller model."));
        };
      } catch (const std::exception& e) {
        const QString message = QString::fromUtf8(e.what());
        deliver = [this, job, message](quint64 i) { emit failed(i, job, message); };
      }
    }
    if (closing_) return;
    QMetaObject::invokeMethod(this, [this, id, deliver] {
      if (deliver) deliver(id);
      finishOne();
    }, Qt::QueuedConnection);
  }, Qt::QueuedConnection);
  return id;
}

void EngineClient::finishOne() {
  if (--pending_ == 0) emit busyChanged(false, QString());
}

void EngineClient::setHeadMask(HeadMask mask) {
  if (!mask.empty() && mask.heads_off() == 0) mask = HeadMask{};  // all on: the same as no mask
  headMask_ = std::move(mask);
  emit headMaskChanged();
}

void EngineClient::toggleHead(int layer, int head) {
  if (!model_ || layer < 0 || layer >= model_->layers || head < 0 || head >= model_->heads) return;
  HeadMask mask = headMask_.empty() ? HeadMask::all_on(model_->layers, model_->heads) : headMask_;
  mask.at(layer, head) = mask.at(layer, head) == 0.0f ? 1.0f : 0.0f;
  setHeadMask(std::move(mask));
}

const Ablation* EngineClient::ablation(Job job, quint64 id) const {
  const auto& [latest, ablation] = ablations_[static_cast<size_t>(job)];
  return id != 0 && latest == id && ablation.full ? &ablation : nullptr;
}

Ablation EngineClient::fullModel(Session& session, Job job, const std::string& key,
                                 const std::function<FullModelAnswer()>& compute) {
  const HeadMask mask = session.model().head_mask();
  if (mask.empty() || mask.heads_off() == 0) return {};
  FullCacheEntry& cached = fullCache_[static_cast<size_t>(job)];
  if (!cached.answer || cached.key != key) {
    session.model().set_head_mask({});
    try {
      cached = {key, std::make_shared<const FullModelAnswer>(compute())};
    } catch (...) {
      session.model().set_head_mask(mask);
      throw;
    }
    session.model().set_head_mask(mask);
  }
  return {mask.heads_off(), cached.answer};
}

bool EngineClient::same_vocabulary(const Session& a, const Session& b) {
  const Tokenizer& x = a.tokenizer();
  const Tokenizer& y = b.tokenizer();
  if (x.vocab_size() != y.vocab_size() || x.marks_continuations() != y.marks_continuations() || x.mask_id() != y.mask_id() ||
      x.cls_id() != y.cls_id() || x.sep_id() != y.sep_id())
    return false;
  for (size_t i = 0; i < x.vocab_size(); ++i)
    if (x.token(std::int32_t(i)) != y.token(std::int32_t(i))) return false;
  return true;
}

Ptr<ModelBAnswer> EngineClient::answerB(const std::function<void(Session& b, ModelBAnswer& answer)>& compute) {
  if (!sessionB_) return nullptr;
  auto answer = std::make_shared<ModelBAnswer>();
  answer->aligned = sameVocabularyWorker_;
  try {
    compute(*sessionB_, *answer);
  } catch (const std::exception& e) {  // model B failing must not take model A's answer with it
    answer->problem = QString::fromUtf8(e.what());
  }
  return answer;
}

const ModelBAnswer* EngineClient::comparison(Job job, quint64 id) const {
  const auto& [latest, answer] = comparisons_[static_cast<size_t>(job)];
  return comparing() && id != 0 && latest == id && answer ? answer.get() : nullptr;
}

quint64 EngineClient::compareWith(const QString& model) {
  const std::string argument = model.toStdString();
  const BackendRequest backend = model_ ? model_->backend : BackendRequest{};
  return post(Job::Compare, [this, argument, backend](std::unique_ptr<Session>& session) -> Delivery {
    if (!session) throw Error("open a model first: it is model A, the one model B is compared with");
    auto fresh = std::make_unique<Session>(resolveGuiModel(argument), backend);
    auto loaded = loaded_model(*fresh, backend);
    const bool same = same_vocabulary(*session, *fresh);
    sessionB_ = std::move(fresh);
    sameVocabularyWorker_ = same;
    return [this, loaded, same](quint64 id) {
      if (latest_[static_cast<size_t>(Job::Compare)] != id) return;  // stopCompare() came after it
      modelB_ = loaded;
      sameVocabulary_ = same;
      comparisons_ = {};
      emit compareChanged();
    };
  });
}

void EngineClient::stopCompare() {
  const bool was = comparing();
  post(Job::Compare, [this](std::unique_ptr<Session>&) -> Delivery {
    sessionB_.reset();
    sameVocabularyWorker_ = false;
    return {};
  });
  modelB_.reset();
  sameVocabulary_ = false;
  comparisons_ = {};
  if (was) emit compareChanged();
}

quint64 EngineClient::load(const QString& model, const BackendRequest& backend) {
  const std::string argument = model.toStdString();
  return post(Job::Load, [this, argument, backend](std::unique_ptr<Session>& session) -> Delivery {
    // Build the new session first: if it fails, the model in use stays loaded and usable.
    auto fresh = std::make_unique<Session>(resolveGuiModel(argument), backend);  // a Hub id: "org/name[@revision]"
    auto loaded = loaded_model(*fresh, backend);
    // Compare mode: model B's answers line up with the new model's only if they still share a vocabulary.
    if (sessionB_) sameVocabularyWorker_ = same_vocabulary(*fresh, *sessionB_);
    const bool same = sameVocabularyWorker_;
    session = std::move(fresh);
    fullCache_ = {};  // the full model's answers were the old model's
    return [this, loaded, same](quint64 id) {
      model_ = loaded;
      if (!headMask_.empty()) setHeadMask({});  // a new model starts with every head on
      emit this->loaded(id, loaded);
      if (comparing()) {
        sameVocabulary_ = same;
        comparisons_ = {};
        emit compareChanged();
      }
    };
  });
}

quint64 EngineClient::tokenize(const QString& text, const QString& pair) {
  const std::string first = text.toStdString();
  const auto second = optional_text(pair);
  return post(Job::Tokenize, [this, first, second](std::unique_ptr<Session>& session) -> Delivery {
    std::optional<std::string_view> pair_view;
    if (second) pair_view = *second;
    const Tokenizer& tokenizer = require(session).tokenizer();
    auto encoding = std::make_shared<const ShownEncoding>(shown_encoding(tokenizer, tokenizer.encode(first, pair_view)));
    return [this, encoding](quint64 id) { emit tokenized(id, encoding); };
  });
}

quint64 EngineClient::fillMask(const QString& text, int topK) {
  const std::string input = text.toStdString();
  return post(Job::FillMask, [this, input, topK](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    auto reply = std::make_shared<FillMaskReply>();
    try {
      reply->result = fill_mask(s.model(), s.tokenizer(), input, topK);
    } catch (const DeviceError&) {
      throw;  // the GPU failed: failed() and deviceFailed() handle it
    } catch (const Error& e) {
      reply->result = FillMaskResult{};
      reply->result.encoding = s.tokenizer().encode(input);
      reply->problem = QString::fromUtf8(e.what());
    }
    for (size_t m = 0; m < reply->result.predictions.size(); ++m) {
      auto& words = reply->words.emplace_back();
      for (const MaskPrediction& p : reply->result.predictions[m])
        words.push_back(predicted_word(s.tokenizer(), reply->result.encoding, reply->result.mask_positions[m], p.token));
    }
    Ablation ablation;
    if (reply->problem.isEmpty())
      ablation = fullModel(s, Job::FillMask, input, [&] {
        // Every word's probability, not only the top k: the words shown with heads off may rank lower here.
        FullModelAnswer full;
        const EncoderOutput out = s.model().encode(single_batch(reply->result.encoding));
        const std::vector<float> logits = s.model().mlm_logits(out.hidden, reply->result.mask_positions);  // (masks, V)
        const size_t V = static_cast<size_t>(s.config().vocab_size);
        for (size_t m = 0; m < reply->result.mask_positions.size(); ++m) {
          full.fill_mask.push_back(softmax(logits.data() + m * V, V));
          const auto& p = full.fill_mask.back();
          const auto best = static_cast<std::int32_t>(std::max_element(p.begin(), p.end()) - p.begin());
          full.fill_mask_best.push_back(s.tokenizer().readable(best));
        }
        return full;
      });
    Ptr<ModelBAnswer> b;
    if (reply->problem.isEmpty())
      b = answerB([&](Session& sb, ModelBAnswer& out) {
        if (!sb.model().has_mlm_head()) throw Error("model B has no masked-language-model head");
        // Model B's own mask token in place of model A's ("[MASK]" -> "<mask>" across families).
        std::string inputB = input;
        const std::string maskA = s.tokenizer().mask_token(), maskB = sb.tokenizer().mask_token();
        if (!maskA.empty() && !maskB.empty() && maskA != maskB)
          for (size_t at = inputB.find(maskA); at != std::string::npos; at = inputB.find(maskA, at + maskB.size()))
            inputB.replace(at, maskA.size(), maskB);
        const FillMaskResult own = fill_mask(sb.model(), sb.tokenizer(), inputB, topK);
        out.fill_mask_top = own.predictions;
        // Lined up only when B reads exactly A's tokens: then every word A shows has a probability under B.
        out.aligned = out.aligned && own.encoding.ids() == reply->result.encoding.ids();
        if (!out.aligned) return;
        const EncoderOutput encoded = sb.model().encode(single_batch(own.encoding));
        const std::vector<float> logits = sb.model().mlm_logits(encoded.hidden, own.mask_positions);  // (masks, V)
        const size_t V = static_cast<size_t>(sb.config().vocab_size);
        for (size_t m = 0; m < own.mask_positions.size(); ++m) {
          out.fill_mask.push_back(softmax(logits.data() + m * V, V));
          const auto& p = out.fill_mask.back();
          out.fill_mask_best.push_back(sb.tokenizer().readable(static_cast<std::int32_t>(std::max_element(p.begin(), p.end()) - p.begin())));
        }
      });
    ShownEncoding shown = shown_encoding(s.tokenizer(), std::move(reply->result.encoding));
    reply->result.encoding = std::move(shown.encoding);
    reply->continues = std::move(shown.continues);
    Ptr<FillMaskReply> result = reply;
    return [this, result, ablation, b](quint64 id) {
      ablations_[static_cast<size_t>(Job::FillMask)] = {id, ablation};
      comparisons_[static_cast<size_t>(Job::FillMask)] = {id, b};
      emit filled(id, result);
    };
  });
}

quint64 EngineClient::attention(const QString& text, const QString& pair) {
  const std::string first = text.toStdString();
  const auto second = optional_text(pair);
  return post(Job::Attention, [this, first, second](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    if (first.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("type a sentence to see its attention");
    std::optional<std::string_view> pair_view;
    if (second) pair_view = *second;
    auto attention = bertscope::attention(s.model(), s.tokenizer(), first, pair_view);
    make_readable(s.tokenizer(), attention.encoding);
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      auto own = bertscope::attention(sb.model(), sb.tokenizer(), first, pair_view);
      make_readable(sb.tokenizer(), own.encoding);
      out.aligned = out.aligned && own.encoding.ids() == attention.encoding.ids();
      out.attention = std::make_shared<const AttentionResult>(std::move(own));
    });
    auto result = std::make_shared<const AttentionResult>(std::move(attention));
    return [this, result, b](quint64 id) {
      comparisons_[static_cast<size_t>(Job::Attention)] = {id, b};
      emit attended(id, result);
    };
  });
}

quint64 EngineClient::answer(const QString& question, const QString& context, int topK) {
  const std::string q = question.toStdString(), c = context.toStdString();
  return post(Job::Answer, [this, q, c, topK](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    QaOptions options;
    options.top_k = topK;
    auto answers = answer_question(s.model(), s.tokenizer(), q, c, options);
    for (QaWindow& window : answers.windows) make_readable(s.tokenizer(), window.encoding);
    const Ablation ablation = fullModel(s, Job::Answer, q + '\x1f' + c + '\x1f' + std::to_string(topK), [&] {
      FullModelAnswer full;
      full.qa = answer_question(s.model(), s.tokenizer(), q, c, options);
      return full;
    });
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      if (!sb.model().has_qa_head()) throw Error("model B has no question-answering head");
      out.qa = answer_question(sb.model(), sb.tokenizer(), q, c, options);
    });
    auto result = std::make_shared<const QaResult>(std::move(answers));
    return [this, result, ablation, b](quint64 id) {
      ablations_[static_cast<size_t>(Job::Answer)] = {id, ablation};
      comparisons_[static_cast<size_t>(Job::Answer)] = {id, b};
      emit answered(id, result);
    };
  });
}

quint64 EngineClient::classify(const QString& text, const QString& pair) {
  const std::string first = text.toStdString();
  const auto second = optional_text(pair);
  return post(Job::Classify, [this, first, second](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    if (first.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("type a sentence to classify");
    std::optional<std::string_view> pair_view;
    if (second) pair_view = *second;
    auto reply = std::make_shared<ClassifyReply>();
    reply->encoding = s.tokenizer().encode(first, pair_view);
    make_readable(s.tokenizer(), reply->encoding);
    if (s.model().has_classifier()) reply->classification = bertscope::classify(s.model(), s.tokenizer(), first, pair_view);
    if (s.model().has_nsp_head() && second) reply->nsp = next_sentence(s.model(), s.tokenizer(), first, *second);
    const Ablation ablation = fullModel(s, Job::Classify, first + '\x1f' + second.value_or("\x1e"), [&] {
      FullModelAnswer full;
      if (s.model().has_classifier()) full.classification = bertscope::classify(s.model(), s.tokenizer(), first, pair_view);
      if (s.model().has_nsp_head() && second) full.nsp = next_sentence(s.model(), s.tokenizer(), first, *second);
      return full;
    });
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      if (!sb.model().has_classifier() && !sb.model().has_nsp_head())
        throw Error("model B has neither a classification head nor a next-sentence head");
      if (sb.model().has_classifier()) out.classification = bertscope::classify(sb.model(), sb.tokenizer(), first, pair_view);
      if (sb.model().has_nsp_head() && second) out.nsp = next_sentence(sb.model(), sb.tokenizer(), first, *second);
    });
    Ptr<ClassifyReply> result = reply;
    return [this, result, ablation, b](quint64 id) {
      ablations_[static_cast<size_t>(Job::Classify)] = {id, ablation};
      comparisons_[static_cast<size_t>(Job::Classify)] = {id, b};
      emit classified(id, result);
    };
  });
}

quint64 EngineClient::entities(const QString& text, Aggregation aggregation) {
  const std::string input = text.toStdString();
  return post(Job::Entities, [this, input, aggregation](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    if (input.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("type a text to find its entities");
    EntityOptions options;
    options.aggregation = aggregation;
    auto reply = std::make_shared<EntitiesReply>();
    reply->result = recognize_entities(s.model(), s.tokenizer(), input, options);  // long texts: in windows
    reply->aggregation = aggregation;
    const Tokenizer& tokenizer = s.tokenizer();
    for (const TokenLabel& t : reply->result.tokens) {
      const auto id = tokenizer.find(t.word);  // an unknown token's word is the text it covers
      reply->tokens.push_back(QString::fromStdString(id ? tokenizer.readable(*id) : t.word));
    }
    for (int i = 0; i < s.model().num_token_labels(); ++i)
      reply->labels << QString::fromStdString(s.config().id2label.at(i));
    const Ablation ablation = fullModel(s, Job::Entities, input + '\x1f' + aggregation_name(aggregation), [&] {
      FullModelAnswer full;
      full.entities = recognize_entities(s.model(), s.tokenizer(), input, options);
      return full;
    });
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      if (!sb.model().has_token_classifier()) throw Error("model B has no token-classification head");
      out.entities = recognize_entities(sb.model(), sb.tokenizer(), input, options);
    });
    Ptr<EntitiesReply> result = reply;
    return [this, result, ablation, b](quint64 id) {
      ablations_[static_cast<size_t>(Job::Entities)] = {id, ablation};
      comparisons_[static_cast<size_t>(Job::Entities)] = {id, b};
      emit entitiesFound(id, result);
    };
  });
}

namespace {
// What a ranking explains, in words.
QString target_text(const Session& s, const Encoding& encoding, const ExplainTarget& target) {
  const Tokenizer& tokenizer = s.tokenizer();
  const auto token = [&](int i) { return QString::fromStdString(tokenizer.readable(encoding.tokens.at(size_t(i)).id)).trimmed(); };
  switch (target.task) {
    case ExplainTask::FillMask:
      return QObject::tr("“%1” at %2 (token %3)").arg(QString::fromStdString(tokenizer.readable(target.index)).trimmed(), token(target.position)).arg(target.position);
    case ExplainTask::Classify:
      return QObject::tr("label %1").arg(QString::fromStdString(s.config().id2label.at(target.index)));
    case ExplainTask::QuestionAnswering:
      return QObject::tr("the answer's %1 at “%2” (token %3)").arg(target.index == 0 ? QObject::tr("start") : QObject::tr("end"), token(target.position)).arg(target.position);
    case ExplainTask::TokenClassification:
      return QObject::tr("%1 for “%2” (token %3)").arg(QString::fromStdString(s.config().id2label.at(target.index)), token(target.position)).arg(target.position);
  }
  return {};
}
}  // namespace

quint64 EngineClient::rankHeads(const QString& text, const QString& pair, ExplainTask task) {
  const std::string first = text.toStdString();
  const auto second = optional_text(pair);
  return post(Job::RankHeads, [this, first, second, task](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    if (first.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("type a sentence to rank the heads for");
    std::optional<std::string_view> pair_view;
    if (second) pair_view = *second;
    const Encoding encoding = s.tokenizer().encode(first, pair_view);
    auto reply = std::make_shared<RankHeadsReply>();
    reply->target = resolve_target(s.model(), s.tokenizer(), encoding, task);
    // This request is the latest as it starts; a cancel or a newer ranking makes it not, and it stops at the next pass.
    const quint64 mine = latest_[static_cast<size_t>(Job::RankHeads)];
    const auto report = [this, mine](int done, int total) {
      QMetaObject::invokeMethod(this, [this, mine, done, total] { emit headsRankProgress(mine, done, total); }, Qt::QueuedConnection);
    };
    // Model B's heads (every one on) come after A's: the progress counts both.
    const int headsB = sessionB_ ? sessionB_->config().num_hidden_layers * sessionB_->config().num_attention_heads : 0;
    int headsA = 0;
    RankHeadsCallbacks callbacks;
    callbacks.cancelled = [this, mine] { return closing_ || latest_[static_cast<size_t>(Job::RankHeads)] != mine; };
    callbacks.progress = [&](int done, int total) {
      headsA = total;
      report(done, total + headsB);
    };
    reply->ranking = rank_heads(s.model(), encoding, reply->target, callbacks);
    if (reply->ranking.cancelled) return {};  // nothing to deliver: the page already went back to how it was
    reply->gradients = head_gradients(s.model(), encoding, reply->target);
    reply->target_text = target_text(s, encoding, reply->target);
    reply->heads_off = s.model().head_mask().empty() ? 0 : s.model().head_mask().heads_off();
    bool cancelledB = false;
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      const Encoding encodingB = sb.tokenizer().encode(first, pair_view);
      out.aligned = out.aligned && encodingB.ids() == encoding.ids();
      auto rankedB = std::make_shared<RankHeadsReply>();
      rankedB->target = resolve_target(sb.model(), sb.tokenizer(), encodingB, task);
      RankHeadsCallbacks callbacksB = callbacks;
      callbacksB.progress = [&](int done, int total) { report(headsA + done, headsA + total); };
      rankedB->ranking = rank_heads(sb.model(), encodingB, rankedB->target, callbacksB);
      cancelledB = rankedB->ranking.cancelled;
      if (!cancelledB) rankedB->gradients = head_gradients(sb.model(), encodingB, rankedB->target);
      rankedB->target_text = target_text(sb, encodingB, rankedB->target);
      out.ranking = rankedB;
    });
    if (cancelledB) return {};
    Ptr<RankHeadsReply> result = reply;
    return [this, result, b](quint64 id) {
      comparisons_[static_cast<size_t>(Job::RankHeads)] = {id, b};
      emit headsRanked(id, result);
    };
  });
}

quint64 EngineClient::neurons(const QString& text, const QString& pair, int layer, int head, int query) {
  const std::string first = text.toStdString();
  const auto second = optional_text(pair);
  return post(Job::Neurons, [this, first, second, layer, head, query](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    std::optional<std::string_view> pair_view;
    if (second) pair_view = *second;
    Encoding encoding = s.tokenizer().encode(first, pair_view);
    const int last = int(encoding.size()) - 1;  // a shorter text than the last one: its last token
    auto vectors = neuron_vectors(s.model(), encoding, layer, head, std::clamp(query, 0, last));
    make_readable(s.tokenizer(), vectors.encoding);
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      const Encoding encodingB = sb.tokenizer().encode(first, pair_view);
      out.aligned = out.aligned && encodingB.ids() == encoding.ids();
      auto own = neuron_vectors(sb.model(), encodingB, layer, head, std::clamp(query, 0, int(encodingB.size()) - 1));
      make_readable(sb.tokenizer(), own.encoding);
      out.neurons = std::make_shared<const NeuronVectors>(std::move(own));
    });
    auto result = std::make_shared<const NeuronVectors>(std::move(vectors));
    return [this, result, b](quint64 id) {
      comparisons_[static_cast<size_t>(Job::Neurons)] = {id, b};
      emit neuronsComputed(id, result);
    };
  });
}

void EngineClient::cancelRankHeads() { latest_[static_cast<int>(Job::RankHeads)] = next_id_++; }

quint64 EngineClient::attentionFlow(Ptr<AttentionResult> attention, bool flow) {
  return post(Job::AttentionFlow, [this, attention, flow](std::unique_ptr<Session>&) -> Delivery {
    if (!attention) throw Error("there is no attention to roll out yet");
    const int T = attention->tokens;
    if (flow && T > kAttentionFlowMaxTokens)
      throw Error("attention flow is computed for inputs of up to " + std::to_string(kAttentionFlowMaxTokens) +
                  " tokens; this one has " + std::to_string(T) + " (rollout works for any length)");
    auto derived = std::make_shared<AttentionResult>();
    derived->encoding = attention->encoding;
    derived->layers = attention->layers;
    derived->heads = 1;  // one map per layer: the layers up to it, rolled out or as flow
    derived->tokens = T;
    if (flow)
      for (int l = 0; l < attention->layers; ++l) derived->maps.push_back(attention_flow(attention->maps, attention->heads, T, l));
    else
      derived->maps = attention_rollout(attention->maps, attention->heads, T);
    Ptr<AttentionResult> result = derived;
    return [this, result](quint64 id) { emit flowComputed(id, result); };
  });
}

quint64 EngineClient::explain(const ExplainRequest& request) {
  const int lane = kJobCount + static_cast<int>(request.task);
  return post(Job::Explain, [this, request](std::unique_ptr<Session>& session) -> Delivery {
    Session& s = require(session);
    const Tokenizer& tokenizer = s.tokenizer();
    Encoding encoding;
    if (request.encoding) {
      encoding = *request.encoding;
      for (Token& t : encoding.tokens) t.text = tokenizer.token(t.id);  // the views' copy holds readable texts
    } else {
      const std::string text = request.text.toStdString();
      if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("type a text to explain");
      const auto pair = optional_text(request.pair);
      std::optional<std::string_view> pair_view;
      if (pair) pair_view = *pair;
      encoding = tokenizer.encode(text, pair_view);
    }
    int position = request.position;
    if (request.offset >= 0) {  // a token of the text: its place in what the model reads
      const auto& tokens = encoding.tokens;
      const auto it = std::find_if(tokens.begin(), tokens.end(), [&](const Token& t) {
        return !t.special && t.sequence == 0 && t.start == request.offset;
      });
      if (it == tokens.end())
        throw Error("saliency explains the text's first " + std::to_string(encoding.size()) +
                    " tokens (what the model reads at once); that token is past them");
      position = static_cast<int>(it - tokens.begin());
    }
    auto reply = std::make_shared<SaliencyReply>();
    reply->target = resolve_target(s.model(), tokenizer, encoding, request.task, position, request.index);
    reply->score = score_target(s.model(), encoding, reply->target);
    reply->saliency = bertscope::saliency(s.model(), encoding, reply->target, request.options);
    reply->method = request.options.method;
    reply->target_text = target_text(s, encoding, reply->target);
    const Ptr<ModelBAnswer> b = answerB([&](Session& sb, ModelBAnswer& out) {
      out.saliency = saliency_b(s, sb, request, encoding, reply->target, out.aligned);
    });
    reply->encoding = shown_encoding(tokenizer, std::move(encoding));
    Ptr<SaliencyReply> result = reply;
    return [this, result, b](quint64 id) {
      comparisons_[static_cast<size_t>(Job::Explain)] = {id, b};
      emit explained(id, result);
    };
  }, lane);
}

Ptr<SaliencyReply> EngineClient::saliency_b(const Session& a, Session& b, const ExplainRequest& request,
                                            const Encoding& encodingA, const ExplainTarget& targetA, bool& aligned) {
  // B reads A's tokens when it shares A's vocabulary (a QA window included), else the text as it tokenizes it.
  Encoding encoding;
  if (aligned) {
    encoding = encodingA;
  } else {
    const std::string text = request.text.toStdString();
    const auto pair = optional_text(request.pair);
    std::optional<std::string_view> pair_view;
    if (pair) pair_view = *pair;
    encoding = b.tokenizer().encode(text, pair_view);
  }
  aligned = aligned && encoding.ids() == encodingA.ids();
  // The same output where the two line up: A's position, and A's word (one vocabulary) or label (by name).
  int position = -1, index = targetA.task == ExplainTask::QuestionAnswering ? targetA.index : -1;
  const bool labels = targetA.task == ExplainTask::Classify || targetA.task == ExplainTask::TokenClassification;
  if (labels && (aligned || targetA.task == ExplainTask::Classify)) {  // a sentence's label needs no token to match
    const std::string& label = a.config().id2label.at(targetA.index);
    for (const auto& [id, name] : b.config().id2label)
      if (name == label) index = id;
  }
  if (aligned) {
    position = targetA.position;
    if (targetA.task == ExplainTask::FillMask) index = targetA.index;
  } else if (request.offset >= 0) {  // the same word of the text: B's token starting where A's does
    for (size_t i = 0; i < encoding.size(); ++i)
      if (!encoding.tokens[i].special && encoding.tokens[i].sequence == 0 && encoding.tokens[i].start == request.offset) {
        position = int(i);
        break;
      }
  }
  auto reply = std::make_shared<SaliencyReply>();
  reply->target = resolve_target(b.model(), b.tokenizer(), encoding, request.task, position, index);
  reply->score = score_target(b.model(), encoding, reply->target);
  reply->saliency = bertscope::saliency(b.model(), encoding, reply->target, request.options);
  reply->method = request.options.method;
  reply->target_text = target_text(b, encoding, reply->target);
  reply->encoding = shown_encoding(b.tokenizer(), std::move(encoding));
  return reply;
}

}  // namespace bertscope::gui
