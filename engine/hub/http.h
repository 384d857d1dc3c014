#pragma once
// The HTTP the Hub needs, behind a small interface: one request, no redirect followed (the protocol treats them
// specially: HEAD follows only those on the same host, and a GET drops the token when it leaves the Hub's host),
// a 2xx body streamed to a callback. make_curl_http() is libcurl; the tests point it at a local stand-in server.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "hub/protocol.h"

namespace bertscope::hub {

struct HttpRequest {
  std::string method = "GET";        // "GET" or "HEAD"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Called once the headers of a 2xx answer are in, before its body; returns false to stop the transfer.
  std::function<bool(long status, const Headers& headers)> on_start;
  // Each piece of a 2xx answer's body; returns false to stop the transfer (a failed write). Without it the body
  // is kept in HttpResponse::body. Other answers' bodies are always kept there (bounded).
  std::function<bool(std::string_view piece)> on_body;
  const std::atomic<bool>* cancel = nullptr;  // set from another thread: the transfer stops soon after
  long connect_timeout_s = 10;
  long stall_timeout_s = 30;  // no byte at all for this long: the connection counts as dropped
};

struct HttpResponse {
  long status = 0;
  Headers headers;   // of the answer (the last one when a 100 Continue came first)
  std::string body;  // at most 16 MiB; the rest is dropped
};

// A request that got no complete answer, as opposed to an HTTP error status (which HttpResponse carries).
class TransportError : public Error {
 public:
  enum class Kind {
    Unreachable,  // no connection (no network, no such host, refused, timed out connecting, TLS failed)
    Dropped,      // the connection broke, or stalled, midway
    Cancelled,    // HttpRequest::cancel was set
    Stopped,      // on_start or on_body returned false
  };
  TransportError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Http {
 public:
  virtual ~Http() = default;
  // Performs one request; throws TransportError when no complete answer came.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

std::unique_ptr<Http> make_curl_http();

}  // namespace bertscope::hub
