#include "node/thread_name.h"

#include <pthread.h>

#include <string>

namespace puhui {

void NameThisThread(std::string_view name) {
  constexpr size_t kMaxNameBytes = 15;  // the kernel's limit, without the terminating zero
  const std::string cut(name.substr(0, kMaxNameBytes));
  (void)pthread_setname_np(pthread_self(), cut.c_str());  // a name is a convenience only
}

}  // namespace puhui
