#include "model/torch_file.h"

#include <zip.h>

#include <cstring>

#include "core/error.h"
#include "model/pickle_reader.h"

namespace fs = std::filesystem;

namespace bertscope {

using torch_pickle::Kind;
using torch_pickle::ObjId;
using torch_pickle::Unpickler;

namespace {

// 0x1950a86a20f9469cfc6c, the legacy format's magic number, as pickle's LONG1 stores it (little-endian).
constexpr std::uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kLegacyProtocol = 1001;
// A tensor may repeat its storage's elements (stride 0, as torch's expand() makes); this bounds how far, so a
// hostile shape cannot make a read allocate terabytes.
constexpr std::uint64_t kMaxBroadcastElements = 1u << 24;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

struct TorchFile::Zip {
  zip_t* archive = nullptr;
  ~Zip() {
    if (archive) zip_discard(archive);  // opened read-only: nothing to write back
  }
};

TorchFile::TorchFile(const fs::path& path) : path_(path) {
  map_ = std::make_shared<MappedFile>(path);
  const std::uint8_t* d = map_->data();
  if (map_->size() >= 4 && std::memcmp(d, "PK\x03\x04", 4) == 0) {
    open_zip();
  } else if (map_->size() >= 2 && d[0] == 0x80) {  // a pickle's PROTO opcode: the legacy format
    open_legacy();
  } else {
    throw Error(path_.string() + ": not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)");
  }
}

TorchFile::~TorchFile() = default;

std::uint64_t TorchFile::file_size() const { return map_->size(); }

std::shared_ptr<const void> TorchFile::keep_alive() const { return map_; }

// ---- zip format ----

namespace {

std::string zip_message(zip_t* archive) { return zip_strerror(archive); }

// Reads one whole entry of `bytes` bytes, reading on to its end so that libzip checks its CRC.
std::vector<std::uint8_t> read_entry(zip_t* archive, zip_uint64_t index, std::uint64_t bytes, const std::string& where,
                                     const std::string& entry) {
  zip_file_t* f = zip_fopen_index(archive, index, 0);
  if (!f) throw Error(where + ": cannot read " + quoted(entry) + " from the archive (" + zip_message(archive) + ")");
  std::vector<std::uint8_t> data(bytes);
  std::uint64_t got = 0;
  zip_int64_t n = 1;
  while (got < bytes && (n = zip_fread(f, data.data() + got, bytes - got)) > 0) got += static_cast<std::uint64_t>(n);
  std::uint8_t extra = 0;
  if (n >= 0) n = zip_fread(f, &extra, 1);  // 0 at the end, after the CRC check passed
  const std::string error = n < 0 ? zip_file_strerror(f) : "";
  zip_fclose(f);
  if (!error.empty()) throw Error(where + ": cannot read " + quoted(entry) + " from the archive (" + error + ")");
  if (got != bytes || n != 0)
    throw Error(where + ": archive entry " + quoted(entry) + " is not the " + std::to_string(bytes) +
                " bytes its header says (corrupt archive)");
  return data;
}

zip_stat_t stat_entry(zip_t* archive, zip_uint64_t index, const std::string& where, const std::string& entry) {
  zip_stat_t st;
  zip_stat_init(&st);
  constexpr zip_uint64_t needed =
      ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
  if (zip_stat_index(archive, index, 0, &st) != 0 || (st.valid & needed) != needed)
    throw Error(where + ": cannot read the archive's directory entry for " + quoted(entry));
  if (st.encryption_method != ZIP_EM_NONE) throw Error(where + ": archive entry " + quoted(entry) + " is encrypted");
  return st;
}

// An entry's size is what reading it allocates: a stored one must be as large as its bytes in the file, and a
// compressed one (unusual: torch stores entries) can expand no further than deflate can (a zip bomb).
void check_entry_size(const zip_stat_t& st, std::uint64_t file_size, const std::string& where,
                      const std::string& entry) {
  const bool stored = st.comp_method == ZIP_CM_STORE;
  const bool plausible = st.comp_size <= file_size &&
                         (stored ? st.size == st.comp_size
                                 : st.size <= TorchFile::kMaxDeflateRatio * st.comp_size + 1024);
  if (!plausible)
    throw Error(where + ": archive entry " + quoted(entry) + " claims " + std::to_string(st.size) +
                " bytes, more than the file can hold (corrupt archive)");
}

}  // namespace

void TorchFile::open_zip() {
  const std::string where = path_.string();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(map_->data(), map_->size(), 0, &error);
  zip_t* archive = source ? zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (!archive) {
    if (source) zip_source_free(source);  // not taken over by a failed open
    const std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(where + ": not a readable zip archive (" + message + ")");
  }
  zip_error_fini(&error);
  zip_ = std::make_shared<Zip>();
  zip_->archive = archive;

  // torch.save names the top folder after the file (e.g. "pytorch_model/"); any name is fine, one is required.
  std::string prefix;
  bool torchscript = false;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* raw = zip_get_name(archive, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!raw) continue;
    const std::string name = raw;
    const std::size_t slash = name.find('/');
    if (slash == std::string::npos || slash == 0 || name.find('/', slash + 1) != std::string::npos) continue;
    const std::string file = name.substr(slash + 1);
    if (file == "constants.pkl") torchscript = true;
    if (file != "data.pkl") continue;
    if (!prefix.empty()) throw Error(where + ": zip archive has more than one data.pkl (not a torch.save checkpoint)");
    prefix = name.substr(0, slash);
  }
  if (torchscript)
    throw Error(where + ": a TorchScript archive (torch.jit.save); bertscope reads state dicts saved with torch.save");
  if (prefix.empty()) throw Error(where + ": zip archive without a data.pkl (not a PyTorch checkpoint)");

  const zip_int64_t order = zip_name_locate(archive, (prefix + "/byteorder").c_str(), ZIP_FL_ENC_RAW);
  if (order >= 0) {
    const std::string entry = prefix + "/byteorder";
    const zip_stat_t st = stat_entry(archive, static_cast<zip_uint64_t>(order), where, entry);
    check_entry_size(st, map_->size(), where, entry);
    if (st.size > 16) throw Error(where + ": " + entry + " is not \"little\" or \"big\"");
    const auto bytes = read_entry(archive, static_cast<zip_uint64_t>(order), st.size, where, entry);
    if (std::string(bytes.begin(), bytes.end()) != "little")
      throw Error(where + ": stored big-endian (" + entry + "); bertscope reads little-endian checkpoints");
  }

  const std::string pkl_name = prefix + "/data.pkl";
  const zip_int64_t pkl = zip_name_locate(archive, pkl_name.c_str(), ZIP_FL_ENC_RAW);
  const zip_stat_t pkl_stat = stat_entry(archive, static_cast<zip_uint64_t>(pkl), where, pkl_name);
  check_entry_size(pkl_stat, map_->size(), where, pkl_name);
  if (pkl_stat.size > kMaxPickleBytes)
    throw Error(where + ": data.pkl of " + std::to_string(pkl_stat.size) + " bytes is too large for a state dict");
  const std::vector<std::uint8_t> pickle = read_entry(archive, static_cast<zip_uint64_t>(pkl), pkl_stat.size, where,
                                                      pkl_name);
  Unpickler unpickler(where + " (data.pkl)", pickle);
  const ObjId root = unpickler.load();

  for (const auto& r : unpickler.roots()) {
    const std::string entry = prefix + "/data/" + r.key;
    const zip_int64_t index = zip_name_locate(archive, entry.c_str(), ZIP_FL_ENC_RAW);
    if (index < 0)
      throw Error(where + ": storage " + quoted(r.key) + " is missing from the archive (no " + entry + ")");
    const zip_stat_t st = stat_entry(archive, static_cast<zip_uint64_t>(index), where, entry);
    const std::uint64_t bytes = r.numel * dtype_size(r.dtype);  // numel is bounded: no overflow
    if (st.size != bytes)
      throw Error(where + ": storage " + quoted(r.key) + ": the pickle declares " + std::to_string(r.numel) + " " +
                  dtype_name(r.dtype) + " elements (" + std::to_string(bytes) + " bytes) but its record " + entry +
                  " holds " + std::to_string(st.size) + " bytes");
    check_entry_size(st, map_->size(), where, entry);
    storages_.push_back({r.dtype, r.numel, 0, index});
  }
  take_tensors(unpickler, root);
}

std::vector<std::uint8_t> TorchFile::read_zip_storage(const Storage& storage) const {
  const std::lock_guard lock(zip_mutex_);
  const auto index = static_cast<zip_uint64_t>(storage.zip_index);
  const char* name = zip_get_name(zip_->archive, index, ZIP_FL_ENC_RAW);
  return read_entry(zip_->archive, index, storage.numel * dtype_size(storage.dtype), path_.string(),
                    name ? name : "storage");
}

// ---- legacy format ----

void TorchFile::open_legacy() {
  const std::string where = path_.string();
  const std::span<const std::uint8_t> file(map_->data(), map_->size());
  Unpickler unpickler(where, file);

  const auto& magic = unpickler.object(unpickler.load());
  if (magic.kind != Kind::BigInt || magic.text != std::string(std::begin(kLegacyMagic), std::end(kLegacyMagic)))
    throw Error(where + ": not a PyTorch checkpoint (a pickle without torch.save's magic number)");
  const auto& version = unpickler.object(unpickler.load());
  if (version.kind != Kind::Int || version.number != kLegacyProtocol)
    throw Error(where + ": unsupported legacy torch.save protocol version (bertscope reads version 1001)");
  const auto& sys_info = unpickler.object(unpickler.load());
  if (sys_info.kind != Kind::Dict) throw Error(where + ": legacy header's sys_info is not a dict");
  for (std::size_t i = 0; i + 1 < sys_info.items.size(); i += 2) {
    const auto& key = unpickler.object(sys_info.items[i]);
    const auto& value = unpickler.object(sys_info.items[i + 1]);
    if (key.kind == Kind::Str && key.text == "little_endian" && value.kind == Kind::Bool && value.number == 0)
      throw Error(where + ": saved on a big-endian machine; bertscope reads little-endian checkpoints");
  }
  const ObjId root = unpickler.load();
  const auto& keys = unpickler.object(unpickler.load());
  if (keys.kind != Kind::List) throw Error(where + ": the legacy storage key list is not a list");

  // The records follow in the key list's order: an 8-byte little-endian element count, then the bytes.
  const auto& roots = unpickler.roots();
  storages_.resize(roots.size());
  std::vector<bool> seen(roots.size(), false);
  std::uint64_t pos = unpickler.position();
  for (ObjId key_id : keys.items) {
    const auto& key = unpickler.object(key_id);
    if (key.kind != Kind::Str) throw Error(where + ": a legacy storage key is not a string");
    const auto it = unpickler.root_index().find(key.text);
    if (it == unpickler.root_index().end())
      throw Error(where + ": lists storage " + quoted(key.text) + ", which no tensor in the pickle uses");
    if (seen[it->second]) throw Error(where + ": storage " + quoted(key.text) + " is listed twice");
    seen[it->second] = true;
    const auto& r = roots[it->second];
    if (map_->size() - pos < 8) throw Error(where + ": truncated: storage " + quoted(key.text) + " has no data");
    std::uint64_t count = 0;
    for (int b = 7; b >= 0; --b) count = (count << 8) | map_->data()[pos + static_cast<std::uint64_t>(b)];
    pos += 8;
    const std::uint64_t width = dtype_size(r.dtype);
    if (count > (map_->size() - pos) / width)  // checked before anything is allocated or read
      throw Error(where + ": storage " + quoted(key.text) + " of " + std::to_string(count) + " " +
                  dtype_name(r.dtype) + " elements runs past the end of the file (truncated or corrupt)");
    if (count != r.numel)
      throw Error(where + ": storage " + quoted(key.text) + ": the pickle declares " + std::to_string(r.numel) +
                  " elements but its record holds " + std::to_string(count));
    storages_[it->second] = {r.dtype, r.numel, pos, -1};
    pos += count * width;
  }
  for (std::size_t i = 0; i < roots.size(); ++i)
    if (!seen[i]) throw Error(where + ": storage " + quoted(roots[i].key) + " has no data in the file (truncated?)");
  take_tensors(unpickler, root);
}

// ---- tensors ----

// The top object must be a dict; its tensor values are the checkpoint's tensors (other values, rare, are ignored).
void TorchFile::take_tensors(const Unpickler& pickle, ObjId root) {
  const auto& dict = pickle.object(root);
  if (dict.kind != Kind::Dict)
    throw Error(path_.string() + ": holds a pickled object, not a state dict of tensors (save model.state_dict())");
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const auto& value = pickle.object(dict.items[i + 1]);
    if (value.kind != Kind::Tensor) continue;
    const auto& key = pickle.object(dict.items[i]);
    if (key.kind != Kind::Str) throw Error(path_.string() + ": a tensor's name in the state dict is not a string");
    const auto& record = pickle.tensors()[static_cast<std::size_t>(value.number)];
    const auto& view = pickle.views()[record.view];
    Entry entry{view.root, static_cast<std::uint64_t>(record.offset), record.size, record.stride};
    check_entry(key.text, entry, view.numel);
    entry.offset += view.offset;  // from here on relative to the whole storage
    StTensorInfo info;
    info.dtype = storages_[entry.storage].dtype;
    info.shape = entry.size;
    info.begin = entries_.size();
    entries_.push_back(std::move(entry));
    tensors_[key.text] = std::move(info);  // a name given twice: the later one, as Python's dict keeps
  }
}

// Every element the tensor's sizes and strides reach must lie inside the `available` elements of its storage.
void TorchFile::check_entry(const std::string& name, const Entry& entry, std::uint64_t available) const {
  const std::string tensor = path_.string() + ": tensor " + quoted(name);
  std::int64_t count = 0;
  try {
    count = element_count(entry.size);
  } catch (const Error&) {
    throw Error(tensor + ": shape " + shape_to_string(entry.size) + " is too large");
  }
  if (count == 0) return;  // touches no element
  std::uint64_t last = entry.offset;
  bool overflow = false;
  for (std::size_t i = 0; i < entry.size.size(); ++i) {
    std::uint64_t step = 0;
    overflow |= __builtin_mul_overflow(static_cast<std::uint64_t>(entry.size[i] - 1),
                                       static_cast<std::uint64_t>(entry.stride[i]), &step);
    overflow |= __builtin_add_overflow(last, step, &last);
  }
  if (overflow || last >= available)
    throw Error(tensor + ": shape " + shape_to_string(entry.size) + " with strides " + shape_to_string(entry.stride) +
                " from offset " + std::to_string(entry.offset) + " reaches past its storage of " +
                std::to_string(available) + " elements");
  if (static_cast<std::uint64_t>(count) > available && static_cast<std::uint64_t>(count) > kMaxBroadcastElements)
    throw Error(tensor + ": repeats the " + std::to_string(available) + " elements of its storage " +
                std::to_string(count) + " times over (too large to read)");
}

bool TorchFile::contiguous(const Entry& entry) const {
  std::int64_t expected = 1;
  for (std::size_t i = entry.size.size(); i-- > 0;) {
    if (entry.size[i] != 1 && entry.stride[i] != expected) return false;
    expected *= entry.size[i];
  }
  return true;
}

// Copies the tensor's elements, in row-major order, following its strides; each run along the last dimension at
// once where that dimension is contiguous.
void TorchFile::gather(const Entry& entry, const std::uint8_t* storage_bytes, float* out) const {
  const StDType dtype = storages_[entry.storage].dtype;
  const std::uint64_t width = dtype_size(dtype);
  const std::size_t dims = entry.size.size();
  if (element_count(entry.size) == 0) return;
  if (dims == 0) {
    convert_to_f32(dtype, storage_bytes + entry.offset * width, 1, out);
    return;
  }
  const auto inner = static_cast<std::size_t>(entry.size[dims - 1]);
  const auto inner_stride = static_cast<std::uint64_t>(entry.stride[dims - 1]);
  std::vector<std::int64_t> index(dims - 1, 0);
  for (;;) {
    std::uint64_t base = entry.offset;
    for (std::size_t d = 0; d + 1 < dims; ++d)
      base += static_cast<std::uint64_t>(index[d]) * static_cast<std::uint64_t>(entry.stride[d]);
    if (inner_stride == 1) {
      convert_to_f32(dtype, storage_bytes + base * width, inner, out);
    } else {
      for (std::size_t k = 0; k < inner; ++k)
        convert_to_f32(dtype, storage_bytes + (base + k * inner_stride) * width, 1, out + k);
    }
    out += inner;
    std::size_t d = dims - 1;  // next index, last outer dimension fastest
    while (d > 0 && ++index[d - 1] == entry.size[d - 1]) index[--d] = 0;
    if (d == 0) return;
  }
}

std::span<const float> TorchFile::read_f32(const std::string& name, std::vector<float>& converted) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path_.string() + ": no tensor " + quoted(name));
  const Entry& entry = entries_[it->second.begin];
  const Storage& storage = storages_[entry.storage];
  const auto count = static_cast<std::size_t>(element_count(entry.size));
  std::vector<std::uint8_t> zip_bytes;
  const std::uint8_t* bytes = nullptr;
  if (zip_) {
    zip_bytes = read_zip_storage(storage);
    bytes = zip_bytes.data();
  } else {
    bytes = map_->data() + storage.file_offset;
    const std::uint8_t* first = bytes + entry.offset * dtype_size(storage.dtype);
    const bool aligned = reinterpret_cast<std::uintptr_t>(first) % alignof(float) == 0;
    if (storage.dtype == StDType::F32 && contiguous(entry) && aligned)
      return {reinterpret_cast<const float*>(first), count};  // a view into the memory map
  }
  converted.resize(count);
  gather(entry, bytes, converted.data());
  return converted;
}

}  // namespace bertscope
