#pragma once
// TorchUnpickler: reads the pickles torch.save writes (a state dict of tensors) without running any of them. Python's
// unpickler calls whatever a pickle names, so a hostile pytorch_model.bin can run code; this one knows a fixed
// allow-list of names (OrderedDict, torch's tensor/parameter rebuilders, the typed storages), interprets them itself,
// and refuses everything else. Every read is checked against the end of the data, and the objects, memo, stack,
// strings and tensors it builds are bounded, so hostile input ends in an Error, never a crash or a huge allocation.
//
// Objects live in one arena and refer to each other by index, so a pickle that makes a list contain itself costs
// nothing special (no reference cycles to leak, and nothing here walks a structure recursively).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/tensor_file.h"

namespace bertscope::torch_pickle {

using ObjId = std::uint32_t;

enum class Kind : std::uint8_t { None, Bool, Int, BigInt, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };

// The only names a pickle may refer to.
enum class Callable : std::uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, RebuildParameterWithState,
                                     StorageType };

struct Object {
  Kind kind = Kind::None;
  Callable callable = Callable::OrderedDict;  // Global
  StDType dtype = StDType::F32;               // Global of a StorageType
  std::int64_t number = 0;                    // Bool (0 or 1), Int; Storage: index into views(); Tensor: into tensors()
  double real = 0;                            // Float
  std::string text;                           // Str (UTF-8 as stored); BigInt: little-endian two's complement bytes
  std::vector<ObjId> items;                   // Tuple, List; Dict: key, value, key, value, ... (later keys win)
};

// A storage as the pickle declares it (its data comes later: a zip entry, or a record after the legacy pickles).
struct StorageRoot {
  std::string key;
  StDType dtype = StDType::F32;
  std::uint64_t numel = 0;  // elements, as the pickle says; checked against the record by the caller
};

// What a persistent id hands a tensor: a root storage, or (old legacy files) a window of one. In elements.
struct StorageView {
  std::size_t root = 0;
  std::uint64_t offset = 0;
  std::uint64_t numel = 0;
};

// A tensor as _rebuild_tensor_v2 describes it. Sizes and strides are non-negative here; whether they fit the
// storage is for the caller to check once the storage's real size is known.
struct TensorRecord {
  std::size_t view = 0;
  std::int64_t offset = 0;  // storage_offset, in elements of the view
  Shape size;
  std::vector<std::int64_t> stride;
};

class Unpickler {
 public:
  // `where` names the file in messages; `data` must outlive the unpickler.
  Unpickler(std::string where, std::span<const std::uint8_t> data, std::size_t start = 0);

  // Reads one pickle (up to its STOP) from the current position and returns its top object. Legacy files are
  // several pickles in a row: call again for the next one (each has its own memo, as in Python).
  ObjId load();
  std::size_t position() const { return pos_; }

  const Object& object(ObjId id) const { return objects_[id]; }
  const std::vector<StorageRoot>& roots() const { return roots_; }
  const std::vector<StorageView>& views() const { return views_; }
  const std::vector<TensorRecord>& tensors() const { return tensors_; }
  // Index into roots() by storage key.
  const std::map<std::string, std::size_t>& root_index() const { return root_index_; }

  // Limits (public for the tests' sake).
  static constexpr std::size_t kMaxObjects = 1u << 20;
  static constexpr std::size_t kMaxStack = 1u << 16;
  static constexpr std::size_t kMaxMarks = 256;
  static constexpr std::size_t kMaxMemo = 1u << 20;
  static constexpr std::size_t kMaxItems = 1u << 23;  // all tuples', lists' and dicts' entries together
  static constexpr std::size_t kMaxString = 1u << 20;
  static constexpr std::size_t kMaxTensors = 1u << 17;
  static constexpr std::size_t kMaxDims = 16;
  static constexpr std::uint64_t kMaxStorageElements = 1ull << 40;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void refuse_global(const std::string& module, const std::string& name) const;
  std::uint8_t byte();
  std::uint64_t little_endian(int bytes);
  std::string_view take(std::uint64_t bytes);
  std::string line();

  ObjId make(Object o);
  ObjId make_int(std::int64_t v);
  ObjId make_str(std::string_view s);
  void push(ObjId id);
  ObjId pop();
  ObjId top();
  std::vector<ObjId> pop_mark();
  void count_items(std::size_t n);
  const Object& at(ObjId id) const { return objects_[id]; }

  bool step(std::uint8_t op);  // false at STOP
  void op_long1();
  void op_global(const std::string& module, const std::string& name);
  void op_reduce();
  void op_build();
  void op_persistent_id();
  void op_memo_put(std::uint64_t index);
  void op_memo_get(std::uint64_t index);
  void set_items(ObjId dict, const std::vector<ObjId>& items);
  void append_items(ObjId list, const std::vector<ObjId>& items);

  ObjId rebuild_tensor(const std::vector<ObjId>& args);
  ObjId rebuild_parameter(const std::vector<ObjId>& args, std::size_t expected);
  std::int64_t int_arg(ObjId id, const char* what) const;
  std::vector<std::int64_t> int_tuple_arg(ObjId id, const char* what) const;
  const std::string& str_arg(ObjId id, const char* what) const;

  std::string where_;
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  std::size_t op_start_ = 0;
  std::vector<Object> objects_;
  std::vector<ObjId> stack_;
  std::vector<std::size_t> marks_;
  std::size_t items_ = 0;  // container entries so far (DUP then APPENDS could otherwise grow them without bound)
  std::map<std::uint64_t, ObjId> memo_;
  std::vector<StorageRoot> roots_;
  std::map<std::string, std::size_t> root_index_;
  std::vector<StorageView> views_;
  std::vector<TensorRecord> tensors_;
  ObjId none_ = 0, true_ = 0, false_ = 0;
};

}  // namespace bertscope::torch_pickle
