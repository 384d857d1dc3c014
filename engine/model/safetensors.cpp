#include "model/safetensors.h"


#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "core/test_hooks.h"

namespace bertscope {

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
    static const std::map<std::string, StDType> kDTypes = {
        {"F32", StDType::F32}, {"F16", StDType::F16}, {"BF16", StDType::BF16}, {"F64", StDType::F64},
        {"I64", StDType::I64}, {"I32", StDType::I32}, {"I16", StDType::I16}, {"I8", StDType::I8},
        {"U8", StDType::U8},   {"BOOL", StDType::BOOL}};
    const auto known = dt.is_string() ? kDTypes.find(dt.get<std::string>()) : kDTypes.end();
    if (known == kDTypes.end())
      throw Error(tensor + ": unsupported dtype " + describe_json(dt) + " (bertscope reads F32, F16, BF16, F64 and integers)");
    info.dtype = known->second;
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

std::span<const float> SafetensorsFile::read_f32(const std::string& name, std::vector<float>& converted) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path_.string() + ": no tensor '" + name + "'");
  const StTensorInfo& info = it->second;
  const std::uint8_t* src = data_ + info.begin;
  const std::size_t count = static_cast<std::size_t>(element_count(info.shape));
  if (info.dtype == StDType::F32 && reinterpret_cast<std::uintptr_t>(src) % alignof(float) == 0)
    return {reinterpret_cast<const float*>(src), count};
  converted.resize(count);
  convert_to_f32(info.dtype, src, count, converted.data());
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
      if (t == sorted[sorted.size() / 2]) {  // half the tensors on disk: where a test kills a save (core/test_hooks.h)
        out.flush();
        test_hooks::pause_point("safetensors-half-written");
      }
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
