#include "runtime/http.hpp"

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "runtime/executor.hpp"

namespace rb::rt {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One request in flight: its easy handle, what it received, and its own settings.
struct Transfer {
  const HttpRequest* req = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  bool over_cap = false;
  char error[CURL_ERROR_SIZE] = {0};
  ~Transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->body.size() + len > t->req->max_body) {
    t->over_cap = true;
    return 0;  // abandons the transfer: CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}

std::string HostPort(const std::string& url) {
  size_t s = url.find("://");
  size_t from = s == std::string::npos ? 0 : s + 3;
  size_t to = url.find_first_of("/?#", from);
  std::string hp = url.substr(from, to == std::string::npos ? std::string::npos : to - from);
  size_t at = hp.rfind('@');  // never show credentials written into a URL
  return at == std::string::npos ? hp : hp.substr(at + 1);
}

std::string SizeText(size_t bytes) {
  if (bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes % (1u << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

std::string Reason(const Transfer& t, CURLcode code) {
  const HttpRequest& r = *t.req;
  std::string where = HostPort(r.url);
  if (t.over_cap) return fmt::format("body larger than {} from {} (the target's max_body)", SizeText(r.max_body), where);
  std::string err = t.error[0] != 0 ? t.error : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED || err.find("refused") != std::string::npos) return fmt::format("connection refused ({})", where);
      return fmt::format("cannot connect to {}: {}", where, err);
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected = 0;
      curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connected);
      if (connected == 0) return fmt::format("connect timeout after {} ({})", FormatMs(r.connect_timeout_ms), where);
      return fmt::format("timeout after {} ({})", FormatMs(r.timeout_ms), where);
    }
    case CURLE_COULDNT_RESOLVE_HOST: return fmt::format("cannot resolve host {}", where);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
      return fmt::format("TLS to {} not verified: {} (set the target's `ca:` to its CA file)", where, err);
    case CURLE_UNSUPPORTED_PROTOCOL: return fmt::format("{}: only http:// and https:// are read", r.url.substr(0, r.url.find("://") + 3));
    case CURLE_GOT_NOTHING: return fmt::format("the server closed the connection without a reply ({})", where);
    default: return fmt::format("{} ({})", err, where);
  }
}

bool Setup(Transfer& t) {
  const HttpRequest& r = *t.req;
  t.easy = curl_easy_init();
  if (t.easy == nullptr) return false;
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_body));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "runbook-live/1");
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  for (const auto& h : r.headers) t.headers = curl_slist_append(t.headers, h.c_str());
  if (!r.bearer.empty()) t.headers = curl_slist_append(t.headers, ("Authorization: Bearer " + r.bearer).c_str());
  if (t.headers != nullptr) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  if (!r.user.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(e, CURLOPT_USERNAME, r.user.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, r.password.c_str());
  }
  if (r.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  return true;
}

}  // namespace

std::vector<HttpResponse> HttpFetchAll(const std::vector<HttpRequest>& requests) {
  GlobalInit();
  std::vector<HttpResponse> out(requests.size());
  if (requests.empty()) return out;
  std::vector<std::unique_ptr<Transfer>> transfers;
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) {
    for (auto& r : out) r.reason = "cannot start an HTTP client (out of memory)";
    return out;
  }
  for (const auto& r : requests) {
    auto t = std::make_unique<Transfer>();
    t->req = &r;
    if (!Setup(*t)) {
      out[transfers.size()].reason = "cannot start an HTTP request (out of memory)";
    } else {
      curl_multi_add_handle(multi, t->easy);
    }
    transfers.push_back(std::move(t));
  }
  int running = 0;
  do {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  } while (running > 0);
  CURLMsg* msg = nullptr;
  int left = 0;
  while ((msg = curl_multi_info_read(multi, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (t == nullptr) continue;
    size_t i = static_cast<size_t>(t->req - requests.data());
    HttpResponse& r = out[i];
    curl_off_t total_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r.elapsed_ms = static_cast<int64_t>(total_us / 1000);
    if (msg->data.result == CURLE_OK) {
      r.ok = true;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
      r.body = std::move(t->body);
    } else if (msg->data.result == CURLE_FILESIZE_EXCEEDED) {
      t->over_cap = true;
      r.reason = Reason(*t, msg->data.result);
    } else {
      r.reason = Reason(*t, msg->data.result);
    }
  }
  for (auto& t : transfers) {
    if (t->easy != nullptr) curl_multi_remove_handle(multi, t->easy);
  }
  transfers.clear();
  curl_multi_cleanup(multi);
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].ok && out[i].reason.empty()) out[i].reason = "the request did not complete";
  }
  return out;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace rb::rt
