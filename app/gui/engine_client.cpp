#include "engine_client.h"

#include <QMetaObject>
#include <new>

#include "core/error.h"
#include "hub_download.h"

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
  QMetaObject::invokeMethod(worker_, [this] { session_.reset(); }, Qt::QueuedConnection);
  thread_.quit();
  thread_.wait();
}

quint64 EngineClient::post(Job job, std::function<Delivery(std::unique_ptr<Session>&)> work) {
  const quint64 id = next_id_++;
  latest_[static_cast<int>(job)] = id;
  if (pending_++ == 0) emit busyChanged(true, job_name(job));
  QMetaObject::invokeMethod(worker_, [this, id, job, work = std::move(work)] {
    Delivery deliver;
    if (!closing_ && latest_[static_cast<int>(job)] == id) {  // skip work a newer request replaced
      try {
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

quint64 EngineClient::load(const QString& model, const BackendRequest& backend) {
  const std::string argument = model.toStdString();
  return post(Job::Load, [this, argument, backend](std::unique_ptr<Session>& session) -> Delivery {
    // Build the new session first: if it fails, the model in use stays loaded and usable.
    auto fresh = std::make_unique<Session>(resolveGuiModel(argument), backend);  // a Hub id: "org/name[@revision]"
    auto loaded = std::make_shared<LoadedModel>();
    loaded->info = fresh->info();
    loaded->mlm = fresh->model().has_mlm_head();
    loaded->nsp = fresh->model().has_nsp_head();
    loaded->classifier = fresh->model().has_classifier();
    loaded->qa = fresh->model().has_qa_head();
    loaded->token_classifier = fresh->model().has_token_classifier();
    if (loaded->token_classifier)
      for (int i = 0; i < fresh->model().num_token_labels(); ++i)
        loaded->token_labels << QString::fromStdString(fresh->config().id2label.at(i));
    // RoBERTa keeps a one-row type embedding: every token has type 0, so there is nothing to show.
    loaded->token_types = fresh->config().has_token_types() && fresh->config().type_vocab_size > 1;
    loaded->max_tokens = fresh->config().max_tokens();
    const Tokenizer& tokenizer = fresh->tokenizer();
    loaded->mask_token = QString::fromStdString(tokenizer.mask_token());
    loaded->cls_token = QString::fromStdString(tokenizer.token(tokenizer.cls_id()));
    loaded->sep_token = QString::fromStdString(tokenizer.token(tokenizer.sep_id()));
    loaded->backend = backend;
    loaded->on_gpu = fresh->backend().is_gpu();
    session = std::move(fresh);
    return [this, loaded](quint64 id) {
      model_ = loaded;
      emit this->loaded(id, loaded);
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
    ShownEncoding shown = shown_encoding(s.tokenizer(), std::move(reply->result.encoding));
    reply->result.encoding = std::move(shown.encoding);
    reply->continues = std::move(shown.continues);
    Ptr<FillMaskReply> result = reply;
    return [this, result](quint64 id) { emit filled(id, result); };
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
    auto result = std::make_shared<const AttentionResult>(std::move(attention));
    return [this, result](quint64 id) { emit attended(id, result); };
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
    auto result = std::make_shared<const QaResult>(std::move(answers));
    return [this, result](quint64 id) { emit answered(id, result); };
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
    Ptr<ClassifyReply> result = reply;
    return [this, result](quint64 id) { emit classified(id, result); };
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
    Ptr<EntitiesReply> result = reply;
    return [this, result](quint64 id) { emit entitiesFound(id, result); };
  });
}

}  // namespace bertscope::gui
