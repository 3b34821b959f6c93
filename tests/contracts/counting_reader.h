// A StateReader that counts the reads reaching it and has no Find of its own, so reads through it
// take StateReader's default (in terms of Get).
#pragma once

#include "contracts/state.h"

namespace puhui::testing {

class CountingReader : public StateReader {
 public:
  explicit CountingReader(const StateReader* base) : base_(*base) {}
  Result<std::optional<Bytes>> Get(ByteView key) const override {
    ++reads;
    return base_.Get(key);
  }
  mutable int reads = 0;

 private:
  const StateReader& base_;
};

}  // namespace puhui::testing
