#pragma once
// The stand-in Hugging Face Hub (tests/hub/fake_hub.py) from a test: started on 127.0.0.1 with the repositories
// given, stopped on demand (to see what happens without a network) or when the object goes.
#include <QProcess>
#include <QString>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bertscope::test {

struct FakeRepo {
  std::string id;
  std::filesystem::path folder;  // every file in it is in the repository
  std::string commit;            // what "main" stands for
  std::map<std::string, std::string> refs;  // more branches or tags -> commit
  bool gated = false;
  std::vector<std::string> extra;    // files listed and served but never wanted (tf_model.h5, ...)
  std::vector<std::string> corrupt;  // served with bytes that do not match their sha256
  std::vector<std::string> huge;     // announced as 1 PiB
  std::vector<std::string> slow;     // sent 2 KiB every 20 ms
};

class FakeHub {
 public:
  // Starts the server; running() says whether it did (why_not() why not: no /usr/bin/python3, say).
  FakeHub(const std::filesystem::path& work, const std::vector<FakeRepo>& repos, const std::string& token);
  ~FakeHub();

  bool running() const { return process_ && process_->state() == QProcess::Running; }
  QString why_not() const { return why_not_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }
  int cdn_port() const { return cdn_port_; }
  void stop();

  // Every request so far: {"method", "port": "hub"|"cdn", "path", "range", "authorization"}.
  std::vector<nlohmann::json> requests() const;
  void clear_requests() const;
  // The next `times` GETs of `file` from the CDN send `after` bytes and hang up.
  void drop(const std::string& file, int after, int times) const;

 private:
  std::unique_ptr<QProcess> process_;
  std::filesystem::path log_;
  int hub_port_ = 0, cdn_port_ = 0;
  QString why_not_;
};

// A 40-hex commit id made from a word (the stand-in does not care what it is).
std::string fake_commit(const std::string& seed);

}  // namespace bertscope::test
