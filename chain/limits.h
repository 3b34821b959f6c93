// Every named limit in one place, checked at the edge and asserted inside.
// docs/formats.md and docs/rpc.md list them for operators.
#pragma once

#include <cstddef>
#include <cstdint>

namespace puhui {

// One serialised TxEnvelope: 256 KiB, so that an attestation batch of kMaxAttestRecords (2,048)
// behaviour records travels under one signature; hex-encoded it still fits one RPC body (1 MiB).
inline constexpr size_t kMaxTxBytes = 256 * 1024;
inline constexpr size_t kMaxTxSignatures = 8;
inline constexpr size_t kMaxMemoBytes = 256;
inline constexpr size_t kMaxIdBytes = 128;  // serials, region codes, names
inline constexpr size_t kMaxBlockTxs = 10'000;
inline constexpr size_t kMaxBlockBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxFrameBytes = 20 * 1024 * 1024;  // p2p frames (consensus issue)
inline constexpr size_t kMaxGenesisBytes = 64 * 1024 * 1024;
// Latest block time accepted: 9999-12-31T23:59:59.999Z. A fixed bound, not a clock, so that a
// faulty proposer cannot push time to where "one millisecond later" overflows.
inline constexpr uint64_t kMaxBlockTimeMs = 253'402'300'799'999;

static_assert(kMaxTxBytes * 2 < kMaxBlockBytes);
static_assert(kMaxBlockBytes < kMaxFrameBytes);

}  // namespace puhui
