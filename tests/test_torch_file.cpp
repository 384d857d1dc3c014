// pytorch_model.bin: bertscope reads what torch.save wrote (zip and legacy formats, shards) with the same values,
// dtypes and shapes PyTorch has, and refuses hostile files (pickles that call code, storages that do not match
// their tensors, huge sizes, truncation, garbage) with a clear Error, never a crash.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <zip.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "model/torch_file.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// ---- writing checkpoints by hand, byte by byte ----

std::string le(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// Pickle opcodes as torch.save's protocol-2 pickler writes them.
struct Pickle {
  std::string b = "\x80\x02";  // PROTO 2
  Pickle& raw(const std::string& s) { b += s; return *this; }
  Pickle& global(const std::string& module, const std::string& name) { return raw("c" + module + "\n" + name + "\n"); }
  Pickle& str(const std::string& s) { return raw("X" + le(s.size(), 4) + s); }
  Pickle& integer(std::int64_t v) {
    if (v >= 0 && v < 256) return raw("K" + le(static_cast<std::uint64_t>(v), 1));
    if (v >= INT32_MIN && v <= INT32_MAX) return raw("J" + le(static_cast<std::uint32_t>(v), 4));
    return raw("\x8a\x08" + le(static_cast<std::uint64_t>(v), 8));  // LONG1
  }
  Pickle& ints(const std::vector<std::int64_t>& v) {
    raw("(");
    for (auto x : v) integer(x);
    return raw("t");
  }
  std::string stop() const { return b + "."; }
};

struct TensorSpec {
  std::string name, key, storage_type;
  std::int64_t numel = 0;  // of the storage, as the persistent id declares it
  std::int64_t offset = 0;
  std::vector<std::int64_t> size, stride;
  std::vector<std::int64_t> view = {};  // legacy view_metadata (offset, size) into the storage, as old torch wrote
};

// A state dict pickle: OrderedDict of _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
std::string state_dict_pickle(const std::vector<TensorSpec>& tensors, bool legacy) {
  Pickle p;
  p.global("collections", "OrderedDict").raw(")R(");
  for (const auto& t : tensors) {
    p.str(t.name).global("torch._utils", "_rebuild_tensor_v2").raw("((");
    p.str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(t.numel);
    if (legacy && t.view.empty()) p.raw("N");  // the legacy format's view_metadata
    if (legacy && !t.view.empty()) p.raw("(").str("view_of_" + t.key).integer(t.view[0]).integer(t.view[1]).raw("t");
    p.raw("tQ").integer(t.offset).ints(t.size).ints(t.stride).raw("\x89");
    p.global("collections", "OrderedDict").raw(")Rt").raw("R");
  }
  return p.raw("u").stop();
}

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A zip archive of stored (uncompressed) entries, as torch.save writes them.
void write_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  fs::remove(path);
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  QVERIFY(z);
  for (const auto& [name, bytes] : entries) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    const zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    QVERIFY(index >= 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  QCOMPARE(zip_close(z), 0);  // the buffers above must live until here
}

std::string floats(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// The hand-made checkpoint: one F32 storage of 0..11 seen three ways (a 3x4 matrix, its transpose, a strided
// slice), and an F16 storage.
std::vector<TensorSpec> hand_tensors() {
  return {{"matrix", "0", "FloatStorage", 12, 0, {3, 4}, {4, 1}},
          {"transposed", "0", "FloatStorage", 12, 0, {4, 3}, {1, 4}},
          {"slice", "0", "FloatStorage", 12, 5, {2}, {2}},
          {"half", "1", "HalfStorage", 2, 0, {2}, {1}}};
}
std::map<std::string, std::string> hand_storages() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return {{"0", floats(v)}, {"1", le(0x3c00, 2) + le(0xc000, 2)}};  // F16 1.0, -2.0
}

void write_hand_zip(const fs::path& path, const std::vector<TensorSpec>& tensors,
                    const std::map<std::string, std::string>& storages, const std::string& top = "archive") {
  std::vector<std::pair<std::string, std::string>> entries = {{top + "/data.pkl", state_dict_pickle(tensors, false)}};
  for (const auto& [key, bytes] : storages) entries.push_back({top + "/data/" + key, bytes});
  entries.push_back({top + "/version", "3\n"});
  write_zip(path, entries);
}

std::string legacy_header() {
  const std::string magic = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
  Pickle sys_info;
  sys_info.raw("}(").str("protocol_version").integer(1001).str("little_endian").raw("\x88u");
  return Pickle().raw("\x8a\x0a" + magic).stop() + Pickle().integer(1001).stop() + sys_info.stop();
}

// A legacy file; `counts` overrides the element count written before a storage's bytes.
std::string legacy_bytes(const std::vector<TensorSpec>& tensors, const std::map<std::string, std::string>& storages,
                         const std::map<std::string, std::uint64_t>& counts = {}) {
  std::string out = legacy_header() + state_dict_pickle(tensors, true);
  Pickle keys;
  keys.raw("](");
  for (const auto& [key, bytes] : storages) keys.str(key);
  out += keys.raw("e").stop();
  for (const auto& [key, bytes] : storages) {
    std::uint64_t count = 0;
    for (const auto& t : tensors)
      if (t.key == key) count = static_cast<std::uint64_t>(t.numel);
    if (counts.count(key)) count = counts.at(key);
    out += le(count, 8) + bytes;
  }
  return out;
}

std::vector<float> read(const TensorFile& file, const std::string& name) {
  std::vector<float> converted;
  const auto values = file.read_f32(name, converted);
  return {values.begin(), values.end()};
}

// Opening `path` must throw an Error whose message contains every one of `words`.
void expect_refused(const fs::path& path, const std::vector<QString>& words) {
  try {
    TorchFile file(path);
    std::vector<float> buffer;
    for (const auto& [name, info] : file.tensors()) file.read_f32(name, buffer);
  } catch (const Error& e) {
    for (const auto& w : words)
      QVERIFY2(QString(e.what()).contains(w), qPrintable(QString("error '%1' does not mention '%2'").arg(e.what(), w)));
    return;
  }
  QFAIL(qPrintable(QString::fromStdString(path.string()) + " was read; expected an error about " + words.front()));
}

}  // namespace

class TestTorchFile : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path dir_;
  fs::path torch_bins_;  // what make_torch_bins.py wrote, or empty (skip_ says why)
  QString skip_;

  fs::path file(const std::string& name) const { return dir_ / name; }

  // Every tensor of `file` against expected.json: the same names, dtypes, shapes and (exactly) values.
  // With `partial` (a shard), tensors of expected.json that `f` lacks are skipped.
  void compare_with_torch(const TensorFile& f, bool partial = false) {
    std::ifstream in(torch_bins_ / "expected.json");
    const auto expected = nlohmann::json::parse(in);
    std::size_t compared = 0;
    for (const auto& [name, want] : expected.items()) {
      if (!f.contains(name)) {
        QVERIFY2(partial, qPrintable(QString::fromStdString("missing tensor " + name)));
        continue;
      }
      const StTensorInfo& info = f.tensors().at(name);
      QCOMPARE(QString(dtype_name(info.dtype)), QString::fromStdString(want["dtype"].get<std::string>()));
      QCOMPARE(info.shape, want["shape"].get<Shape>());
      const auto got = read(f, name);
      const auto values = want["values"].get<std::vector<double>>();
      QCOMPARE(got.size(), values.size());
      for (std::size_t i = 0; i < got.size(); ++i)
        QVERIFY2(got[i] == static_cast<float>(values[i]),
                 qPrintable(QString("%1[%2]: %3 vs torch's %4").arg(name.c_str()).arg(i).arg(got[i]).arg(values[i])));
      ++compared;
    }
    if (!partial) QCOMPARE(f.tensors().size(), compared);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path().toStdString();
    if (!fs::exists("/usr/bin/python3")) {
      skip_ = "no /usr/bin/python3 (Debian's python3-torch makes the PyTorch fixtures)";
      return;
    }
    QProcess check;
    check.start("/usr/bin/python3", {"-c", "import torch"});
    check.waitForFinished(120000);
    if (check.exitStatus() != QProcess::NormalExit || check.exitCode() != 0) {
      skip_ = "Debian's python3-torch is missing (scripts/install-deps.sh --tests installs it)";
      return;
    }
    torch_bins_ = dir_ / "torch_bins";
    QProcess make;
    make.setProcessChannelMode(QProcess::MergedChannels);
    make.start("/usr/bin/python3", {BERTSCOPE_TORCH_BINS_SCRIPT, QString::fromStdString(torch_bins_.string())});
    QVERIFY(make.waitForFinished(300000));
    QVERIFY2(make.exitCode() == 0, make.readAll().constData());
  }

  // ---- what PyTorch wrote ----

  void reads_torch_save_zip_format() {
    if (!skip_.isEmpty()) QSKIP(qPrintable(skip_));
    compare_with_torch(TorchFile(torch_bins_ / "zip" / "pytorch_model.bin"));
  }

  void reads_torch_save_legacy_format() {
    if (!skip_.isEmpty()) QSKIP(qPrintable(skip_));
    compare_with_torch(TorchFile(torch_bins_ / "legacy" / "pytorch_model.bin"));
  }

  // A Checkpoint over a folder with only pytorch_model.bin (or only its shards) reads the tensors.
  void checkpoint_reads_pytorch_model_bin() {
    if (!skip_.isEmpty()) QSKIP(qPrintable(skip_));
    for (const char* format : {"zip", "legacy", "sharded"}) {
      Checkpoint ckpt(torch_bins_ / format);
      QCOMPARE(ckpt.files().size(), std::size_t(std::string(format) == "sharded" ? 2 : 1));
      const auto all = ckpt.read_all();
      for (const auto& f : ckpt.files()) compare_with_torch(*f, /*partial=*/true);
      QCOMPARE(all.at("embeddings.word_embeddings.weight").values, all.at("cls.predictions.decoder.weight").values);
      QVERIFY(ckpt.dtype_summary().find("BF16") != std::string::npos);
    }
  }

  // model.safetensors wins over pytorch_model.bin in the same folder.
  void checkpoint_prefers_safetensors() {
    if (!skip_.isEmpty()) QSKIP(qPrintable(skip_));
    const fs::path folder = dir_ / "both";
    fs::create_directories(folder);
    fs::copy_file(torch_bins_ / "zip" / "pytorch_model.bin", folder / "pytorch_model.bin");
    const std::vector<float> one = {1.0f};
    write_safetensors(folder / "model.safetensors", {{"only", {1}, one}}, StDType::F32);
    Checkpoint ckpt(folder);
    QCOMPARE(ckpt.files().size(), std::size_t(1));
    QCOMPARE(ckpt.files()[0]->path().filename().string(), std::string("model.safetensors"));
    QVERIFY(ckpt.has("only"));
  }

  // ---- hand-made files (no Python needed) ----

  void reads_hand_made_zip_and_legacy() {
    write_hand_zip(file("hand.bin"), hand_tensors(), hand_storages(), "any_folder_name");
    write_file(file("hand_legacy.bin"), legacy_bytes(hand_tensors(), hand_storages()));
    for (const char* name : {"hand.bin", "hand_legacy.bin"}) {
      TorchFile f(file(name));
      QCOMPARE(f.tensors().size(), std::size_t(4));
      QCOMPARE(read(f, "matrix"), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
      QCOMPARE(read(f, "transposed"), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
      QCOMPARE(f.tensors().at("transposed").shape, (Shape{4, 3}));
      QCOMPARE(read(f, "slice"), (std::vector<float>{5, 7}));
      QCOMPARE(read(f, "half"), (std::vector<float>{1, -2}));
      QVERIFY(f.tensors().at("half").dtype == StDType::F16);
    }
  }

  // Old legacy files could hand a tensor a window of a storage (view_metadata): offsets add up, bounds hold.
  void reads_legacy_storage_views() {
    std::vector<TensorSpec> tensors = {{"window", "0", "FloatStorage", 12, 1, {2, 2}, {3, 1}, {4, 6}}};
    write_file(file("view.bin"), legacy_bytes(tensors, {{"0", hand_storages().at("0")}}));
    QCOMPARE(read(TorchFile(file("view.bin")), "window"), (std::vector<float>{5, 6, 8, 9}));
    tensors[0].offset = 2;  // element 2 + 3 + 1 = 6 of a window of 6
    write_file(file("view_past.bin"), legacy_bytes(tensors, {{"0", hand_storages().at("0")}}));
    expect_refused(file("view_past.bin"), {"reaches past its storage of 6"});
    tensors[0].view = {8, 6};
    write_file(file("view_outside.bin"), legacy_bytes(tensors, {{"0", hand_storages().at("0")}}));
    expect_refused(file("view_outside.bin"), {"lies outside storage '0'"});
  }

  void refuses_pickles_that_call_code() {
    // GLOBAL posix.system, then REDUCE with a shell command: what a malicious pytorch_model.bin does.
    const std::string posix = Pickle().global("posix", "system").raw("(").str("touch /tmp/pwned").raw("tR").stop();
    write_zip(file("posix.bin"), {{"archive/data.pkl", posix}});
    expect_refused(file("posix.bin"), {"refuses to load", "posix.system", "malicious"});
    const std::string os = Pickle().global("os", "system").raw("(").str("id").raw("tR").stop();
    write_file(file("os.bin"), legacy_header() + os);
    expect_refused(file("os.bin"), {"refuses to load", "os.system"});
    const std::string eval = Pickle().global("builtins", "eval").raw("(").str("1+1").raw("tR").stop();
    write_zip(file("eval.bin"), {{"archive/data.pkl", eval}});
    expect_refused(file("eval.bin"), {"refuses to load", "builtins.eval"});
    // The same through protocol 4's STACK_GLOBAL, and hidden inside a tensor's arguments.
    const std::string stack = Pickle().str("subprocess").str("Popen").raw("\x93").stop();
    write_zip(file("stack.bin"), {{"archive/data.pkl", stack}});
    expect_refused(file("stack.bin"), {"refuses to load", "subprocess.Popen"});
    const std::string load_bytes = Pickle().global("torch.storage", "_load_from_bytes").stop();
    write_zip(file("bytes.bin"), {{"archive/data.pkl", load_bytes}});
    expect_refused(file("bytes.bin"), {"torch.storage._load_from_bytes"});
    // Calling an allowed storage type directly, BUILD on something not a dict, an object-building opcode.
    const std::string call_storage = Pickle().global("torch", "FloatStorage").raw(")R").stop();
    write_zip(file("call_storage.bin"), {{"archive/data.pkl", call_storage}});
    expect_refused(file("call_storage.bin"), {"refuses to load", "torch.FloatStorage"});
    write_zip(file("build.bin"), {{"archive/data.pkl", Pickle().raw("]}b").stop()}});
    expect_refused(file("build.bin"), {"BUILD on a list"});
    const std::string newobj = Pickle().global("collections", "OrderedDict").raw(")\x81").stop();
    write_zip(file("newobj.bin"), {{"archive/data.pkl", newobj}});
    expect_refused(file("newobj.bin"), {"unsupported pickle opcode 0x81"});
  }

  void refuses_tensors_that_do_not_fit_their_storage() {
    auto tensors = hand_tensors();
    auto storages = hand_storages();
    // The pickle declares 100 floats; the record holds 12.
    auto larger = tensors;
    for (auto& t : larger)
      if (t.key == "0") t.numel = 100;
    write_hand_zip(file("larger.bin"), larger, storages);
    expect_refused(file("larger.bin"), {"storage '0'", "declares 100", "48 bytes"});
    write_file(file("larger_legacy.bin"), legacy_bytes(larger, storages, {{"0", 12}}));
    expect_refused(file("larger_legacy.bin"), {"storage '0'", "declares 100"});
    // A negative stride (CVE-2025-32434-style out-of-bounds views).
    auto negative = tensors;
    negative[0].stride = {4, -1};
    write_hand_zip(file("negative.bin"), negative, storages);
    expect_refused(file("negative.bin"), {"stride", "negative"});
    // Sizes and strides that reach past the storage, by a little and by overflowing 64 bits.
    auto past = tensors;
    past[2].offset = 11;  // elements 11 and 13 of 12
    write_hand_zip(file("past.bin"), past, storages);
    expect_refused(file("past.bin"), {"tensor 'slice'", "reaches past its storage of 12"});
    auto wrap = tensors;
    wrap[2].size = {2};
    wrap[2].stride = {INT64_MAX};
    write_hand_zip(file("wrap.bin"), wrap, storages);
    expect_refused(file("wrap.bin"), {"reaches past"});
    auto huge = tensors;
    huge[0].size = {INT64_MAX, 4};
    write_hand_zip(file("huge.bin"), huge, storages);
    expect_refused(file("huge.bin"), {"too large"});
    // A storage the pickle uses but the archive lacks; a storage type bertscope does not know.
    auto missing = storages;
    missing.erase("1");
    write_hand_zip(file("missing.bin"), tensors, missing);
    expect_refused(file("missing.bin"), {"storage '1' is missing"});
    auto complex = tensors;
    complex[3].storage_type = "ComplexFloatStorage";
    write_hand_zip(file("complex.bin"), complex, storages);
    expect_refused(file("complex.bin"), {"refuses to load", "torch.ComplexFloatStorage"});
    // A key that is not a plain name cannot reach another archive entry.
    auto sneaky = tensors;
    sneaky[3].key = "../data.pkl";
    write_hand_zip(file("sneaky.bin"), sneaky, storages);
    expect_refused(file("sneaky.bin"), {"not a plain name"});
  }

  // A legacy record claiming 10,000,000,000 elements is refused before anything is allocated.
  void refuses_a_ten_gigabyte_legacy_count() {
    auto tensors = hand_tensors();
    for (auto& t : tensors)
      if (t.key == "0") t.numel = 10'000'000'000;
    write_file(file("ten_gb.bin"), legacy_bytes(tensors, hand_storages()));
    expect_refused(file("ten_gb.bin"), {"10000000000", "past the end of the file"});
    // The pickle modest, only the record's count huge.
    write_file(file("ten_gb_record.bin"),
               legacy_bytes(hand_tensors(), hand_storages(), {{"0", 10'000'000'000ull}}));
    expect_refused(file("ten_gb_record.bin"), {"10000000000", "past the end of the file"});
    // A count that matches nothing else in the file.
    write_file(file("count.bin"), legacy_bytes(hand_tensors(), hand_storages(), {{"0", 11}}));
    expect_refused(file("count.bin"), {"declares 12", "holds 11"});
  }

  // Every truncation of a valid file, and every single flipped byte, ends in an Error or a good read: no crash.
  void truncated_and_damaged_files_give_errors() {
    write_hand_zip(file("whole.bin"), hand_tensors(), hand_storages());
    const std::string zip = read_file(file("whole.bin"));
    const std::string legacy = legacy_bytes(hand_tensors(), hand_storages());
    for (const auto& [name, bytes] : {std::pair{"cut_zip.bin", zip}, std::pair{"cut_legacy.bin", legacy}}) {
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        write_file(file(name), bytes.substr(0, n));
        bool refused = false;
        try {
          TorchFile f(file(name));
          std::vector<float> buffer;
          for (const auto& [t, info] : f.tensors()) f.read_f32(t, buffer);
        } catch (const Error&) {
          refused = true;
        }
        // A legacy file cut inside its last record, or after it, must not read; only the whole file reads.
        QVERIFY2(refused, qPrintable(QString("%1 cut to %2 of %3 bytes was read").arg(name).arg(n).arg(bytes.size())));
      }
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
        write_file(file(name), damaged);
        try {
          TorchFile f(file(name));
          std::vector<float> buffer;
          for (const auto& [t, info] : f.tensors()) f.read_f32(t, buffer);
        } catch (const Error&) {
        }
      }
    }
    write_file(file("truncated.bin"), legacy.substr(0, legacy.size() - 3));
    expect_refused(file("truncated.bin"), {"past the end of the file"});
    write_file(file("truncated_pickle.bin"), legacy.substr(0, 100));
    expect_refused(file("truncated_pickle.bin"), {"truncated"});
  }

  void refuses_archives_and_garbage_that_are_not_checkpoints() {
    write_zip(file("no_pkl.bin"), {{"archive/data/0", "abcd"}, {"archive/version", "3\n"}});
    expect_refused(file("no_pkl.bin"), {"data.pkl"});
    write_zip(file("script.bin"), {{"m/data.pkl", Pickle().raw("}").stop()}, {"m/constants.pkl", "x"}});
    expect_refused(file("script.bin"), {"TorchScript"});
    write_hand_zip(file("big_endian.bin"), hand_tensors(), hand_storages());
    {
      std::vector<std::pair<std::string, std::string>> entries = {
          {"archive/data.pkl", state_dict_pickle(hand_tensors(), false)}, {"archive/byteorder", "big"}};
      for (const auto& [key, bytes] : hand_storages()) entries.push_back({"archive/data/" + key, bytes});
      write_zip(file("big_endian.bin"), entries);
    }
    expect_refused(file("big_endian.bin"), {"big-endian"});
    write_zip(file("list.bin"), {{"archive/data.pkl", Pickle().raw("]").stop()}});
    expect_refused(file("list.bin"), {"not a state dict"});
    write_file(file("garbage.bin"), "this is not a checkpoint at all, just some text\n");
    expect_refused(file("garbage.bin"), {"not a PyTorch checkpoint"});
    write_file(file("empty.bin"), "");
    expect_refused(file("empty.bin"), {"not a PyTorch checkpoint"});
    write_file(file("zip_garbage.bin"), std::string("PK\x03\x04", 4) + std::string(200, '\x17'));
    expect_refused(file("zip_garbage.bin"), {"not a readable zip archive"});
    write_file(file("pickle_garbage.bin"), "\x80\x02\xff\xfe garbage");
    expect_refused(file("pickle_garbage.bin"), {"unsupported pickle opcode 0xff"});
    write_file(file("plain_pickle.bin"), Pickle().raw("}").stop());
    expect_refused(file("plain_pickle.bin"), {"magic number"});
    // Limits: memo reads before writes, marks nested without end, an endless stack.
    write_zip(file("memo.bin"), {{"archive/data.pkl", Pickle().raw("h\x07").stop()}});
    expect_refused(file("memo.bin"), {"memo entry 7"});
    write_zip(file("marks.bin"), {{"archive/data.pkl", Pickle().raw(std::string(100000, '(')).stop()}});
    expect_refused(file("marks.bin"), {"MARKs nested deeper"});
    write_zip(file("stack.bin"), {{"archive/data.pkl", Pickle().raw(std::string(200000, 'N')).stop()}});
    expect_refused(file("stack.bin"), {"stack grows past"});
    std::string many = "]";  // DUP fills the stack, APPENDS empties it into one list: over and over
    for (int i = 0; i < 140; ++i) many += "(N" + std::string(60000, '2') + "e";
    write_zip(file("items.bin"), {{"archive/data.pkl", Pickle().raw(many).stop()}});
    expect_refused(file("items.bin"), {"entries in the pickle's containers"});
    write_zip(file("string.bin"), {{"archive/data.pkl", Pickle().raw("X" + le(0xfffffff0u, 4)).stop()}});
    expect_refused(file("string.bin"), {"a string of"});
  }

  // The shard index of pytorch_model.bin keeps the safetensors index's rule: plain file names in the folder.
  void shard_index_names_must_be_plain() {
    const fs::path folder = dir_ / "bad_index";
    fs::create_directories(folder);
    write_file(folder / "pytorch_model.bin.index.json", R"({"weight_map": {"a": "../outside.bin"}})");
    QVERIFY_THROWS_EXCEPTION(Error, Checkpoint{folder});
    try {
      Checkpoint ckpt(folder);
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("plain file name"));
    }
    write_file(folder / "pytorch_model.bin.index.json", R"({"weight_map": {"a": "gone.bin"}})");
    try {
      Checkpoint ckpt(folder);
      QFAIL("a missing shard was accepted");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("missing from the folder"));
    }
    const fs::path none = dir_ / "no_weights";
    fs::create_directories(none);
    try {
      Checkpoint ckpt(none);
      QFAIL("a folder without weights was accepted");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("pytorch_model.bin"));
    }
  }
};

QTEST_GUILESS_MAIN(TestTorchFile)
#include "test_torch_file.moc"
