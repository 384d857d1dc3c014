#pragma once
// What can go wrong between bertscope and the Hugging Face Hub, each kind with a message in words that says what
// to do about it. The kinds follow the X-Error-Code values the Hub sends (GatedRepo, RepoNotFound,
// RevisionNotFound, EntryNotFound) plus what happens on this side (offline, no network, a dropped connection, a
// full disk, bytes that do not match their sha256, a cancelled download).
#include <string>

#include "core/error.h"

namespace bertscope::hub {

class HubError : public Error {
 public:
  enum class Kind {
    GatedRepo,         // the licence must be accepted and a token sent
    RepoNotFound,      // no such model, or a private one the token cannot read
    RevisionNotFound,  // no such branch, tag or commit
    EntryNotFound,     // no such file at that revision
    Unauthorized,      // 401 without a code: the token is wrong
    Offline,           // HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) and not in the cache
    Unreachable,       // no answer from the endpoint, and not in the cache
    Dropped,           // the connection broke midway; the part received is kept for next time
    DiskFull,          // no room for the file
    Integrity,         // bytes that do not match their sha256 or announced size
    Cancelled,         // the user cancelled
    BadAnswer,         // the endpoint answered something that is not the Hub's protocol
    Server,            // any other HTTP error status
  };
  HubError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace bertscope::hub
