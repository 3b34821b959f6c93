// The auditor's replay (puhui-cli audit, docs/audit.md): rebuilds the chain from a genesis file in
// a scratch ledger, block by block, from blocks an AuditSource hands over, and trusts nothing it
// did not check:
//   - every block's header against the replayed chain (parent, time, roots, validator-set hash),
//   - every commit certificate against the validator set in force at its height (sets change by
//     governance; the replay follows them as the chain does),
//   - every transaction's signature, then re-execution of every transaction,
//   - the state root and receipts each header (and the source) claims, against the replay's,
//   - the registry's invariants (node/audit_invariants.h).
// It stops at the first fault and names its height, transaction and reason.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chain/genesis.h"
#include "node/audit_report.h"
#include "node/audit_source.h"

namespace puhui {

struct AuditFault {
  uint64_t height = 0;
  std::optional<uint32_t> tx_index;  // when one transaction is at fault
  std::string tx_hash;               // hex, with tx_index
  std::string reason;
};

struct AuditProgress {
  uint64_t height = 0;
  uint64_t tip = 0;
  uint64_t txs = 0;
};

struct AuditOptions {
  uint64_t to_height = 0;  // 0: the source's tip
  size_t verifier_threads = 2;
  std::function<void(const AuditProgress&)> progress;  // called every few blocks
};

struct AuditResult {
  uint64_t height = 0;  // last block replayed and found good
  uint64_t txs = 0;
  uint64_t validator_set_changes = 0;
  Hash32 state_root{};
  uint64_t elapsed_ms = 0;
  std::optional<AuditFault> fault;  // empty: the chain audits clean up to `height`
  AuditReport report;               // built from the replayed state when clean
};

// An error Status means the audit could not run (source unreadable, scratch dir unwritable), not
// that the chain is at fault; a fault is returned in AuditResult::fault. `scratch_dir` is created
// and used for the replayed ledger; the caller removes it.
Result<AuditResult> RunAudit(const GenesisDoc& genesis, AuditSource& source,
                             const std::string& scratch_dir, const AuditOptions& options);

}  // namespace puhui
