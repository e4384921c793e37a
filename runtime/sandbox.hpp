// Sandbox: runs one read command for a live probe, safely. argv only, no shell; the program must be
// allowed by name and is looked up in the configured folders, never the caller's PATH. The child gets
// /dev/null for stdin, a scrubbed environment, resource limits, its own session and process group, and
// no other descriptor; it is bounded by a wall-clock deadline after which its whole process group is
// killed. Output is captured up to a cap; the rest is read and discarded so the child never blocks.
//
// Thread-safe (no global state; the child calls only async-signal-safe functions between fork and
// exec). Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rb::rt {

struct SandboxOptions {
  std::vector<std::string> allow;  // program names (argv[0], a bare name) that may be started; empty: nothing may
  std::vector<std::string> path = {"/usr/local/bin", "/usr/bin", "/bin"};  // folders argv[0] is resolved in, in
                                                                           // order; never the caller's PATH;
                                                                           // relative folders are skipped
  std::vector<std::pair<std::string, std::string>> env;  // the child's whole environment (already scrubbed by the
                                                         // caller); PATH is set to `path` joined by ':' unless
                                                         // given here
  int64_t timeout_ms = 10000;  // wall-clock limit from start (<= 0: killed at once); then TERM to the whole
                               // process group, then KILL after kill_grace_ms
  int64_t kill_grace_ms = 500;
  size_t max_stdout = 1 << 20, max_stderr = 64 << 10;  // bytes kept; the rest is read and discarded (truncated)
  // Resource limits; a value <= 0 leaves that limit as inherited. Never raised above the current hard limit.
  int64_t cpu_seconds = 10;               // RLIMIT_CPU (SIGXCPU at the limit, SIGKILL a second later)
  int64_t max_memory = int64_t(1) << 31;  // RLIMIT_AS bytes
  int64_t max_file_size = 16 << 20;       // RLIMIT_FSIZE
  int64_t max_open_files = 256;           // RLIMIT_NOFILE
  int64_t max_processes = 0;              // RLIMIT_NPROC when > 0 (not enforced for root)
  std::string workdir = "/";              // chdir before exec
};

struct SandboxResult {
  enum class Status : uint8_t { kExited, kSignaled, kTimeout, kRefused, kStartFailed } status = Status::kStartFailed;
  int exit_code = -1;  // kExited (also kTimeout when the command itself had exited but its output was held open)
  int signal = 0;      // kSignaled (also kTimeout: the signal that ended the command)
  std::string out, err;  // captured, each capped
  bool out_truncated = false, err_truncated = false;
  size_t out_bytes = 0, err_bytes = 0;  // total bytes the command wrote to each
  int64_t elapsed_ms = 0;
  std::string reason;    // for every status but a clean exit 0 without truncation: one line an SRE reads, e.g.
                         // "`celery` is not in the environment's exec.allow (allowed: kubectl, redis-cli)",
                         // "`kubectl` not found in exec.path (/usr/local/bin:/usr/bin:/bin)",
                         // "timeout after 2s: killed the process group (TERM, then KILL)",
                         // "exit status 1: <first line of stderr>", "killed by signal 9 (SIGKILL)",
                         // "exec failed: Permission denied (/usr/bin/x)",
                         // "...; stdout truncated at 1 MiB (104857600 bytes written)"
  std::string resolved;  // the absolute path that was executed
};

// Runs argv (argv[0] a bare program name: a name containing '/' is refused, so is an empty argv) without a
// shell. When the command is done (or killed), whatever is left of its process group is killed too, so no
// background process outlives the probe. Every descriptor opened here is closed and the child is reaped.
SandboxResult RunSandboxed(const std::vector<std::string>& argv, const SandboxOptions& opt);

}  // namespace rb::rt
