#include "chain/pread_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace puhui {
namespace {

leveldb::Status ErrnoStatus(const std::string& context, int error) {
  if (error == ENOENT) return leveldb::Status::NotFound(context, std::strerror(error));
  return leveldb::Status::IOError(context, std::strerror(error));
}

// A table file read at offsets. Safe for concurrent reads (pread has no shared file position).
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = leveldb::Slice(scratch, 0);
        return ErrnoStatus(name_, errno);
      }
      if (r == 0) break;  // end of file: a short result, as LevelDB's own files give
      got += static_cast<size_t>(r);
    }
    *result = leveldb::Slice(scratch, got);
    return leveldb::Status::OK();
  }

 private:
  std::string name_;
  int fd_;
};

class Env final : public leveldb::EnvWrapper {
 public:
  Env() : EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** file) override {
    *file = nullptr;
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(name, errno);
    // Lookups read one block at a random place: read-ahead around it would be wasted.
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
    *file = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }
};

}  // namespace

leveldb::Env* PreadEnv() {
  static Env* env = new Env();  // never destroyed: stores may outlive static destruction order
  return env;
}

}  // namespace puhui
