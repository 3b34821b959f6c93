#include "node/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace puhui {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot open '{}'", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFileDurably(const std::string& path, const std::string& contents, unsigned mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IoError(fmt::format("cannot create '{}': {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return IoError(fmt::format("cannot write '{}': {}", tmp, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return IoError(fmt::format("cannot sync '{}': {}", tmp, std::strerror(errno)));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return IoError(fmt::format("cannot rename '{}': {}", tmp, std::strerror(errno)));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status WriteKeyFile(const std::string& path, const PrivateKey& key) {
  if (std::filesystem::exists(path)) {
    return AlreadyExists(fmt::format("key file '{}' exists; refusing to overwrite a key", path));
  }
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(path, Hex(key.secret()) + "\n", 0600));
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

Result<PrivateKey> ReadKeyFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  auto secret = Hash32FromHex(s);
  if (!secret)
    return InvalidArgument(fmt::format("key file '{}' must hold 64 hex characters", path));
  auto key = PrivateKey::FromBytes(*secret);
  if (!key.ok()) return InvalidArgument(fmt::format("key file '{}' holds an invalid secret", path));
  return *key;
}

}  // namespace puhui
