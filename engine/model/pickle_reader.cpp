#include "model/pickle_reader.h"

#include <cstring>

#include "core/error.h"

namespace bertscope::torch_pickle {

namespace {

// Opcodes of pickle protocols 2-5 that torch.save's pickles use (names as in Python's pickletools).
enum Op : std::uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BINFLOAT = 'G', BININT = 'J', BININT1 = 'K',
  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', APPENDS = 'e', BINGET = 'h',
  LONG_BINGET = 'j', LIST = 'l', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', SETITEMS = 'u',
  EMPTY_DICT = '}', EMPTY_LIST = ']', EMPTY_TUPLE = ')', PROTO = 0x80, TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
  STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "big int";
    case Kind::Float: return "float";
    case Kind::Str: return "string";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

// A name from the file, safe to print: printable ASCII only, and not too long.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 120) out += "...";
  return out;
}

const std::map<std::string, StDType>& storage_types() {
  static const std::map<std::string, StDType> types = {
      {"FloatStorage", StDType::F32}, {"HalfStorage", StDType::F16}, {"BFloat16Storage", StDType::BF16},
      {"DoubleStorage", StDType::F64}, {"LongStorage", StDType::I64}, {"IntStorage", StDType::I32},
      {"ShortStorage", StDType::I16}, {"CharStorage", StDType::I8},   {"ByteStorage", StDType::U8},
      {"BoolStorage", StDType::BOOL}};
  return types;
}

// Storage keys become zip entry names: keep them to what torch writes (decimal numbers) and a little more.
bool plain_key(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return false;
  return true;
}

}  // namespace

Unpickler::Unpickler(std::string where, std::span<const std::uint8_t> data, std::size_t start)
    : where_(std::move(where)), data_(data), pos_(start) {
  none_ = make({});
  true_ = make({.kind = Kind::Bool, .number = 1});
  false_ = make({.kind = Kind::Bool, .number = 0});
}

void Unpickler::fail(const std::string& what) const {
  throw Error(where_ + ": " + what + " (pickle opcode at byte " + std::to_string(op_start_) + ")");
}

void Unpickler::refuse_global(const std::string& module, const std::string& name) const {
  throw Error(where_ + ": refuses to load: the pickle calls " + printable(module + "." + name) +
              " (bertscope only loads tensors; this file may be malicious)");
}

std::uint8_t Unpickler::byte() {
  if (pos_ >= data_.size()) fail("truncated pickle: the data ends before the pickle's STOP");
  return data_[pos_++];
}

std::uint64_t Unpickler::little_endian(int bytes) {
  const std::string_view raw = take(static_cast<std::uint64_t>(bytes));
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
  return v;
}

std::string_view Unpickler::take(std::uint64_t bytes) {
  if (bytes > data_.size() - pos_) fail("truncated pickle: an opcode's data runs past the end");
  const std::string_view s(reinterpret_cast<const char*>(data_.data()) + pos_, static_cast<std::size_t>(bytes));
  pos_ += static_cast<std::size_t>(bytes);
  return s;
}

std::string Unpickler::line() {  // GLOBAL's module and name, each ended by '\n'
  std::string s;
  for (std::uint8_t c = byte(); c != '\n'; c = byte()) {
    if (s.size() >= 256) fail("a GLOBAL name longer than 256 bytes");
    s += static_cast<char>(c);
  }
  return s;
}

ObjId Unpickler::make(Object o) {
  if (objects_.size() >= kMaxObjects) fail("more than " + std::to_string(kMaxObjects) + " objects in the pickle");
  objects_.push_back(std::move(o));
  return static_cast<ObjId>(objects_.size() - 1);
}

ObjId Unpickler::make_int(std::int64_t v) { return make({.kind = Kind::Int, .number = v}); }

ObjId Unpickler::make_str(std::string_view s) {
  if (s.size() > kMaxString) fail("a string of " + std::to_string(s.size()) + " bytes");
  return make({.kind = Kind::Str, .text = std::string(s)});
}

void Unpickler::push(ObjId id) {
  if (stack_.size() >= kMaxStack) fail("the pickle's stack grows past " + std::to_string(kMaxStack) + " entries");
  stack_.push_back(id);
}

// Python keeps the items above the last MARK as the current stack: popping below the mark is an error.
ObjId Unpickler::pop() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
  const ObjId id = stack_.back();
  stack_.pop_back();
  return id;
}

ObjId Unpickler::top() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
  return stack_.back();
}

std::vector<ObjId> Unpickler::pop_mark() {
  if (marks_.empty()) fail("an opcode needs a MARK that is not there");
  const std::size_t base = marks_.back();
  marks_.pop_back();
  std::vector<ObjId> items(stack_.begin() + static_cast<std::ptrdiff_t>(base), stack_.end());
  stack_.resize(base);
  count_items(items.size());  // every container's entries pass through here or TUPLE1-3, SETITEM, APPEND
  return items;
}

void Unpickler::count_items(std::size_t n) {
  items_ += n;
  if (items_ > kMaxItems) fail("more than " + std::to_string(kMaxItems) + " entries in the pickle's containers");
}

ObjId Unpickler::load() {
  stack_.clear();
  marks_.clear();
  memo_.clear();  // every pickle starts with an empty memo
  for (;;) {
    op_start_ = pos_;
    if (!step(byte())) break;
  }
  return pop();
}

bool Unpickler::step(std::uint8_t op) {
  switch (op) {
    case PROTO:
      if (byte() > 5) fail("pickle protocol newer than 5");
      break;
    case FRAME: little_endian(8); break;  // framing only groups opcodes; their meaning is unchanged
    case STOP: return false;
    case MARK:
      if (marks_.size() >= kMaxMarks) fail("MARKs nested deeper than " + std::to_string(kMaxMarks));
      marks_.push_back(stack_.size());
      break;
    case POP:
      if (stack_.size() > (marks_.empty() ? 0 : marks_.back())) stack_.pop_back();
      else pop_mark();  // as Python: POP on an empty frame drops the mark
      break;
    case POP_MARK: pop_mark(); break;
    case DUP: push(top()); break;
    case NONE: push(none_); break;
    case NEWTRUE: push(true_); break;
    case NEWFALSE: push(false_); break;
    case BININT: push(make_int(static_cast<std::int32_t>(little_endian(4)))); break;
    case BININT1: push(make_int(byte())); break;
    case BININT2: push(make_int(static_cast<std::int64_t>(little_endian(2)))); break;
    case LONG1: op_long1(); break;
    case BINFLOAT: {
      const std::uint64_t bits = little_endian(8);
      std::uint64_t swapped = 0;  // BINFLOAT is big-endian
      for (int i = 0; i < 8; ++i) swapped |= ((bits >> (8 * i)) & 0xff) << (8 * (7 - i));
      double d;
      std::memcpy(&d, &swapped, 8);
      push(make({.kind = Kind::Float, .real = d}));
      break;
    }
    case SHORT_BINUNICODE: case SHORT_BINSTRING: push(make_str(take(byte()))); break;
    case BINUNICODE: case BINSTRING: {
      const std::uint64_t n = little_endian(4);
      if (n > kMaxString) fail("a string of " + std::to_string(n) + " bytes");
      push(make_str(take(n)));
      break;
    }
    case BINUNICODE8: {
      const std::uint64_t n = little_endian(8);
      if (n > kMaxString) fail("a string of " + std::to_string(n) + " bytes");
      push(make_str(take(n)));
      break;
    }
    case EMPTY_TUPLE: push(make({.kind = Kind::Tuple})); break;
    case EMPTY_LIST: push(make({.kind = Kind::List})); break;
    case EMPTY_DICT: push(make({.kind = Kind::Dict})); break;
    case TUPLE: push(make({.kind = Kind::Tuple, .items = pop_mark()})); break;
    case TUPLE1: case TUPLE2: case TUPLE3: {
      std::vector<ObjId> items(op - TUPLE1 + 1);
      count_items(items.size());
      for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
      push(make({.kind = Kind::Tuple, .items = std::move(items)}));
      break;
    }
    case LIST: push(make({.kind = Kind::List, .items = pop_mark()})); break;
    case DICT: {
      const std::vector<ObjId> items = pop_mark();
      const ObjId dict = make({.kind = Kind::Dict});
      set_items(dict, items);
      push(dict);
      break;
    }
    case SETITEM: {
      const ObjId value = pop(), key = pop();
      count_items(2);
      set_items(top(), {key, value});
      break;
    }
    case SETITEMS: {
      const std::vector<ObjId> items = pop_mark();
      set_items(top(), items);
      break;
    }
    case APPEND: {
      const ObjId value = pop();
      count_items(1);
      append_items(top(), {value});
      break;
    }
    case APPENDS: {
      const std::vector<ObjId> items = pop_mark();
      append_items(top(), items);
      break;
    }
    case BINPUT: op_memo_put(byte()); break;
    case LONG_BINPUT: op_memo_put(little_endian(4)); break;
    case MEMOIZE: op_memo_put(memo_.size()); break;
    case BINGET: op_memo_get(byte()); break;
    case LONG_BINGET: op_memo_get(little_endian(4)); break;
    case GLOBAL: {
      const std::string module = line();
      op_global(module, line());
      break;
    }
    case STACK_GLOBAL: {
      const ObjId name = pop(), module = pop();
      op_global(str_arg(module, "STACK_GLOBAL's module"), str_arg(name, "STACK_GLOBAL's name"));
      break;
    }
    case REDUCE: op_reduce(); break;
    case BUILD: op_build(); break;
    case BINPERSID: op_persistent_id(); break;
    default: {
      static const char* hex = "0123456789abcdef";
      fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15] +
           " (bertscope reads state dicts of tensors as torch.save writes them)");
    }
  }
  return true;
}

void Unpickler::op_long1() {
  const std::string_view raw = take(byte());
  if (raw.size() > 8) {  // only the legacy format's magic number is this long; kept as bytes
    push(make({.kind = Kind::BigInt, .text = std::string(raw)}));
    return;
  }
  std::uint64_t v = 0;
  for (std::size_t i = raw.size(); i-- > 0;) v = (v << 8) | static_cast<std::uint8_t>(raw[i]);
  if (!raw.empty() && raw.size() < 8 && (static_cast<std::uint8_t>(raw.back()) & 0x80))
    v |= ~std::uint64_t{0} << (8 * raw.size());  // sign-extend a negative number
  push(make_int(static_cast<std::int64_t>(v)));
}

void Unpickler::op_global(const std::string& module, const std::string& name) {
  Object g{.kind = Kind::Global};
  if (module == "collections" && name == "OrderedDict") {
    g.callable = Callable::OrderedDict;
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    g.callable = Callable::RebuildTensorV2;
  } else if (module == "torch._utils" && name == "_rebuild_parameter") {
    g.callable = Callable::RebuildParameter;
  } else if (module == "torch._utils" && name == "_rebuild_parameter_with_state") {
    g.callable = Callable::RebuildParameterWithState;
  } else if (module == "torch" && storage_types().count(name)) {
    g.callable = Callable::StorageType;
    g.dtype = storage_types().at(name);
    g.text = name;
  } else {
    refuse_global(module, name);
  }
  push(make(std::move(g)));
}

void Unpickler::op_reduce() {
  const ObjId args_id = pop(), callable_id = pop();
  const Object& callable = at(callable_id);
  if (callable.kind != Kind::Global) fail(std::string("REDUCE calls a ") + kind_name(callable.kind));
  if (at(args_id).kind != Kind::Tuple) fail("REDUCE's arguments are not a tuple");
  const std::vector<ObjId> args = at(args_id).items;  // a copy: make() below may move the arena
  switch (callable.callable) {
    case Callable::OrderedDict:
      if (!args.empty()) fail("OrderedDict called with arguments");
      push(make({.kind = Kind::Dict}));
      return;
    case Callable::RebuildTensorV2: push(rebuild_tensor(args)); return;
    case Callable::RebuildParameter: push(rebuild_parameter(args, 3)); return;
    case Callable::RebuildParameterWithState: push(rebuild_parameter(args, 4)); return;
    case Callable::StorageType: refuse_global("torch", callable.text);
  }
}

// BUILD sets an object's state. torch uses it on a state dict's OrderedDict for `_metadata` (module versions),
// which bertscope does not need: ignored. On anything else it would set attributes of an arbitrary object.
void Unpickler::op_build() {
  pop();  // the state
  const Kind target = at(top()).kind;
  if (target != Kind::Dict) fail(std::string("BUILD on a ") + kind_name(target) + " (not a plain state dict)");
}

void Unpickler::op_memo_put(std::uint64_t index) {
  if (memo_.size() >= kMaxMemo && !memo_.count(index)) fail("memo grows past " + std::to_string(kMaxMemo) + " entries");
  memo_[index] = top();
}

void Unpickler::op_memo_get(std::uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is read before it is written");
  push(it->second);
}

void Unpickler::set_items(ObjId dict, const std::vector<ObjId>& items) {
  if (at(dict).kind != Kind::Dict) fail(std::string("SETITEM(S) on a ") + kind_name(at(dict).kind));
  if (items.size() % 2) fail("SETITEMS with a key and no value");
  auto& target = objects_[dict].items;
  target.insert(target.end(), items.begin(), items.end());
}

void Unpickler::append_items(ObjId list, const std::vector<ObjId>& items) {
  if (at(list).kind != Kind::List) fail(std::string("APPEND(S) on a ") + kind_name(at(list).kind));
  auto& target = objects_[list].items;
  target.insert(target.end(), items.begin(), items.end());
}

std::int64_t Unpickler::int_arg(ObjId id, const char* what) const {
  const Object& o = at(id);
  if (o.kind != Kind::Int) fail(std::string(what) + " is a " + kind_name(o.kind) + ", not an int");
  if (o.number < 0) fail(std::string(what) + " is negative (" + std::to_string(o.number) + ")");
  return o.number;
}

std::vector<std::int64_t> Unpickler::int_tuple_arg(ObjId id, const char* what) const {
  const Object& o = at(id);
  if (o.kind != Kind::Tuple) fail(std::string(what) + " is a " + kind_name(o.kind) + ", not a tuple");
  if (o.items.size() > kMaxDims) fail(std::string(what) + " has " + std::to_string(o.items.size()) + " dimensions");
  std::vector<std::int64_t> v;
  for (ObjId item : o.items) v.push_back(int_arg(item, what));
  return v;
}

const std::string& Unpickler::str_arg(ObjId id, const char* what) const {
  const Object& o = at(id);
  if (o.kind != Kind::Str) fail(std::string(what) + " is a " + kind_name(o.kind) + ", not a string");
  return o.text;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
// Autograd flags, hooks and metadata do not matter for reading values and are ignored.
ObjId Unpickler::rebuild_tensor(const std::vector<ObjId>& args) {
  if (args.size() != 6 && args.size() != 7)
    fail("_rebuild_tensor_v2 called with " + std::to_string(args.size()) + " arguments");
  if (at(args[0]).kind != Kind::Storage) fail("_rebuild_tensor_v2's first argument is not a storage");
  if (tensors_.size() >= kMaxTensors) fail("more than " + std::to_string(kMaxTensors) + " tensors");
  TensorRecord t;
  t.view = static_cast<std::size_t>(at(args[0]).number);
  t.offset = int_arg(args[1], "storage offset");
  t.size = int_tuple_arg(args[2], "tensor size");
  t.stride = int_tuple_arg(args[3], "tensor stride");  // negative strides are refused here (as torch does)
  if (t.size.size() != t.stride.size())
    fail("tensor has " + std::to_string(t.size.size()) + " sizes but " + std::to_string(t.stride.size()) + " strides");
  tensors_.push_back(std::move(t));
  return make({.kind = Kind::Tensor, .number = static_cast<std::int64_t>(tensors_.size() - 1)});
}

// _rebuild_parameter(data, requires_grad, backward_hooks[, state]): a Parameter is its tensor for bertscope.
ObjId Unpickler::rebuild_parameter(const std::vector<ObjId>& args, std::size_t expected) {
  if (args.size() != expected) fail("_rebuild_parameter called with " + std::to_string(args.size()) + " arguments");
  if (at(args[0]).kind != Kind::Tensor) fail("_rebuild_parameter's data is not a tensor");
  return args[0];
}

// A persistent id ('storage', storage_type, key, location, numel[, view_metadata]) names a storage whose bytes are
// stored outside the pickle. Declared here, checked against its bytes by the caller.
void Unpickler::op_persistent_id() {
  const ObjId pid_id = pop();
  if (at(pid_id).kind != Kind::Tuple) fail("persistent id is not a tuple");
  const std::vector<ObjId> pid = at(pid_id).items;
  if (pid.empty() || at(pid[0]).kind != Kind::Str || at(pid[0]).text != "storage")
    fail("persistent id of an unknown kind (bertscope reads storages only)");
  if (pid.size() != 5 && pid.size() != 6) fail("storage persistent id with " + std::to_string(pid.size()) + " fields");
  const Object& type = at(pid[1]);
  if (type.kind != Kind::Global || type.callable != Callable::StorageType) fail("storage type is not a torch storage");
  const std::string& key = str_arg(pid[2], "storage key");
  if (!plain_key(key)) fail("storage key '" + printable(key) + "' is not a plain name");
  str_arg(pid[3], "storage location");  // "cpu", "cuda:0": bertscope reads every storage into host memory
  const std::uint64_t numel = static_cast<std::uint64_t>(int_arg(pid[4], "storage size"));
  if (numel > kMaxStorageElements) fail("storage '" + key + "' of " + std::to_string(numel) + " elements");

  auto [it, added] = root_index_.try_emplace(key, roots_.size());
  if (added) {
    if (roots_.size() >= kMaxTensors) fail("more than " + std::to_string(kMaxTensors) + " storages");
    roots_.push_back({key, type.dtype, numel});
  } else if (roots_[it->second].dtype != type.dtype || roots_[it->second].numel != numel) {
    fail("storage '" + key + "' is declared twice with different types or sizes");
  }
  StorageView view{it->second, 0, numel};
  if (pid.size() == 6 && at(pid[5]).kind != Kind::None) {  // (view_key, offset, size): a window, in elements
    const Object& meta = at(pid[5]);
    if (meta.kind != Kind::Tuple || meta.items.size() != 3) fail("storage view metadata is not (key, offset, size)");
    str_arg(meta.items[0], "storage view key");
    view.offset = static_cast<std::uint64_t>(int_arg(meta.items[1], "storage view offset"));
    view.numel = static_cast<std::uint64_t>(int_arg(meta.items[2], "storage view size"));
    if (view.offset > numel || view.numel > numel - view.offset)
      fail("storage view [" + std::to_string(view.offset) + ", +" + std::to_string(view.numel) +
           ") lies outside storage '" + key + "' of " + std::to_string(numel) + " elements");
  }
  if (views_.size() >= 4 * kMaxTensors) fail("too many storage references");
  views_.push_back(view);
  push(make({.kind = Kind::Storage, .number = static_cast<std::int64_t>(views_.size() - 1)}));
}

}  // namespace bertscope::torch_pickle
