#pragma once
// TorchFile: a PyTorch checkpoint (pytorch_model.bin) read without running its pickle code. Two formats:
// - zip (torch.save's default since 1.6): <top>/data.pkl, one entry <top>/data/<key> per storage, <top>/byteorder;
// - legacy (_use_new_zipfile_serialization=False, e.g. bert-base-uncased's own file): pickles in a row (magic
//   number, protocol version, sys_info, the state dict, the storage keys), then each storage's element count and
//   bytes.
// The state dict is read by TorchUnpickler (model/pickle_reader.h), which refuses any name outside a small
// allow-list. Every tensor is checked against its storage when the file opens: the storage exists, its bytes match
// its declared size, and every element the sizes and strides reach lies inside it. Legacy storages are read from
// the file's memory map; zip storages are read from the archive on demand (each tensor read reads its storage).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "model/tensor_file.h"

namespace bertscope {

namespace torch_pickle {
class Unpickler;
}

class TorchFile : public TensorFile {
 public:
  explicit TorchFile(const std::filesystem::path& path);
  ~TorchFile() override;

  const std::filesystem::path& path() const override { return path_; }
  std::uint64_t file_size() const override;
  const std::map<std::string, StTensorInfo>& tensors() const override { return tensors_; }
  std::span<const float> read_f32(const std::string& name, std::vector<float>& converted) const override;
  std::shared_ptr<const void> keep_alive() const override;

  // Limits on what a checkpoint may ask for (public for the tests' sake).
  static constexpr std::uint64_t kMaxPickleBytes = 256ull << 20;    // data.pkl
  static constexpr std::uint64_t kMaxDeflateRatio = 1100;           // a compressed storage's size / its bytes

 private:
  struct Storage {
    StDType dtype = StDType::F32;
    std::uint64_t numel = 0;
    std::uint64_t file_offset = 0;  // legacy: where its bytes start in the file
    std::int64_t zip_index = -1;    // zip: its archive entry
  };
  struct Entry {               // one tensor: where its elements are
    std::size_t storage = 0;
    std::uint64_t offset = 0;  // in elements of the storage
    Shape size;
    std::vector<std::int64_t> stride;
  };
  struct Zip;  // the open archive (libzip), kept out of this header

  void open_zip();
  void open_legacy();
  void find_zip_storages(const std::string& prefix);
  void take_tensors(const torch_pickle::Unpickler& pickle, std::uint32_t root);
  void check_entry(const std::string& name, const Entry& entry, std::uint64_t available) const;
  bool contiguous(const Entry& entry) const;
  std::vector<std::uint8_t> read_zip_storage(const Storage& storage) const;
  void gather(const Entry& entry, const std::uint8_t* storage_bytes, float* out) const;

  std::filesystem::path path_;
  std::shared_ptr<MappedFile> map_;
  std::shared_ptr<Zip> zip_;
  mutable std::mutex zip_mutex_;  // libzip's archive handle is not safe to read from two threads at once
  std::vector<Storage> storages_;
  std::vector<Entry> entries_;
  std::map<std::string, StTensorInfo> tensors_;  // StTensorInfo::begin: index into entries_
};

}  // namespace bertscope
