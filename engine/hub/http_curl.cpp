// Http over libcurl: one easy handle per client (so a keep-alive connection serves the next request), redirects
// never followed here, no compression asked (the Hub's sizes are those of the bytes on the wire), proxies from the
// usual environment variables (curl's own rule).
#include <curl/curl.h>

#include <mutex>

#include "hub/http.h"

namespace bertscope::hub {

namespace {

constexpr size_t kMaxKeptBody = 16u << 20;

struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse response;
  bool headers_done = false;  // the final answer's header block is complete
  bool stopped = false;       // on_start or on_body said stop
};

bool is_2xx(long status) { return status >= 200 && status < 300; }

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (const auto status = parse_status_line(line)) {  // a new answer (after a 100 Continue, say): start over
    t->response.status = *status;
    t->response.headers.clear();
    t->headers_done = false;
  } else if (line == "\r\n" || line == "\n") {
    if (t->response.status >= 200) {
      t->headers_done = true;
      if (is_2xx(t->response.status) && t->request->on_start &&
          !t->request->on_start(t->response.status, t->response.headers)) {
        t->stopped = true;
        return 0;  // anything but the full count stops the transfer
      }
    }
  } else if (auto h = parse_header_line(line)) {
    t->response.headers[h->first] = std::move(h->second);
  }
  return size * count;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view piece(data, size * count);
  if (is_2xx(t->response.status) && t->request->on_body) {
    if (!t->request->on_body(piece)) {
      t->stopped = true;
      return 0;
    }
  } else if (t->response.body.size() < kMaxKeptBody) {
    t->response.body.append(piece.substr(0, kMaxKeptBody - t->response.body.size()));
  }
  return piece.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<Transfer*>(user);
  return t->request->cancel && t->request->cancel->load() ? 1 : 0;  // non-zero aborts
}

class CurlHttp : public Http {
 public:
  CurlHttp() {
    static std::once_flag global;
    std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    if (!curl_) throw Error("libcurl could not start (curl_easy_init failed)");
  }
  ~CurlHttp() override { curl_easy_cleanup(curl_); }

  HttpResponse send(const HttpRequest& request) override {
    curl_easy_reset(curl_);
    Transfer t;
    t.request = &request;
    char error[CURL_ERROR_SIZE] = "";
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    if (request.method == "HEAD") curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "bertscope/0.1 (huggingface_hub protocol)");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);  // under 1 byte/s for stall_timeout_s: dropped
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_s);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (code == CURLE_OK) return std::move(t.response);

    const std::string why = std::string(curl_easy_strerror(code)) + (*error ? std::string(": ") + error : "");
    using Kind = TransportError::Kind;
    if (code == CURLE_ABORTED_BY_CALLBACK) throw TransportError(Kind::Cancelled, "cancelled");
    if (t.stopped) throw TransportError(Kind::Stopped, "stopped");
    // Without a complete header block nothing was said: the server is out of reach (or hung up at once).
    if (!t.headers_done) throw TransportError(Kind::Unreachable, why);
    throw TransportError(Kind::Dropped, why);
  }

 private:
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<Http> make_curl_http() { return std::make_unique<CurlHttp>(); }

}  // namespace bertscope::hub
