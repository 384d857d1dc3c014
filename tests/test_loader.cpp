// Model loading: Hugging Face naming variants, dtypes, shards, and every kind of broken file giving a clear error
// (file, tensor, expected vs actual) instead of a crash.
#include <QtTest>
#include <fstream>

#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/convert.h"
#include "model/random_model.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

void write_all(const fs::path& file, const std::map<std::string, LoadedTensor>& tensors,
               StDType dtype = StDType::F32) {
  std::vector<StWriteTensor> list;
  for (const auto& [name, t] : tensors) list.push_back({name, t.shape, t.values});
  write_safetensors(file, list, dtype);
}

std::vector<double> top_scores(const fs::path& folder) {
  Session s(folder, {BackendKind::Cpu});
  auto r = fill_mask(s.model(), s.tokenizer(), "the [MASK] of the", 5);
  std::vector<double> v;
  for (const auto& p : r.predictions[0]) v.push_back(p.score);
  return v;
}

void expect_error(const fs::path& folder, const QString& must_contain) {
  try {
    Session s(folder, {BackendKind::Cpu});
  } catch (const Error& e) {
    QVERIFY2(QString(e.what()).contains(must_contain),
             qPrintable(QString("error '%1' does not mention '%2'").arg(e.what(), must_contain)));
    return;
  }
  QFAIL(qPrintable("no error for a model that should fail: " + must_contain));
}

void corrupt(const fs::path& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

}  // namespace

class TestLoader : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path base_;  // a valid tiny model
  fs::path copy(const char* name) {
    fs::path dst = fs::path(tmp_.path().toStdString()) / name;
    fs::remove_all(dst);
    fs::copy(base_, dst);
    return dst;
  }

 private slots:
  void initTestCase() {
    RandomModelSpec spec = test::tiny_model_spec(tmp_);
    spec.intermediate = 24;
    spec.init_std = 0.5f;
    base_ = fs::path(tmp_.path().toStdString()) / "base";
    write_random_model(base_, spec);
  }

  void loads_a_valid_model() {
    Session s(base_, {BackendKind::Cpu});
    QCOMPARE(s.info().layers, 1);
    QVERIFY(s.model().has_mlm_head());
    QVERIFY(s.model().mlm_decoder_tied());
    QCOMPARE(top_scores(base_).size(), size_t(5));
  }

  // random-model --head token: a BertForTokenClassification folder (classifier, no pooler) that opens as one.
  void random_token_classifier_opens_as_one() {
    RandomModelSpec spec = test::tiny_model_spec(tmp_);
    spec.labels = {"O", "B-PER", "I-PER"};
    spec.token_classification = true;
    const fs::path folder = fs::path(tmp_.path().toStdString()) / "token";
    write_random_model(folder, spec);
    Session s(folder, {BackendKind::Cpu});
    QVERIFY(s.model().has_token_classifier());
    QVERIFY(!s.model().has_classifier() && !s.model().has_pooler() && !s.model().has_mlm_head());
    QCOMPARE(s.model().token_classifier().weight.shape(), (Shape{3, 16}));
    spec.labels.clear();
    QVERIFY_THROWS_EXCEPTION(Error, write_random_model(fs::path(tmp_.path().toStdString()) / "token2", spec));
  }

  void legacy_names_and_missing_prefix_give_the_same_model() {
    auto want = top_scores(base_);
    fs::path dir = copy("renamed");
    auto tensors = Checkpoint(dir).read_all();
    decltype(tensors) renamed;
    for (auto& [name, t] : tensors) {
      std::string n = name;
      if (n.rfind("bert.", 0) == 0) n = n.substr(5);  // no "bert." prefix
      auto swap = [&](const std::string& from, const std::string& to) {
        if (n.size() >= from.size() && n.compare(n.size() - from.size(), from.size(), from) == 0)
          n = n.substr(0, n.size() - from.size()) + to;
      };
      swap("LayerNorm.weight", "LayerNorm.gamma");
      swap("LayerNorm.bias", "LayerNorm.beta");
      renamed[n] = t;
    }
    // An explicit (untied) decoder equal to the embeddings must give the same predictions.
    renamed["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"];
    write_all(dir / "model.safetensors", renamed);
    QCOMPARE(top_scores(dir), want);
  }

  void f16_and_bf16_checkpoints_load() {
    auto want = top_scores(base_);
    fs::path dir = copy("half");
    write_all(dir / "model.safetensors", Checkpoint(base_).read_all(), StDType::F16);
    auto got = top_scores(dir);
    for (size_t i = 0; i < want.size(); ++i) QVERIFY(std::fabs(got[i] - want[i]) < 2e-3);
    // BF16: write by truncating F32 words by hand (the engine reads BF16 but does not write it).
    QCOMPARE(bf16_to_float(0x3f80), 1.0f);
    QCOMPARE(half_to_float(float_to_half(0.333f)), half_to_float(0x3554));
    QCOMPARE(half_to_float(float_to_half(-65504.0f)), -65504.0f);
  }

  void sharded_checkpoint_loads() {
    auto want = top_scores(base_);
    fs::path dir = copy("sharded");
    auto tensors = Checkpoint(dir).read_all();
    fs::remove(dir / "model.safetensors");
    decltype(tensors) first, second;
    nlohmann::json map = nlohmann::json::object();
    int i = 0;
    for (auto& [name, t] : tensors) {
      const bool one = (i++ % 2) == 0;
      (one ? first : second)[name] = t;
      map[name] = one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    write_all(dir / "model-00001-of-00002.safetensors", first);
    write_all(dir / "model-00002-of-00002.safetensors", second);
    std::ofstream(dir / "model.safetensors.index.json") << nlohmann::json{{"metadata", {}}, {"weight_map", map}}.dump();
    QCOMPARE(top_scores(dir), want);
    fs::remove(dir / "model-00002-of-00002.safetensors");
    expect_error(dir, "missing from the folder");
  }

  void convert_rewrites_every_tensor_in_another_dtype() {
    // In: F32, with a file that is not part of the model (a pre-training run keeps its optimizer state there).
    fs::path in = copy("to-convert");
    std::ofstream(in / "optimizer.safetensors") << "optimizer state";
    const fs::path out = fs::path(tmp_.path().toStdString()) / "converted";
    convert_model(in, out, StDType::F16);

    auto want = Checkpoint(base_).read_all(), got = Checkpoint(out).read_all();
    QCOMPARE(got.size(), want.size());
    for (const auto& [name, tensor] : want) {
      QVERIFY2(got.count(name), name.c_str());
      QVERIFY(got[name].shape == tensor.shape);
      for (size_t i = 0; i < tensor.values.size(); ++i)
        QCOMPARE(got[name].values[i], half_to_float(float_to_half(tensor.values[i])));
    }
    const SafetensorsFile written(out / "model.safetensors");
    for (const auto& [name, info] : written.tensors()) QVERIFY(info.dtype == StDType::F16);
    QVERIFY(fs::exists(out / "vocab.txt"));
    QVERIFY(!fs::exists(out / "optimizer.safetensors"));
    QCOMPARE(nlohmann::json::parse(std::ifstream(out / "config.json")),
             nlohmann::json::parse(std::ifstream(base_ / "config.json")));
    const auto scores = top_scores(base_), converted_scores = top_scores(out);
    for (size_t i = 0; i < scores.size(); ++i) QVERIFY(std::fabs(converted_scores[i] - scores[i]) < 2e-3);

    // A conversion that fails leaves the earlier output as it was.
    fs::remove(in / "model.safetensors");
    QVERIFY_THROWS_EXCEPTION(Error, convert_model(in, out, StDType::F32));
    QCOMPARE(Checkpoint(out).read_all().size(), want.size());
  }

  void missing_and_misshaped_tensors_are_named() {
    fs::path dir = copy("missing");
    auto tensors = Checkpoint(dir).read_all();
    tensors.erase("bert.encoder.layer.0.attention.self.key.weight");
    write_all(dir / "model.safetensors", tensors);
    expect_error(dir, "missing tensor 'bert.encoder.layer.0.attention.self.key.weight'");

    dir = copy("misshaped");
    tensors = Checkpoint(dir).read_all();
    tensors["bert.encoder.layer.0.intermediate.dense.weight"].shape = {24, 8};
    tensors["bert.encoder.layer.0.intermediate.dense.weight"].values.resize(24 * 8);
    write_all(dir / "model.safetensors", tensors);
    expect_error(dir, "has shape [24, 8], expected [24, 16]");
  }

  void broken_files_give_clear_errors() {
    fs::path dir = copy("broken");
    const fs::path file = dir / "model.safetensors";
    std::ifstream in(base_ / "model.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});

    corrupt(file, bytes.substr(0, bytes.size() - 100));
    expect_error(dir, "outside the file");  // truncated
    corrupt(file, bytes.substr(0, 5));
    expect_error(dir, "truncated safetensors file");
    std::string huge = bytes;
    huge[7] = '\x7f';  // header length of about 9e18
    corrupt(file, huge);
    expect_error(dir, "bad safetensors header length");
    std::string garbage = bytes;
    garbage[8] = '!';
    corrupt(file, garbage);
    expect_error(dir, "not valid JSON");
    std::string dtype = bytes;
    auto at = dtype.find("\"F32\"");
    dtype.replace(at, 5, "\"C64\"");
    corrupt(file, dtype);
    expect_error(dir, "unsupported dtype \"C64\"");
    std::string integers = bytes;  // I32 has F32's size, so only the type is wrong: weights must be floating point
    integers.replace(integers.find("\"F32\""), 5, "\"I32\"");
    corrupt(file, integers);
    expect_error(dir, "is I32; model weights must be floating point");
    fs::remove(file);
    expect_error(dir, "no model.safetensors");
    corrupt(dir / "pytorch_model.bin", "x");
    expect_error(dir, "pytorch_model.bin: not a PyTorch checkpoint");  // read now, and refused as garbage
  }

  // Pre-training heads (MLM + next sentence): the NSP probability equals softmax(W_nsp tanh(W_pool h_cls + b) + b).
  void next_sentence_head_computes_what_bert_defines() {
    fs::path dir = copy("pretraining");
    auto tensors = Checkpoint(dir).read_all();
    const int H = 16;
    std::vector<float> pool_w(H * H), nsp_w(2 * H);
    for (int i = 0; i < H * H; ++i) pool_w[i] = std::sin(0.37f * i);
    for (int i = 0; i < 2 * H; ++i) nsp_w[i] = std::cos(0.11f * i);
    tensors["bert.pooler.dense.weight"] = {{H, H}, pool_w};
    tensors["bert.pooler.dense.bias"] = {{H}, std::vector<float>(H, 0.1f)};
    tensors["cls.seq_relationship.weight"] = {{2, H}, nsp_w};
    tensors["cls.seq_relationship.bias"] = {{2}, {0.2f, -0.3f}};
    write_all(dir / "model.safetensors", tensors);
    Session s(dir, {BackendKind::Cpu});
    QVERIFY(s.model().has_nsp_head());
    auto r = next_sentence(s.model(), s.tokenizer(), "the man went to the store", "he bought a gallon of milk");
    EncoderOutput out = s.model().encode(single_batch(r.encoding));
    auto hidden = s.model().to_host(out.hidden);  // (T, H); row 0 is [CLS]
    double logits[2];
    std::vector<double> pooled(H);
    for (int o = 0; o < H; ++o) {
      double acc = 0.1;
      for (int i = 0; i < H; ++i) acc += pool_w[o * H + i] * hidden[i];
      pooled[o] = std::tanh(acc);
    }
    for (int c = 0; c < 2; ++c) {
      logits[c] = c == 0 ? 0.2 : -0.3;
      for (int i = 0; i < H; ++i) logits[c] += nsp_w[c * H + i] * pooled[i];
    }
    const double want = 1.0 / (1.0 + std::exp(logits[1] - logits[0]));
    QVERIFY2(std::fabs(r.is_next - want) < 1e-5, qPrintable(QString("%1 vs %2").arg(r.is_next).arg(want)));
    QVERIFY(s.model().has_mlm_head());
  }

  void bad_configs_are_explained() {
    fs::path dir = copy("config");
    corrupt(dir / "config.json", "{\"vocab_size\": 10");
    expect_error(dir, "not valid JSON");
    corrupt(dir / "config.json", "{\"vocab_size\": 2000, \"hidden_size\": 16, \"num_hidden_layers\": 1, "
                                 "\"num_attention_heads\": 3, \"intermediate_size\": 24}");
    expect_error(dir, "not a multiple of num_attention_heads");
    corrupt(dir / "config.json", "{\"hidden_size\": 16}");
    expect_error(dir, "missing field \"vocab_size\"");
    expect_error(fs::path(tmp_.path().toStdString()) / "does-not-exist", "not a folder");
    corrupt(dir / "config.json", "{\"model_type\": \"gpt2\", \"vocab_size\": 10}");
    expect_error(dir, "model_type \"gpt2\" is not one bertscope runs (it runs bert, distilbert, roberta)");
  }

  // Each family's config.json is read with its own field names and conventions.
  void families_read_their_own_config_fields() {
    const ModelConfig distil = ModelConfig::from_json(nlohmann::json::parse(R"({
        "model_type": "distilbert", "vocab_size": 100, "dim": 32, "n_layers": 3, "n_heads": 4, "hidden_dim": 64,
        "activation": "relu", "max_position_embeddings": 40, "pad_token_id": 0,
        "architectures": ["DistilBertForTokenClassification"]})"), "distil/config.json");
    QCOMPARE(distil.hidden_size, 32);
    QCOMPARE(distil.num_hidden_layers, 3);
    QCOMPARE(distil.num_attention_heads, 4);
    QCOMPARE(distil.intermediate_size, 64);
    QVERIFY(!distil.has_token_types());
    QCOMPARE(distil.activation(), Activation::Relu);
    QCOMPARE(distil.layer_norm_eps, 1e-12f);  // DistilBERT's LayerNorms have a fixed eps
    QCOMPARE(distil.max_tokens(), 40);
    QCOMPARE(distil.position_ids({5, 6, 0, 7, 0, 0}, 2, 3), (std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}));
    QCOMPARE(head_of_class(distil.architecture(), distil.architectures[0]), std::optional(HeadKind::TokenClassification));
    QCOMPARE(head_of_class(distil.architecture(), "BertForTokenClassification"), std::optional<HeadKind>());

    const ModelConfig roberta = ModelConfig::from_json(nlohmann::json::parse(R"({
        "model_type": "roberta", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 514, "type_vocab_size": 1,
        "layer_norm_eps": 1e-5, "pad_token_id": 1})"), "roberta/config.json");
    QCOMPARE(roberta.first_position(), 2);  // padding_idx + 1, as fairseq numbered them
    QCOMPARE(roberta.max_tokens(), 512);
    QCOMPARE(roberta.layer_norm_eps, 1e-5f);
    // Hugging Face's create_position_ids_from_input_ids: padding keeps padding_idx, real tokens count on from it.
    QCOMPARE(roberta.position_ids({0, 9, 2, 1, 1, 0, 9, 9, 9, 2}, 2, 5),
             (std::vector<std::int32_t>{2, 3, 4, 1, 1, 2, 3, 4, 5, 6}));
    QCOMPARE(class_name(roberta.architecture(), HeadKind::MaskedLM), std::string("RobertaForMaskedLM"));

    auto bad = [](const char* text, const char* must_contain) {
      try {
        ModelConfig::from_json(nlohmann::json::parse(text), "config.json");
        QFAIL("no error");
      } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(must_contain), e.what());
      }
    };
    bad(R"({"model_type": "distilbert", "vocab_size": 100, "dim": 30, "n_layers": 1, "n_heads": 4, "hidden_dim": 8})",
        "dim 30 is not a multiple of n_heads 4");
    bad(R"({"model_type": "distilbert", "vocab_size": 100, "dim": 32, "n_layers": 1, "n_heads": 4, "hidden_dim": 8,
            "activation": "gelu_new"})", "activation \"gelu_new\" is not supported");
    bad(R"({"model_type": "roberta", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 1,
            "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 4, "pad_token_id": 1})",
        "leaves no room for a sentence");
  }
};

QTEST_GUILESS_MAIN(TestLoader)
#include "test_loader.moc"
