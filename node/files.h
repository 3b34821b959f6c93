// Small file helpers for the node home: durable writes (write, fsync, rename, fsync the directory)
// and secret files created 0600.
#pragma once

#include <string>

#include "chain/keys.h"
#include "chain/status.h"

namespace puhui {

Result<std::string> ReadFile(const std::string& path);
// Replaces `path` atomically and durably; `mode` applies to a newly created file.
Status WriteFileDurably(const std::string& path, const std::string& contents, unsigned mode = 0644);

// A key file holds the 32-byte secret as 64 hex characters and a newline, mode 0600.
Status WriteKeyFile(const std::string& path, const PrivateKey& key);
Result<PrivateKey> ReadKeyFile(const std::string& path);

}  // namespace puhui
