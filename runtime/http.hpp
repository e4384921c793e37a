// HTTP for live reads (docs/live.md): every request of an instant goes out at once on one libcurl
// multi handle, each bounded by its own connect timeout and total deadline, its body capped, TLS
// verified. A failure is a response with `ok` false and the reason an SRE reads ("connection
// refused (127.0.0.1:9200)", "timeout after 2s", "body larger than 8 MiB"); an HTTP error status is
// a response (the caller decides what a 503 means).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rb::rt {

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::string body;                  // POST only
  std::vector<std::string> headers;  // "Content-Type: application/json"
  std::string bearer;                // sent as "Authorization: Bearer ..." (never shown)
  std::string user, password;        // basic auth when user is set (never shown)
  std::string ca_file;               // trust these CAs instead of the system's (TLS is verified either way)
  int64_t connect_timeout_ms = 1000;
  int64_t timeout_ms = 2000;         // the whole request, connect included
  size_t max_body = 8u << 20;        // past it the request is abandoned: ok false
};

struct HttpResponse {
  bool ok = false;         // an HTTP response arrived whole (any status)
  long status = 0;
  std::string body;
  int64_t elapsed_ms = 0;  // until the last byte
  std::string reason;      // !ok: why
};

// Performs every request concurrently and returns their responses in the same order. Returns when
// the last request has ended; none outlives its own timeout by more than a poll interval.
std::vector<HttpResponse> HttpFetchAll(const std::vector<HttpRequest>& requests);

// "%"-encodes `s` for a URL query value.
std::string UrlEncode(const std::string& s);

}  // namespace rb::rt
