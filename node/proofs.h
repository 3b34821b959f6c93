// Proofs for auditors and light clients (docs/audit.md, format "puhui.proof/1"): state values with
// their sparse-Merkle proofs to the state root after block H, the header of block H+1 that commits
// to that root with its commit certificate, and every validator-set change from genesis up to it —
// so that someone who knows only the genesis file can check the values offline
// (node/proof_verify.h). Retirement certificates ("puhui.retirement-certificate/1") wrap such a
// proof of a retirement record and its batch with the readable facts a holder shows to others.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chain/block_store.h"
#include "chain/genesis.h"
#include "chain/merkle.h"
#include "chain/status.h"

namespace puhui {

inline constexpr char kProofFormat[] = "puhui.proof/1";
inline constexpr char kCertificateFormat[] = "puhui.retirement-certificate/1";

// What a proof entry is about: its kind and the ids that name it, from which the state key is
// derived (by the builder and again by the verifier, so an entry cannot claim another key).
//   batch {serial} · balance {serial, address} · retirement {id} · attestation {seq} (a data
//   provider's batch) · record {provider, record_id} (a behaviour record counted: its outcome
//   (RecordRef) and an entry `inclusion` with the record and the Merkle paths of both to its
//   batch's records_root and outcomes_root; the proof then also holds the batch's attestation
//   entry. The counted-record index is outside the state tree, so a record entry has no SMT proof
//   of its own: it is proven through its batch.)
struct ProofSubject {
  std::string kind;
  nlohmann::json subject;
  Bytes key;
};
Result<ProofSubject> MakeProofSubject(const std::string& kind, const nlohmann::json& subject);

// The behaviour records of attestation batch `batch` (its transaction, from the block store).
Result<std::vector<pb::BehaviourRecord>> AttestedRecords(const BlockStore& store,
                                                         const pb::AttestationBatch& batch);

// Record `index` of attestation batch `batch` with its Merkle paths: to the batch's records_root
// and, for its outcome (the RecordRef stored for it when counted, else {batch, index, duplicate}),
// to the batch's outcomes_root.
struct RecordPaths {
  pb::BehaviourRecord record;
  std::string record_bytes;
  MerkleProof record_path;
  std::string outcome_bytes;  // serialised RecordRef
  MerkleProof outcome_path;
};
Result<RecordPaths> ProveRecordInBatch(const BlockStore& store, const pb::AttestationBatch& batch,
                                       uint32_t index);

// A proof of `subjects` in the state after block `height` (< the tip: the header of height + 1
// and its certificate must be stored).
Result<nlohmann::json> BuildProof(const BlockStore& store, const GenesisDoc& genesis,
                                  uint64_t height, const std::vector<ProofSubject>& subjects);

// The certificate of retirement `id` (a voluntary retirement or an offset), proven at the height
// it was recorded; kFailedPrecondition until the next block is committed.
Result<nlohmann::json> BuildCertificate(const BlockStore& store, const GenesisDoc& genesis,
                                        const std::string& id);

}  // namespace puhui
