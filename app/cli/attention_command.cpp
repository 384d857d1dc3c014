#include "cli/attention_command.h"

#include <bit>
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/json_io.h"

namespace fs = std::filesystem;

namespace bertscope::cli {

namespace {

bool ends_with_npy(const std::string& path) { return fs::path(path).extension() == ".npy"; }

nlohmann::json token_texts(const AttentionMaps& maps) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const Token& t : maps.encoding().tokens) tokens.push_back(t.text);
  return tokens;
}

}  // namespace

void add_attention_options(CLI::App* command, AttentionArgs& args) {
  command->add_option("--layer", args.selection.layers,
                      "layers to report, 0-based, -1 the last (repeat it or use commas: --layer 0,11); default all")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--head", args.selection.heads, "heads to report in each layer, as --layer; default all")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--format", args.format,
                      "json: one JSON line an input; npy: a float32 array (layers, heads, T, T) in --out, with its "
                      "tokens, layers and heads in a .json beside it. Default: npy when --out ends in .npy")
      ->check(CLI::IsMember({"auto", "json", "npy"}))
      ->capture_default_str();
  command->add_option("--out", args.out, "file to write (never over an existing one) instead of stdout");
}

void write_attention_json(AttentionMaps& maps, bool with_indices, std::ostream& out) {
  const size_t T = static_cast<size_t>(maps.tokens()), H = maps.heads().size();
  nlohmann::json rest = {{"tokens", token_texts(maps)}, {"layers", maps.layers().size()}, {"heads", H}};
  if (with_indices) {
    rest["layer_indices"] = maps.layers();
    rest["head_indices"] = maps.heads();
  }
  // nlohmann orders keys alphabetically and "attentions" comes first: written ahead of the rest, the line is the
  // text dump() gives for the whole document, without ever holding it.
  out << "{\"attentions\":[";
  nlohmann::json row(std::vector<float>(T, 0.0f));  // one row of a map, reused: its T numbers
  auto& cells = row.get_ref<nlohmann::json::array_t&>();
  for (size_t l = 0; l < maps.layers().size(); ++l) {
    const std::vector<float> layer = maps.take_layer(l);  // (H, T, T)
    out << (l ? ",[" : "[");
    for (size_t h = 0; h < H; ++h) {
      out << (h ? ",[" : "[");
      for (size_t q = 0; q < T; ++q) {
        const float* p = layer.data() + (h * T + q) * T;
        for (size_t k = 0; k < T; ++k) cells[k] = p[k];
        if (q) out << ',';
        out << row.dump();
      }
      out << ']';
    }
    out << ']';
  }
  out << "]," << dump_json(rest).substr(1);  // the other keys, after the '{'
}

std::string npy_header(const std::vector<size_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ',';  // a Python tuple of one: (5,)
  const char* descr = std::endian::native == std::endian::little ? "<f4" : ">f4";
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t prefix = 10;  // magic (6), version (2), header length (2)
  dict.append(63 - (prefix + dict.size()) % 64, ' ');
  dict += '\n';  // now prefix + dict.size() is a multiple of 64
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

void write_attention_npy(AttentionMaps& maps, std::ostream& out) {
  const size_t T = static_cast<size_t>(maps.tokens());
  out << npy_header({maps.layers().size(), maps.heads().size(), T, T});
  for (size_t l = 0; l < maps.layers().size(); ++l) {
    const std::vector<float> layer = maps.take_layer(l);  // (H, T, T), float32 in the machine's byte order
    out.write(reinterpret_cast<const char*>(layer.data()), static_cast<std::streamsize>(layer.size() * sizeof(float)));
  }
}

nlohmann::json attention_sidecar(const AttentionMaps& maps, const std::string& npy_name) {
  const size_t T = static_cast<size_t>(maps.tokens());
  return {{"npy", npy_name},
          {"shape", {maps.layers().size(), maps.heads().size(), T, T}},
          {"dtype", "float32"},
          {"axes", {"layer", "head", "query", "key"}},
          {"layer_indices", maps.layers()},
          {"head_indices", maps.heads()},
          {"tokens", token_texts(maps)}};
}

AttentionOutput::AttentionOutput(const AttentionArgs& args, bool many_inputs) : args_(args) {
  npy_ = args.format == "npy" || (args.format == "auto" && ends_with_npy(args.out));
  if (!npy_) {
    if (!args.out.empty()) file_ = std::make_unique<StagedFile>(args.out);
    return;
  }
  if (many_inputs) throw Error("--format npy holds one input's maps; with --jsonl use --format json");
  if (args.out.empty()) throw Error("--format npy needs --out FILE.npy (a binary array is not for the terminal)");
  if (!ends_with_npy(args.out)) throw Error("--out " + args.out + ": a .npy file's name must end in .npy");
  file_ = std::make_unique<StagedFile>(args.out);
  sidecar_ = std::make_unique<StagedFile>(fs::path(file_->destination()).replace_extension(".json"));
}

void AttentionOutput::check(const ModelConfig& config) const {
  resolve_attention_indices(args_.selection.layers, config.num_hidden_layers, "layer");
  resolve_attention_indices(args_.selection.heads, config.num_attention_heads, "head");
}

std::ostream& AttentionOutput::stream() { return file_ ? file_->stream() : std::cout; }

void AttentionOutput::write(AttentionMaps& maps) {
  if (!npy_) {
    const bool selected = !args_.selection.layers.empty() || !args_.selection.heads.empty();
    write_attention_json(maps, selected, stream());
    stream() << '\n';
    stream().flush();
    return;
  }
  if (written_) throw Error("--format npy holds one input's maps");
  write_attention_npy(maps, file_->stream());
  sidecar_->stream() << dump_json(attention_sidecar(maps, file_->destination().filename().string())) << '\n';
  written_ = true;
}

void AttentionOutput::commit() {
  if (!file_) return;
  if (npy_ && !written_) return;  // nothing was computed: no file
  file_->commit();
  nlohmann::json said = {{"out", file_->destination().string()}, {"format", npy_ ? "npy" : "json"}};
  if (sidecar_) {
    try {
      sidecar_->commit();
    } catch (...) {
      fs::remove(file_->destination());  // this run's .npy: without its sidecar it is not a result
      throw;
    }
    said["sidecar"] = sidecar_->destination().string();
  }
  std::cout << dump_json(said) << std::endl;
}

}  // namespace bertscope::cli
