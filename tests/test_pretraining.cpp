// Pre-training pieces: the WordPiece vocabulary trainer, sequence packing, masked-token evaluation, and a run that
// is stopped and resumed ending exactly where an uninterrupted run ends.
#include <cmath>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "model/shrink.h"
#include "session.h"
#include "text/vocab_trainer.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "train/bert_trainer.h"
#include "train/mlm_eval.h"
#include "train/pretraining.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {
const char* kText[] = {
    "The cat sat on the mat, and the dog slept by the door.",
    "Cats and dogs are friendly animals; the cat likes fish and the dog likes bones.",
    "A small boat sailed across the quiet lake while the sun was setting.",
    "The children played in the garden until their mother called them home for dinner.",
    "Sailing boats need wind, and quiet lakes rarely have enough of it.",
    "Résumé writing is a skill: naïve applicants forget the café where they worked.",
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> corpus_lines(int repeat) {
  std::vector<std::string> lines;
  for (int r = 0; r < repeat; ++r)
    for (const char* t : kText) lines.push_back(t);
  return lines;
}
}  // namespace

class TestPretraining : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path root() const { return dir_.path().toStdString(); }

  static PretrainOptions tinyRun(int steps) {
    PretrainOptions o;
    o.layers = 1;
    o.hidden = 32;
    o.heads = 2;
    o.intermediate = 64;
    o.max_positions = 32;
    o.seq_len = 32;
    o.batch_size = 4;
    o.total_steps = steps;
    o.warmup_steps = 3;
    o.learning_rate = 1e-3f;
    o.checkpoint_every = 100;
    o.log_every = 4;
    return o;
  }

  fs::path writeCorpus(const std::string& name = "corpus.txt", int repeat = 30) {
    const fs::path corpus = root() / name;
    std::ofstream out(corpus);
    for (const auto& l : corpus_lines(repeat)) out << l << "\n";
    return corpus;
  }

  static std::vector<float> tensorOf(const fs::path& model_folder, const std::string& name) {
    SafetensorsFile file(model_folder / "model.safetensors");
    std::vector<float> buffer;
    const auto values = file.read_f32(name, buffer);
    return {values.begin(), values.end()};
  }

  // Fill-mask top-5 of `model` in bertscope and in Hugging Face (hf-oracle: the folder re-exported by make_model.py
  // --from_dir, transformers.js's pipeline): the same tokens with the same scores. `skipped` gets why it could not
  // ask Hugging Face (hf-oracle missing); it stays empty when it compared.
  void compareFillMaskWithHuggingFace(const fs::path& model, const std::vector<std::string>& texts, const fs::path& work,
                                      QString* skipped) {
    std::vector<nlohmann::json> inputs;
    for (const auto& x : texts) inputs.push_back({{"text", x}, {"top_k", 5}});
    QString why;
    const auto hf = test::ask_hugging_face(model, "fill-mask", inputs, work, &why);
    if (hf.empty()) {
      *skipped = why.isEmpty() ? QString("Hugging Face gave no answer") : why;
      return;
    }
    Session session(model, {BackendKind::Cpu});
    for (size_t i = 0; i < texts.size(); ++i) {
      const FillMaskResult ours = fill_mask(session.model(), session.tokenizer(), texts[i], 5);
      for (size_t k = 0; k < 5; ++k) {
        const auto& theirs = hf[i][k];
        const MaskPrediction& mine = ours.predictions[0][k];
        QVERIFY2(std::fabs(mine.score - theirs["score"].get<double>()) < 1e-4, qPrintable(QString::fromStdString(texts[i])));
        if (mine.token != theirs["token"].get<int>()) {  // only a tie may order differently
          QVERIFY2(std::fabs(mine.score - ours.predictions[0][std::min<size_t>(k + 1, 4)].score) < 1e-6,
                   qPrintable(QString("%1: rank %2 is %3, Hugging Face says %4").arg(QString::fromStdString(texts[i])).arg(k)
                                  .arg(QString::fromStdString(mine.token_str)).arg(QString::fromStdString(theirs["token_str"].get<std::string>()))));
        }
      }
    }
  }

  fs::path trainVocab() {
    VocabTrainerOptions o;
    o.vocab_size = 120;
    o.min_frequency = 2;
    WordPieceTrainer trainer(o);
    for (const auto& line : corpus_lines(3)) trainer.add_text(line);
    const fs::path path = root() / "vocab.txt";
    write_vocab(path, trainer.train());
    return path;
  }

 private slots:
  void vocabularyWorksWithTheTokenizer() {
    VocabTrainerOptions o;
    o.vocab_size = 120;
    WordPieceTrainer a(o), b(o);
    for (const auto& line : corpus_lines(3)) a.add_text(line), b.add_text(line);
    const auto vocab = a.train();
    QCOMPARE(vocab, b.train());  // deterministic
    QVERIFY(vocab.size() <= 120);
    QCOMPARE(vocab[0], std::string("[PAD]"));
    QCOMPARE(vocab[4], std::string("[MASK]"));
    QVERIFY(std::count_if(vocab.begin(), vocab.end(), [](const std::string& t) { return t.rfind("##", 0) == 0; }) > 10);
    QVERIFY(std::find(vocab.begin(), vocab.end(), "the") != vocab.end());  // a frequent word is whole
    // The tokenizer uses it unchanged: every word of the corpus has pieces, none becomes [UNK]; accents are stripped.
    trainVocab();
    std::ofstream(root() / "config.json") << "{}";
    WordPieceTokenizer tok = WordPieceTokenizer::load(root(), 512);
    for (const auto& line : corpus_lines(1))
      for (const Token& t : tok.tokenize(line)) QVERIFY2(!t.unknown, qPrintable(QString::fromStdString(line)));
    QCOMPARE(tok.decode(tok.encode("Résumé, the cat.").ids()), std::string("resume, the cat."));
  }

  void packingAndEvaluation() {
    trainVocab();
    WordPieceTokenizer tok = WordPieceTokenizer::load(root(), 512);
    const auto seqs = pack_sequences(tok, corpus_lines(4), 16);
    QVERIFY(seqs.size() > 10);
    for (const auto& s : seqs) {
      QVERIFY(s.size() <= 16 && s.size() >= 3);
      QCOMPARE(s.front(), tok.cls_id());
      QCOMPARE(s.back(), tok.sep_id());
    }
    // A "model" with flat logits: its answers are arbitrary, but which tokens are masked is fixed by the seed.
    auto recorder = [&](const TokenBatch&, const std::vector<std::int32_t>& rows) {
      return std::vector<float>(rows.size() * tok.vocab_size(), 0.0f);
    };
    const MlmEvalResult flat = evaluate_mlm(recorder, tok, corpus_lines(4), 16, 3);
    QVERIFY(flat.masked > 10);
    QVERIFY(flat.baseline_top5 >= flat.baseline_top1);
    // Flat logits give every token 1/V: the loss is log V exactly.
    QVERIFY(std::abs(flat.loss - std::log(static_cast<double>(tok.vocab_size()))) < 1e-9);
    const MlmEvalResult again = evaluate_mlm(recorder, tok, corpus_lines(4), 16, 3);
    QCOMPARE(again.masked, flat.masked);  // fixed seed: the same positions
  }

  void resumedRunEqualsUninterruptedRun() {
    const fs::path vocab = trainVocab();
    const fs::path corpus = writeCorpus();
    const PretrainOptions o = tinyRun(12);
    CpuBackend cpu;
    QCOMPARE(pretrain(root() / "whole", corpus, vocab, {}, cpu, o), 12);
    int polled = 0;
    PretrainCallbacks stop_early;
    stop_early.stop = [&] { return ++polled > 5; };  // stops after 5 steps, like a session ending
    QCOMPARE(pretrain(root() / "split", corpus, vocab, {}, cpu, o, stop_early), 5);
    PretrainOptions pause = o;
    pause.pause_at_step = 8;  // the other way to stop early: at a given step
    QCOMPARE(pretrain(root() / "split", corpus, vocab, {}, cpu, pause), 8);
    PretrainOptions other = o;  // a resumed run keeps its own settings, whatever is asked this time
    other.seq_len = 16;
    other.batch_size = 2;
    other.learning_rate = 1.0f;
    other.total_steps = 0;
    QCOMPARE(pretrain(root() / "split", corpus, vocab, {}, cpu, other), 12);
    SafetensorsFile whole(root() / "whole" / "checkpoint" / "model.safetensors");
    SafetensorsFile split(root() / "split" / "checkpoint" / "model.safetensors");
    int compared = 0;
    for (const auto& [name, info] : whole.tensors()) {
      std::vector<float> a, b;
      auto x = whole.read_f32(name, a);
      auto y = split.read_f32(name, b);
      QVERIFY2(std::equal(x.begin(), x.end(), y.begin(), y.end()), qPrintable(QString::fromStdString(name)));
      ++compared;
    }
    QVERIFY(compared > 10);
    QVERIFY(fs::exists(root() / "split" / "curve.csv"));
    // The checkpoint is a Hugging Face folder bertscope opens as a masked-LM model.
    Session session(root() / "split" / "checkpoint", {BackendKind::Cpu});
    QVERIFY(session.model().has_mlm_head());
  }

  void secondPhaseStartsFromTheGivenModel() {
    const fs::path vocab = trainVocab();
    const fs::path corpus = writeCorpus();
    CpuBackend cpu;
    QCOMPARE(pretrain(root() / "phase1", corpus, vocab, {}, cpu, tinyRun(6)), 6);
    const fs::path phase1 = root() / "phase1" / "checkpoint";
    PretrainOptions second = tinyRun(0);
    second.layers = 3;  // ignored: the architecture is the starting model's
    second.dropout = 0;
    second.init_from = phase1.string();
    QCOMPARE(pretrain(root() / "phase2", corpus, {}, {}, cpu, second), 0);
    const std::string name = "bert.encoder.layer.0.attention.self.query.weight";
    QCOMPARE(tensorOf(root() / "phase2" / "checkpoint", name), tensorOf(phase1, name));
    {  // a fresh optimizer: phase 1's moments are not carried over
      SafetensorsFile moments(root() / "phase2" / "checkpoint" / "optimizer.safetensors");
      std::vector<float> buffer;
      const auto m = moments.read_f32("m." + name, buffer);
      QVERIFY(std::all_of(m.begin(), m.end(), [](float x) { return x == 0.0f; }));
    }
    second.total_steps = 4;  // extends phase 2: it trains on from the copied weights
    QCOMPARE(pretrain(root() / "phase2", corpus, {}, {}, cpu, second), 4);
    QVERIFY(tensorOf(root() / "phase2" / "checkpoint", name) != tensorOf(phase1, name));
    std::ifstream options(root() / "phase2" / "options.json");
    const std::string recorded((std::istreambuf_iterator<char>(options)), std::istreambuf_iterator<char>());
    QVERIFY(recorded.find("\"layers\": 1") != std::string::npos);
    QVERIFY(recorded.find(phase1.string()) != std::string::npos);
    // Neither a vocabulary nor a model to start from: a clear error, no half-made run.
    QVERIFY_THROWS_EXCEPTION(Error, pretrain(root() / "nothing", corpus, {}, {}, cpu, tinyRun(2)));
    QVERIFY(!fs::exists(root() / "nothing" / "checkpoint"));
  }

  void sinusoidalPositionsStartAsSinesAndCosines() {
    RandomModelSpec spec;
    spec.vocab_file = trainVocab();
    spec.layers = 1;
    spec.hidden = 32;
    spec.heads = 2;
    spec.intermediate = 64;
    spec.max_positions = 16;
    spec.sinusoidal_positions = true;
    write_random_model(root() / "sinusoidal", spec);
    const auto table = tensorOf(root() / "sinusoidal", "bert.embeddings.position_embeddings.weight");  // [16, 32]
    QCOMPARE(table.size(), size_t(16 * 32));
    const double scale = 0.02 * std::sqrt(2.0);
    for (int p : {0, 1, 7, 15}) {
      QVERIFY(std::fabs(table[p * 32 + 0] - scale * std::sin(p)) < 1e-7);            // column 0: sin(p)
      QVERIFY(std::fabs(table[p * 32 + 1] - scale * std::cos(p)) < 1e-7);            // column 1: cos(p)
      QVERIFY(std::fabs(table[p * 32 + 30] - scale * std::sin(p / std::pow(10000.0, 30.0 / 32))) < 1e-7);
      double squares = 0;
      for (int i = 0; i < 32; ++i) squares += double(table[p * 32 + i]) * table[p * 32 + i];
      QVERIFY(std::fabs(std::sqrt(squares / 32) - 0.02) < 1e-6);  // the size of an N(0, 0.02) row
    }
    // The word embeddings stay random.
    const auto words = tensorOf(root() / "sinusoidal", "bert.embeddings.word_embeddings.weight");
    QVERIFY(words[0] != words[1]);
  }

  // shrink: the vocabulary keeps special tokens, characters and the most used pieces; feed-forward neurons that add
  // nothing are the ones dropped, so a model whose spare neurons are silent answers exactly as before.
  void shrinkKeepsTheUsedTokensAndTheStrongNeurons() {
    RandomModelSpec spec;
    spec.vocab_file = trainVocab();  // 120 tokens: specials, characters, pieces learned from the corpus
    spec.layers = 2;
    spec.hidden = 32;
    spec.heads = 2;
    spec.intermediate = 64;
    spec.max_positions = 32;
    spec.init_std = 0.2f;  // peaked predictions, so differences would show
    const fs::path original = root() / "shrink-original";
    write_random_model(original, spec);
    const fs::path corpus = writeCorpus();
    // Silence 48 of each layer's 64 feed-forward neurons (zero outgoing weights): they contribute nothing.
    {
      SafetensorsFile file(original / "model.safetensors");
      std::map<std::string, std::vector<float>> data;
      std::vector<StWriteTensor> tensors;
      for (const auto& [name, info] : file.tensors()) data[name] = tensorOf(original, name);
      for (int l = 0; l < 2; ++l) {
        auto& w_out = data["bert.encoder.layer." + std::to_string(l) + ".output.dense.weight"];  // [32, 64]
        for (int h = 0; h < 32; ++h)
          for (int j = 0; j < 64; ++j)
            if ((j + 5 * l) % 4 != 0) w_out[size_t(h) * 64 + j] = 0.0f;
      }
      for (const auto& [name, info] : file.tensors()) tensors.push_back({name, info.shape, data[name]});
      write_safetensors(root() / "silenced.safetensors", tensors, StDType::F32);
    }
    fs::rename(root() / "silenced.safetensors", original / "model.safetensors");

    ShrinkOptions neurons;
    neurons.intermediate = 16;
    const ShrinkReport r = shrink_model(original, root() / "shrink-ffn", neurons);
    QCOMPARE(r.intermediate_after, 16);
    QCOMPARE(r.vocab_after, r.vocab_before);
    QCOMPARE(tensorOf(root() / "shrink-ffn", "bert.encoder.layer.1.output.dense.weight").size(), size_t(32 * 16));
    Session before(original, {BackendKind::Cpu}), after(root() / "shrink-ffn", {BackendKind::Cpu});
    for (const char* text : {"the cat sat on the [MASK] .", "sailing [MASK] need wind ."}) {
      const auto a = fill_mask(before.model(), before.tokenizer(), text, 5), b = fill_mask(after.model(), after.tokenizer(), text, 5);
      for (size_t k = 0; k < 5; ++k) {
        QCOMPARE(b.predictions[0][k].token, a.predictions[0][k].token);
        QVERIFY(std::fabs(b.predictions[0][k].score - a.predictions[0][k].score) < 1e-5);
      }
    }

    ShrinkOptions words;
    words.vocab_size = 90;
    words.corpus = corpus;
    const ShrinkReport v = shrink_model(original, root() / "shrink-vocab", words);
    QCOMPARE(v.vocab_after, 90);
    QVERIFY(v.corpus_tokens_retokenized > 0 && v.corpus_tokens_retokenized < 0.5);
    const auto old_vocab = lines_of(spec.vocab_file), new_vocab = lines_of(root() / "shrink-vocab" / "vocab.txt");
    QCOMPARE(new_vocab.size(), size_t(90));
    QCOMPARE(std::vector<std::string>(new_vocab.begin(), new_vocab.begin() + 5), std::vector<std::string>(old_vocab.begin(), old_vocab.begin() + 5));
    QVERIFY(std::find(new_vocab.begin(), new_vocab.end(), "the") != new_vocab.end());  // the most used word stays
    // Each kept token keeps its embedding row and output bias.
    const auto old_rows = tensorOf(original, "bert.embeddings.word_embeddings.weight");
    const auto new_rows = tensorOf(root() / "shrink-vocab", "bert.embeddings.word_embeddings.weight");
    const auto old_bias = tensorOf(original, "cls.predictions.bias"), new_bias = tensorOf(root() / "shrink-vocab", "cls.predictions.bias");
    QCOMPARE(new_rows.size(), size_t(90 * 32));
    for (size_t i = 0; i < new_vocab.size(); ++i) {
      const size_t j = size_t(std::find(old_vocab.begin(), old_vocab.end(), new_vocab[i]) - old_vocab.begin());
      QVERIFY(std::equal(new_rows.begin() + i * 32, new_rows.begin() + (i + 1) * 32, old_rows.begin() + j * 32));
      QCOMPARE(new_bias[i], old_bias[j]);
    }
    // Every corpus word still tokenizes without [UNK].
    const Session small(root() / "shrink-vocab", {BackendKind::Cpu});
    for (const auto& line : corpus_lines(1))
      for (const Token& t : small.tokenizer().tokenize(line)) QVERIFY(!t.unknown);

    // Growing, too small a vocabulary or a missing corpus: an error, and nothing written.
    ShrinkOptions bigger;
    bigger.intermediate = 65;
    QVERIFY_THROWS_EXCEPTION(Error, shrink_model(original, root() / "shrink-bad", bigger));
    ShrinkOptions tiny = words;
    tiny.vocab_size = 10;
    QVERIFY_THROWS_EXCEPTION(Error, shrink_model(original, root() / "shrink-bad", tiny));
    ShrinkOptions no_corpus = words;
    no_corpus.corpus = root() / "missing.txt";
    QVERIFY_THROWS_EXCEPTION(Error, shrink_model(original, root() / "shrink-bad", no_corpus));
    QVERIFY(!fs::exists(root() / "shrink-bad"));
  }

  void exportedModelMatchesHuggingFace() {
    // A short run at a high learning rate (peaked predictions), exported as F16 like the default model. (With
    // bert-base's vocabulary: hf-oracle's ONNX export feeds ids up to 2023.)
    const fs::path vocab = std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt";
    const fs::path corpus = writeCorpus("hf-corpus.txt", 40);
    PretrainOptions o = tinyRun(60);
    o.layers = 2;
    o.max_positions = 64;
    o.batch_size = 8;
    o.warmup_steps = 5;
    o.learning_rate = 3e-3f;
    CpuBackend cpu;
    pretrain(root() / "for-hf", corpus, vocab, {}, cpu, o);
    TrainerOptions t;
    t.head = TrainHead::MaskedLM;
    BertTrainer(root() / "for-hf" / "checkpoint", cpu, t).save(root() / "for-hf-f16", StDType::F16);
    const std::vector<std::string> texts = {"the cat sat on the [MASK] .", "the [MASK] played in the garden .", "sailing boats need [MASK] ."};
    QString skipped;
    compareFillMaskWithHuggingFace(root() / "for-hf-f16", texts, root() / "hf-mlm", &skipped);
    if (!skipped.isEmpty()) QSKIP(qPrintable(skipped));
  }

  // The shipped default model (resources/default-model, F16) loads in Hugging Face with the same predictions.
  void shippedDefaultModelMatchesHuggingFace() {
    const fs::path model = std::string(BERTSCOPE_TEST_RESOURCES) + "/default-model";
    if (!fs::exists(model / "config.json")) QSKIP("resources/default-model is not there (no pre-trained default model shipped)");
    const std::string config((std::istreambuf_iterator<char>(std::ifstream(model / "config.json").rdbuf())), {});
    QVERIFY2(config.find("bertscope_untrained") == std::string::npos, "the shipped default model is labelled untrained");
    QVERIFY(fs::file_size(model / "model.safetensors") <= 10'000'000);  // small enough to ship in the repository
    QString skipped;
    compareFillMaskWithHuggingFace(model, {"the cat sat on the [MASK] .", "he [MASK] to the store yesterday .",
                                           "the president of the united [MASK] spoke .", "whales [MASK] in the ocean ."},
                                   root() / "hf-default", &skipped);
    if (!skipped.isEmpty()) QSKIP(qPrintable(skipped));
  }
};

QTEST_GUILESS_MAIN(TestPretraining)
#include "test_pretraining.moc"
