#include "node/proof_verify.h"

#include <fmt/format.h>

#include "chain/merkle.h"
#include "chain/signing.h"
#include "chain/smt.h"
#include "consensus/validator_set.h"
#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"
#include "node/proofs.h"
#include "rpc/encode.h"

namespace puhui {
namespace {

using nlohmann::json;

// Thrown inside the checks; its text is the answer.
struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& what) { throw Failed(what); }

const json& Field(const json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name))
    Fail(fmt::format("{}: field '{}' is missing", where, name));
  return j.at(name);
}

std::string HexField(const json& j, const char* name, const std::string& where) {
  const json& v = Field(j, name, where);
  if (!v.is_string() || !FromHex(v.get<std::string>()))
    Fail(fmt::format("{}: field '{}' must be a hex string", where, name));
  return ToString(*FromHex(v.get<std::string>()));
}

uint64_t U64Field(const json& j, const char* name, const std::string& where) {
  const json& v = Field(j, name, where);
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    Fail(fmt::format("{}: field '{}' must be an unsigned integer", where, name));
  return v.get<uint64_t>();
}

SmtProof ProofField(const json& j, const char* name, const std::string& where) {
  auto p = rpc::SmtProofFromJson(Field(j, name, where));
  if (!p) Fail(fmt::format("{}: field '{}' is not a well-formed Merkle proof", where, name));
  return *p;
}

// Checks that `header_bytes` is block `height` of this chain, signed by `set` (its certificate in
// `commit_bytes`), and returns the header.
pb::BlockHeader CheckCertifiedHeader(const GenesisDoc& genesis, const ValidatorSet& set,
                                     uint64_t height, const std::string& header_bytes,
                                     const std::string& commit_bytes, const std::string& where) {
  pb::BlockHeader h;
  if (!h.ParseFromString(header_bytes)) Fail(where + ": the header does not parse");
  if (h.chain_id() != genesis.chain_id)
    Fail(fmt::format("{}: the header is of chain '{}', not '{}'", where, h.chain_id(),
                     genesis.chain_id));
  if (h.height() != height)
    Fail(
        fmt::format("{}: the header is of block {}, expected block {}", where, h.height(), height));
  if (h.validators_hash() != AsString(ByteView(set.hash()))) {
    Fail(
        fmt::format("{}: block {} names validator set {}, but the set in force by the genesis "
                    "file and the changes this proof carries is {} (a change is missing or "
                    "forged)",
                    where, height, Hex(AsBytes(h.validators_hash())), Hex(set.hash())));
  }
  pb::Commit commit;
  if (!commit.ParseFromString(commit_bytes))
    Fail(where + ": the commit certificate does not parse");
  Status s = VerifyCommit(genesis.chain_id, set, height, BlockHash(AsBytes(header_bytes)), commit);
  if (!s.ok()) Fail(fmt::format("{}: commit certificate: {}", where, s.message()));
  return h;
}

// Follows the validator-set changes the proof carries from the genesis set; returns the set in
// force at `height`.
ValidatorSet SetAt(const GenesisDoc& genesis, const json& changes, uint64_t height) {
  auto genesis_set = ValidatorSet::FromProto(genesis.validators);
  if (!genesis_set.ok())
    Fail("the genesis file's validator set: " + genesis_set.status().message());
  ValidatorSet set = *genesis_set;
  if (!changes.is_array()) Fail("field 'validator_changes' must be an array");
  uint64_t last = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    const json& c = changes[i];
    const uint64_t effective =
        U64Field(c, "effective_height", fmt::format("validator-set change {}", i));
    const std::string where = fmt::format("validator-set change {} (height {})", i, effective);
    if (effective <= last || effective < 3)
      Fail(where + ": changes must be in increasing order, from height 3");
    if (effective > height)
      Fail(where + ": takes effect after the proven block; it does not belong here");
    last = effective;
    const std::string set_bytes = HexField(c, "set", where);
    pb::BlockHeader h =
        CheckCertifiedHeader(genesis, set, effective - 1, HexField(c, "header", where),
                             HexField(c, "commit", where), where);
    auto root = ToHash32(AsBytes(h.state_root()));
    if (!root) Fail(where + ": the header's state root is not 32 bytes");
    if (!VerifySmtProof(*root, state_keys::ValidatorsPending(effective), ToBytes(set_bytes),
                        ProofField(c, "pending_proof", where))) {
      Fail(where +
           ": the new set is not the one the chain had decided (its proof does not match "
           "the state root of block " +
           std::to_string(effective - 1) + ")");
    }
    pb::ValidatorSet next;
    if (!next.ParseFromString(set_bytes)) Fail(where + ": the new set does not parse");
    auto parsed = ValidatorSet::FromProto(next);
    if (!parsed.ok()) Fail(where + ": " + parsed.status().message());
    set = *parsed;
  }
  return set;
}

MerkleProof PathField(const json& inc, const char* field, size_t index, uint64_t leaf_count,
                      const std::string& where) {
  MerkleProof path;
  path.index = index;
  path.leaf_count = leaf_count;
  const json& hashes = Field(inc, field, where + " inclusion");
  if (!hashes.is_array() || hashes.size() > 64)
    Fail(fmt::format("{}: the inclusion's '{}' is malformed", where, field));
  for (const json& h : hashes) {
    auto hash = h.is_string() ? Hash32FromHex(h.get<std::string>()) : std::nullopt;
    if (!hash) Fail(fmt::format("{}: the inclusion's '{}' is malformed", where, field));
    path.path.push_back(*hash);
  }
  return path;
}

// A counted behaviour record (entry i). The counted-record index is outside the state tree, so
// the record is proven through the attestation batch its outcome names, whose entry the proof must
// hold too (matched to the state root): the record, by its Merkle path, is in the batch's
// records_root, and its outcome (the entry's value: counted, not a duplicate) is at the same
// position of the batch's outcomes_root.
void CheckRecordInclusion(const json& entries, size_t i) {
  const json& e = entries[i];
  const std::string where = fmt::format("entry {} (record)", i);
  if (Field(e, "value", where).is_null())
    Fail(where + ": a record proof must show a counted record");
  const std::string outcome_bytes = HexField(e, "value", where);
  pb::RecordRef ref;
  if (!ref.ParseFromString(outcome_bytes)) Fail(where + ": the value does not parse");
  if (ref.duplicate()) Fail(where + ": the outcome is a duplicate, not a counted record");
  const json& inc = Field(e, "inclusion", where);
  const std::string record_bytes = HexField(inc, "record", where + " inclusion");
  pb::BehaviourRecord record;
  if (!record.ParseFromString(record_bytes)) Fail(where + ": the included record does not parse");
  if (record.record_id() != ToString(*FromHex(e["subject"]["record_id"].get<std::string>())))
    Fail(where + ": the included record has another record id");
  const json* batch_entry = nullptr;
  for (const json& other : entries) {
    if (other.value("kind", "") == "attestation" &&
        other["subject"].value("seq", uint64_t{0}) == ref.batch())
      batch_entry = &other;
  }
  if (!batch_entry) Fail(fmt::format("{}: the proof lacks its batch {}", where, ref.batch()));
  pb::AttestationBatch batch;
  if ((*batch_entry)["value"].is_null() ||
      !batch.ParseFromString(HexField(*batch_entry, "value", where + " batch")))
    Fail(fmt::format("{}: batch {} is not in the proven state", where, ref.batch()));
  if (batch.provider() != ToString(*FromHex(e["subject"]["provider"].get<std::string>())))
    Fail(where + ": the batch is another provider's");
  const uint64_t index = U64Field(inc, "index", where + " inclusion");
  const uint64_t leaf_count = U64Field(inc, "leaf_count", where + " inclusion");
  if (index != ref.index() || leaf_count != batch.record_count())
    Fail(where + ": the inclusion's position does not match the outcome and its batch");
  // The record and its outcome sit at the same position of the batch's two trees.
  auto check_in = [&](std::string_view what, const std::string& leaf_data, const char* path_field,
                      const std::string& root_bytes, std::string_view root_name) {
    const MerkleProof path = PathField(inc, path_field, index, leaf_count, where);
    auto root = ToHash32(AsBytes(root_bytes));
    if (!root || !MerkleVerify(*root, MerkleLeafHash(AsBytes(leaf_data)), path)) {
      Fail(fmt::format("{}: the {} is not in its batch's {} (the {} or its path was altered)",
                       where, what, root_name, what));
    }
  };
  check_in("record", record_bytes, "path", batch.records_root(), "records_root");
  check_in("outcome", outcome_bytes, "outcome_path", batch.outcomes_root(), "outcomes_root");
}

void CheckProof(const GenesisDoc& genesis, const json& proof, uint64_t* height_out) {
  if (!proof.is_object()) Fail("the proof is not a JSON object");
  if (proof.value("format", "") != kProofFormat)
    Fail(fmt::format("field 'format' must be '{}'", kProofFormat));
  if (proof.value("chain_id", "") != genesis.chain_id)
    Fail(fmt::format("the proof is of chain '{}', the genesis file of '{}'",
                     proof.value("chain_id", ""), genesis.chain_id));
  if (HexField(proof, "genesis_hash", "proof") != AsString(ByteView(genesis.doc_hash)))
    Fail("the proof's genesis_hash is not the genesis file's hash");
  const uint64_t height = U64Field(proof, "height", "proof");
  const ValidatorSet set = SetAt(genesis, Field(proof, "validator_changes", "proof"), height + 1);
  pb::BlockHeader h = CheckCertifiedHeader(
      genesis, set, height + 1, HexField(proof, "header", "proof"),
      HexField(proof, "commit", "proof"), fmt::format("header of block {}", height + 1));
  if (h.state_root() != HexField(proof, "state_root", "proof"))
    Fail(fmt::format("field 'state_root' is not the one block {} commits to", height + 1));
  auto root = ToHash32(AsBytes(h.state_root()));
  if (!root) Fail("the header's state root is not 32 bytes");
  const json& entries = Field(proof, "entries", "proof");
  if (!entries.is_array() || entries.empty()) Fail("field 'entries' must be a non-empty array");
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& e = entries[i];
    const std::string kind = e.value("kind", "");
    const std::string where = fmt::format("entry {} ({})", i, kind);
    auto subject = MakeProofSubject(kind, Field(e, "subject", where));
    if (!subject.ok()) Fail(where + ": " + subject.status().message());
    if (HexField(e, "key", where) != AsString(ByteView(subject->key)))
      Fail(where + ": the key is not the one its subject names");
    if (kind == "record") continue;  // proven through its batch, below
    std::optional<Bytes> value;
    if (!Field(e, "value", where).is_null()) value = ToBytes(HexField(e, "value", where));
    if (!VerifySmtProof(*root, subject->key, value, ProofField(e, "smt_proof", where)))
      Fail(where +
           ": the value does not match the state root (the value or its proof was altered)");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].value("kind", "") == "record") CheckRecordInclusion(entries, i);
  }
  if (height_out) *height_out = height;
}

// A readable field of the certificate must equal the proven one.
void Same(const json& cert, const char* section, const char* field, const json& proven) {
  const json& claimed = Field(Field(cert, section, "certificate"), field, section);
  if (claimed != proven) {
    Fail(fmt::format("certificate field '{}.{}' says {} but the proven record says {}", section,
                     field, claimed.dump(), proven.dump()));
  }
}

void CheckCertificate(const GenesisDoc& genesis, const json& cert) {
  if (!cert.is_object() || cert.value("format", "") != kCertificateFormat)
    Fail(fmt::format("not a retirement certificate: field 'format' must be '{}'",
                     kCertificateFormat));
  const json& proof = Field(cert, "proof", "certificate");
  uint64_t height = 0;
  CheckProof(genesis, proof, &height);
  const json& entries = proof["entries"];
  if (entries.size() != 2 || entries[0].value("kind", "") != "retirement" ||
      entries[1].value("kind", "") != "batch") {
    Fail("the certificate's proof must hold the retirement record and its batch");
  }
  auto record_of = [](const json& e, google::protobuf::Message& m, const char* what) {
    if (e["value"].is_null()) Fail(fmt::format("the proof shows that no such {} exists", what));
    std::string bytes = ToString(*FromHex(e["value"].get<std::string>()));
    if (!m.ParseFromString(bytes)) Fail(fmt::format("the proven {} record does not parse", what));
    return rpc::ProtoToJson(m);
  };
  pb::Retirement r;
  pb::CreditBatch b;
  const json rj = record_of(entries[0], r, "retirement");
  const json bj = record_of(entries[1], b, "batch");
  if (r.height() != height)
    Fail(fmt::format("the proof is of block {}, but the retirement was recorded in block {}",
                     height, r.height()));
  if (r.batch() != b.serial()) Fail("the proven batch is not the retirement's batch");
  Same(cert, "retirement", "id", r.id());
  Same(cert, "retirement", "kind", rj["kind"]);
  Same(cert, "retirement", "retired_by", rj["holder"]);
  Same(cert, "retirement", "on_behalf_of", r.beneficiary());
  Same(cert, "retirement", "purpose", rj["purpose"]);
  Same(cert, "retirement", "purpose_text", r.purpose_text());
  Same(cert, "retirement", "region", r.region());
  Same(cert, "retirement", "period", r.period());
  Same(cert, "retirement", "batch", r.batch());
  Same(cert, "retirement", "grams", r.grams());
  Same(cert, "retirement", "height", r.height());
  Same(cert, "retirement", "tx_hash", rj["tx_hash"]);
  Same(cert, "batch", "serial", b.serial());
  Same(cert, "batch", "region", b.region());
  Same(cert, "batch", "methodology", b.methodology_id());
  Same(cert, "batch", "methodology_version", b.methodology_version());
  Same(cert, "batch", "project", b.project());
  Same(cert, "batch", "vintage_start", b.vintage_start());
  Same(cert, "batch", "vintage_end", b.vintage_end());
  // The time: the header of the retirement's block, linked to the certified header by its hash.
  const std::string header_bytes = HexField(cert, "block_header", "certificate");
  pb::BlockHeader retired_in;
  if (!retired_in.ParseFromString(header_bytes) || retired_in.height() != height)
    Fail(fmt::format("field 'block_header' is not the header of block {}", height));
  pb::BlockHeader certified;
  certified.ParseFromString(HexField(proof, "header", "proof"));  // checked by CheckProof
  if (AsString(ByteView(BlockHash(AsBytes(header_bytes)))) != certified.parent_hash())
    Fail(
        fmt::format("field 'block_header' is not block {} of the certified chain (its hash is "
                    "not the parent of block {})",
                    height, height + 1));
  Same(cert, "retirement", "time_ms", retired_in.time_ms());
  Same(cert, "retirement", "time", FormatUtcTime(retired_in.time_ms()));
}

}  // namespace

Status VerifyProof(const GenesisDoc& genesis, const json& proof, uint64_t* height) {
  try {
    CheckProof(genesis, proof, height);
    return Status::Ok();
  } catch (const Failed& f) {
    return FailedPrecondition(f.what());
  } catch (const json::exception& e) {
    return FailedPrecondition(fmt::format("the proof is malformed: {}", e.what()));
  }
}

Status VerifyCertificate(const GenesisDoc& genesis, const json& certificate) {
  try {
    CheckCertificate(genesis, certificate);
    return Status::Ok();
  } catch (const Failed& f) {
    return FailedPrecondition(f.what());
  } catch (const json::exception& e) {
    return FailedPrecondition(fmt::format("the certificate is malformed: {}", e.what()));
  }
}

}  // namespace puhui
