#include "hub/fake_hub.h"

#include <fstream>
#include <functional>

#include "hub/http.h"

namespace fs = std::filesystem;

namespace bertscope::test {

std::string fake_commit(const std::string& seed) {
  std::string hex;
  std::size_t h = std::hash<std::string>{}(seed);
  static const char* digits = "0123456789abcdef";
  while (hex.size() < 40) {
    hex += digits[h & 15];
    h = h >> 4 ? h >> 4 : std::hash<std::string>{}(seed + hex);
  }
  return hex;
}

FakeHub::FakeHub(const fs::path& work, const std::vector<FakeRepo>& repos, const std::string& token) {
  if (!fs::exists("/usr/bin/python3")) {
    why_not_ = "no /usr/bin/python3 to run the stand-in Hub (tests/hub/fake_hub.py)";
    return;
  }
  fs::create_directories(work);
  nlohmann::json config = {{"token", token}, {"repos", nlohmann::json::array()}};
  for (const auto& r : repos)
    config["repos"].push_back({{"id", r.id}, {"folder", r.folder.string()}, {"commit", r.commit}, {"refs", r.refs},
                               {"gated", r.gated}, {"extra", r.extra}, {"corrupt", r.corrupt}, {"huge", r.huge},
                               {"slow", r.slow}});
  const fs::path config_file = work / "fake_hub.json";
  std::ofstream(config_file) << config.dump(2);
  log_ = work / "fake_hub.log";
  fs::remove(log_);
  process_ = std::make_unique<QProcess>();
  process_->setProcessChannelMode(QProcess::SeparateChannels);
  process_->start("/usr/bin/python3", {BERTSCOPE_FAKE_HUB, QString::fromStdString(config_file.string()),
                                       QString::fromStdString(log_.string())});
  QByteArray first;
  while (process_->waitForReadyRead(15000)) {
    first += process_->readAllStandardOutput();
    if (first.contains('\n')) break;
  }
  const QList<QByteArray> words = first.trimmed().split(' ');
  if (words.size() != 3 || words[0] != "PORTS") {
    why_not_ = "the stand-in Hub did not start: " + QString::fromUtf8(first + process_->readAllStandardError());
    stop();
    return;
  }
  hub_port_ = words[1].toInt();
  cdn_port_ = words[2].toInt();
}

FakeHub::~FakeHub() { stop(); }

void FakeHub::stop() {
  if (!process_) return;
  process_->kill();  // only the server this object started
  process_->waitForFinished(5000);
}

std::vector<nlohmann::json> FakeHub::requests() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(log_);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

void FakeHub::clear_requests() const { std::ofstream(log_, std::ios::trunc); }

void FakeHub::drop(const std::string& file, int after, int times) const {
  auto http = hub::make_curl_http();
  hub::HttpRequest r;
  r.url = endpoint() + "/_control/drop?file=" + file + "&after=" + std::to_string(after) + "&times=" + std::to_string(times);
  http->send(r);
}

}  // namespace bertscope::test
