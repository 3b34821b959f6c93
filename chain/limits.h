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
// Exchange settlement (docs/exchange.md). 64 legs cover a matching round's trades in one
// settlement while a settlement of plain legs (≤ ~220 bytes each) stays well below kMaxTxBytes and
// its execution, a few keys read and written per leg, stays short. (Legs that buy and retire carry
// texts; kMaxTxBytes bounds those.)
inline constexpr size_t kMaxSettlementLegs = 64;
inline constexpr size_t kMaxSettlementIdBytes = 64;
inline constexpr size_t kMaxPaymentRefBytes = 128;
// Latest block time accepted: 9999-12-31T23:59:59.999Z. A fixed bound, not a clock, so that a
// faulty proposer cannot push time to where "one millisecond later" overflows.
inline constexpr uint64_t kMaxBlockTimeMs = 253'402'300'799'999;

static_assert(kMaxTxBytes * 2 < kMaxBlockBytes);
static_assert(kMaxBlockBytes < kMaxFrameBytes);
static_assert(kMaxSettlementLegs * 256 < kMaxTxBytes);

}  // namespace puhui
