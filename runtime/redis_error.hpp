// One wording for a failed hiredis connection, shared by the live reads and the team's Redis.
#pragma once

#include <cstdint>
#include <string>

namespace rb::rt {

// Why a hiredis connection (`context`, a redisContext) failed, as an SRE reads it: "connection
// refused (HOST:PORT)", "timeout after 2s (HOST:PORT)", "the server closed the connection (...)".
std::string RedisContextError(const void* context, const std::string& where, int64_t timeout_ms);

}  // namespace rb::rt
