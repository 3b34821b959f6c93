#include "chain/append_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace puhui {
namespace {

Status Errno(std::string_view what, const std::string& path, int error) {
  return IoError(fmt::format("{} '{}': {}", what, path, std::strerror(error)));
}

// Makes a new file's directory entry durable, so the file survives a crash with the records that
// the store says are in it.
Status SyncDirectory(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const std::string name = dir.empty() ? "." : dir;
  int fd = ::open(name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", name, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return Errno("cannot sync directory", name, error);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<AppendLog>> AppendLog::Open(const std::string& path, bool durable,
                                                   Reads reads) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return Errno("cannot stat", path, error);
  }
  // Read-ahead around single small records would be wasted.
  if (reads == Reads::kScattered) ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  std::unique_ptr<AppendLog> log(
      new AppendLog(path, fd, durable, static_cast<uint64_t>(st.st_size)));
  if (!existed && durable) PUHUI_RETURN_IF_ERROR(SyncDirectory(path));
  return log;
}

AppendLog::~AppendLog() { ::close(fd_); }

Status AppendLog::Sync() {
  if (!durable_) return Status::Ok();
  if (::fdatasync(fd_) != 0) return Errno("cannot sync", path_, errno);
  return Status::Ok();
}

Status AppendLog::Truncate(uint64_t end) {
  if (::ftruncate(fd_, static_cast<off_t>(end)) != 0) {
    return Errno("cannot truncate", path_, errno);
  }
  return Sync();
}

Result<uint64_t> AppendLog::Append(uint64_t offset, ByteView bytes) {
  const size_t total = bytes.size();
  if (total == 0) return offset;  // nothing to write or sync (a block that changed no state)
  for (size_t done = 0; done < total;) {
    ssize_t n = ::pwrite(fd_, bytes.data() + done, total - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  PUHUI_RETURN_IF_ERROR(Sync());
  return offset + total;
}

bool AppendLog::Read(uint64_t offset, uint32_t length, Bytes& out) const {
  out.resize(length);
  return ReadInto(offset, length, out.data());
}

bool AppendLog::Read(uint64_t offset, uint32_t length, std::string& out) const {
  out.resize(length);
  return ReadInto(offset, length, out.data());
}

bool AppendLog::ReadInto(uint64_t offset, uint32_t length, void* out) const {
  auto* p = static_cast<uint8_t*>(out);
  for (size_t done = 0; done < length;) {
    ssize_t n = ::pread(fd_, p + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace puhui
