#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"

namespace bertscope {

// RAII read-only memory mapping of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw Error(path.string() + ": cannot stat");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw Error(path.string() + ": cannot memory-map (" + std::strerror(errno) + ")");
      }
      data_ = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const std::uint8_t* data() const { return data_; }
  std::uint64_t size() const { return size_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

const char* dtype_name(StDType t) {
  switch (t) {
    case StDType::F32: return "F32";
    case StDType::F16: return "F16";
    case StDType::BF16: return "BF16";
  }
  return "?";
}

namespace {

std::uint64_t dtype_size(StDType t) { return t == StDType::F32 ? 4 : 2; }

}  // namespace

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
  map_ = std::make_shared<MappedFile>(path);
  const std::string where = path.string();
  if (map_->size() < 8) throw Error(where + ": truncated safetensors file (" + std::to_string(map_->size()) + " bytes)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_->data()[i];  // little-endian u64
  if (header_len > map_->size() - 8 || header_len > (100u << 20))
    throw Error(where + ": bad safetensors header length " + std::to_string(header_len) + " for a file of " +
                std::to_string(map_->size()) + " bytes (truncated or not a safetensors file)");
  const nlohmann::json header = parse_json(
      std::string_view(reinterpret_cast<const char*>(map_->data()) + 8, header_len), where + ": safetensors header");
  if (!header.is_object()) throw Error(where + ": safetensors header is not a JSON object");
  data_ = map_->data() + 8 + header_len;
  const std::uint64_t data_size = map_->size() - 8 - header_len;

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (entry.is_object())
        for (const auto& [k, v] : entry.items()) metadata_[k] = v.is_string() ? v.get<std::string>() : describe_json(v);
      continue;
    }
    const std::string tensor = where + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw Error(tensor + ": header entry needs dtype, shape and data_offsets");
    StTensorInfo info{};
    const auto& dt = entry["dtype"];
    if (dt == "F32") info.dtype = StDType::F32;
    else if (dt == "F16") info.dtype = StDType::F16;
    else if (dt == "BF16") info.dtype = StDType::BF16;
    else throw Error(tensor + ": unsupported dtype " + describe_json(dt) + " (bertscope reads F32, F16 and BF16)");
    if (!entry["shape"].is_array()) throw Error(tensor + ": shape is not a list");
    constexpr std::uint64_t max_elements = 1ull << 40;
    std::uint64_t count = 1;
    if (entry["shape"].size() > 8) throw Error(tensor + ": shape has " + std::to_string(entry["shape"].size()) + " dimensions");
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > max_elements) throw Error(tensor + ": bad shape " + describe_json(d));
      const std::uint64_t n = d.get<std::uint64_t>();
      info.shape.push_back(static_cast<std::int64_t>(n));
      if (n != 0 && count > max_elements / n) throw Error(tensor + ": shape too large");  // checked before it can overflow
      count *= n;
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(tensor + ": data_offsets must be two non-negative integers");
    info.begin = off[0].get<std::uint64_t>();
    info.end = off[1].get<std::uint64_t>();
    if (info.begin > info.end || info.end > data_size)
      throw Error(tensor + ": data [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                  ") lies outside the file's " + std::to_string(data_size) + " data bytes (file truncated?)");
    if (info.end - info.begin != count * dtype_size(info.dtype))
      throw Error(tensor + ": " + std::to_string(info.end - info.begin) + " bytes of data but shape " +
                  shape_to_string(info.shape) + " of " + dtype_name(info.dtype) + " needs " +
                  std::to_string(count * dtype_size(info.dtype)));
    tensors_[name] = std::move(info);
  }
}

SafetensorsFile::~SafetensorsFile() = default;

std::uint64_t SafetensorsFile::file_size() const { return map_->size(); }

std::shared_ptr<const void> SafetensorsFile::keep_alive() const { return map_; }

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      std::uint32_t m = mant;
      do { ++e; m <<= 1; } while ((m & 0x400) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((m & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const int exp = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  std::uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (exp <= 0) {                                                    // subnormal or zero
    if (exp < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    std::uint32_t h = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;  // round to nearest even
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
  const std::uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // may carry into the exponent: still correct
  return static_cast<std::uint16_t>(sign | h);
}

float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::span<const float> SafetensorsFile::read_f32(const std::string& name, std::vector<float>& converted) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path_.string() + ": no tensor '" + name + "'");
  const StTensorInfo& info = it->second;
  const std::uint8_t* src = data_ + info.begin;
  const std::size_t count = static_cast<std::size_t>(element_count(info.shape));
  if (info.dtype == StDType::F32 && reinterpret_cast<std::uintptr_t>(src) % alignof(float) == 0)
    return {reinterpret_cast<const float*>(src), count};
  converted.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (info.dtype == StDType::F32) {
      std::memcpy(&converted[i], src + 4 * i, 4);
    } else {
      std::uint16_t v;
      std::memcpy(&v, src + 2 * i, 2);
      converted[i] = info.dtype == StDType::F16 ? half_to_float(v) : bf16_to_float(v);
    }
  }
  return converted;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<StWriteTensor>& tensors, StDType dtype,
                       const std::map<std::string, std::string>& metadata) {
  if (dtype == StDType::BF16) throw Error("writing BF16 safetensors is not supported");
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<const StWriteTensor*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::uint64_t offset = 0;
  for (const auto* t : sorted) {
    const std::uint64_t bytes = t->data.size() * dtype_size(dtype);
    header[t->name] = {{"dtype", dtype_name(dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string() + ": cannot write");
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(h.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto* t : sorted) {
      if (dtype == StDType::F32) {
        out.write(reinterpret_cast<const char*>(t->data.data()), static_cast<std::streamsize>(t->data.size() * 4));
      } else {
        std::vector<std::uint16_t> half(t->data.size());
        for (size_t i = 0; i < half.size(); ++i) half[i] = float_to_half(t->data[i]);
        out.write(reinterpret_cast<const char*>(half.data()), static_cast<std::streamsize>(half.size() * 2));
      }
    }
    out.close();
    if (!out) {
      std::filesystem::remove(tmp);  // ours, half-written
      throw Error(path.string() + ": write failed (disk full?)");
    }
  }
  sync_to_disk(tmp);
  std::filesystem::rename(tmp, path);
}

}  // namespace bertscope
