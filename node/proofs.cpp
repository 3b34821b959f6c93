#include "node/proofs.h"

#include <fmt/format.h>

#include "chain/merkle.h"
#include "chain/smt.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"
#include "rpc/encode.h"

namespace puhui {
namespace {

using nlohmann::json;

std::string Text(const json& subject, const char* field) {
  auto it = subject.find(field);
  if (it == subject.end() || !it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > 128) {
    throw std::invalid_argument(fmt::format("'{}' must be a non-empty string", field));
  }
  return it->get<std::string>();
}

Result<pb::BlockHeader> HeaderAt(const BlockStore& store, uint64_t height, std::string* bytes) {
  auto raw = store.GetBlock(height);
  pb::Block block;
  pb::BlockHeader header;
  if (!raw || !block.ParseFromString(*raw) || !header.ParseFromString(block.header()))
    return Corruption(fmt::format("block {} is missing or does not parse", height));
  *bytes = block.header();
  return header;
}

// The header of `height` with its certificate, as hex.
Result<json> CertifiedHeader(const BlockStore& store, uint64_t height) {
  std::string header;
  auto parsed = HeaderAt(store, height, &header);
  if (!parsed.ok()) return parsed.status();
  auto commit = store.GetCommit(height);
  if (!commit) return Corruption(fmt::format("the certificate of block {} is missing", height));
  return json{{"header", Hex(AsBytes(header))}, {"commit", Hex(AsBytes(*commit))}};
}

Result<SmtProof> ProveAt(const BlockStore& store, uint64_t height, ByteView key, json* value) {
  auto root = store.StateTreeAt(height);
  if (!root) return NotFound(fmt::format("no state root stored for height {}", height));
  auto v = SparseMerkleTree::Get(store, *root, key);
  if (!v.ok()) return v.status();
  *value = *v ? json(Hex(**v)) : json(nullptr);
  return SparseMerkleTree::Prove(store, *root, key);
}

// Every validator-set change that takes effect at or before `up_to` (docs/audit.md): the new set,
// the header of the block before it (signed by the old set) and a proof that the state that header
// commits to holds the set as pending for that height.
Result<json> ValidatorChanges(const BlockStore& store, uint64_t up_to) {
  json out = json::array();
  const size_t prefix_size = state_keys::kValidatorsHistoryPrefix.size();
  Status s = ForEachState(
      store, state_keys::kValidatorsHistoryPrefix,
      [&](const Bytes& key, const Bytes& set) -> Status {
        uint64_t effective = 0;
        for (size_t i = prefix_size; i < key.size(); ++i) effective = effective << 8 | key[i];
        if (effective > up_to) return Status::Ok();  // later changes are not needed
        if (effective < 3) return Corruption("a validator-set change before height 3");
        auto certified = CertifiedHeader(store, effective - 1);
        if (!certified.ok()) return certified.status();
        json pending;
        auto proof =
            ProveAt(store, effective - 2, state_keys::ValidatorsPending(effective), &pending);
        if (!proof.ok()) return proof.status();
        if (pending != json(Hex(set))) {
          return Corruption(
              fmt::format("the set pending for height {} is not the one recorded", effective));
        }
        json change = std::move(*certified);
        change["effective_height"] = effective;
        change["set"] = Hex(set);
        change["pending_proof"] = rpc::SmtProofToJson(*proof);
        out.push_back(std::move(change));
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return out;
}

json Decoded(const std::string& kind, const json& value_hex) {
  if (value_hex.is_null()) return nullptr;
  auto bytes = FromHex(value_hex.get<std::string>());
  if (!bytes) return nullptr;
  if (kind == "balance") {
    auto v = DecodeU64(*bytes);
    return v ? json(*v) : json(nullptr);
  }
  if (kind == "batch") {
    pb::CreditBatch b;
    if (b.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return rpc::ProtoToJson(b);
  }
  if (kind == "retirement") {
    pb::Retirement r;
    if (r.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return rpc::ProtoToJson(r);
  }
  if (kind == "attestation") {
    pb::AttestationBatch b;
    if (b.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return rpc::ProtoToJson(b);
  }
  if (kind == "record") {
    pb::RecordRef r;
    if (r.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return rpc::ProtoToJson(r);
  }
  return nullptr;
}

}  // namespace

Result<std::vector<pb::BehaviourRecord>> AttestedRecords(const BlockStore& store,
                                                         const pb::AttestationBatch& batch) {
  auto tx_hash = ToHash32(AsBytes(batch.tx_hash()));
  auto loc = tx_hash ? store.GetTxLocation(*tx_hash) : std::nullopt;
  auto block_bytes = loc ? store.GetBlock(loc->height()) : std::nullopt;
  pb::Block block;
  pb::TxEnvelope env;
  pb::TxBody body;
  if (!block_bytes || !block.ParseFromString(*block_bytes) ||
      static_cast<int>(loc->index()) >= block.txs_size() ||
      !env.ParseFromString(block.txs(static_cast<int>(loc->index()))) ||
      !body.ParseFromString(env.body()) || !body.has_attest_behaviour()) {
    return Corruption(fmt::format("attestation batch {}: its transaction is not in the block store",
                                  batch.seq()));
  }
  const auto& records = body.attest_behaviour().records();
  return std::vector<pb::BehaviourRecord>(records.begin(), records.end());
}

Result<RecordPaths> ProveRecordInBatch(const BlockStore& store, const pb::AttestationBatch& batch,
                                       uint32_t index) {
  auto records = AttestedRecords(store, batch);
  if (!records.ok()) return records.status();
  if (index >= records->size()) return Corruption("a record position is out of range");
  auto provider = ToHash32(AsBytes(batch.provider()));
  if (!provider) return Corruption(fmt::format("attestation batch {}: bad provider", batch.seq()));
  std::vector<Hash32> leaves, outcomes;
  leaves.reserve(records->size());
  outcomes.reserve(records->size());
  RecordPaths out;
  for (uint32_t i = 0; i < records->size(); ++i) {
    const pb::BehaviourRecord& r = (*records)[i];
    const std::string bytes = r.SerializeAsString();
    leaves.push_back(MerkleLeafHash(AsBytes(bytes)));
    auto stored =
        store.GetState(personal_keys::Record(PublicKey{*provider}, AsBytes(r.record_id())));
    if (!stored.ok()) return stored.status();
    pb::RecordRef ref;
    std::string outcome;
    if (*stored && ref.ParseFromArray((*stored)->data(), static_cast<int>((*stored)->size())) &&
        ref.batch() == batch.seq() && ref.index() == i) {
      outcome.assign((*stored)->begin(), (*stored)->end());
    } else {
      outcome = DuplicateOutcome(batch.seq(), i).SerializeAsString();
    }
    outcomes.push_back(MerkleLeafHash(AsBytes(outcome)));
    if (i == index) {
      out.record = r;
      out.record_bytes = bytes;
      out.outcome_bytes = std::move(outcome);
    }
  }
  if (ToString(MerkleRoot(outcomes)) != batch.outcomes_root()) {
    return Corruption(fmt::format(
        "attestation batch {}: the counted-record index does not give the batch's outcomes_root",
        batch.seq()));
  }
  out.record_path = MerkleProve(leaves, index);
  out.outcome_path = MerkleProve(outcomes, index);
  return out;
}

namespace {

// For a counted record (its RecordRef): the record and its outcome with their Merkle paths to the
// batch's roots, and the subject of that batch's entry. The batch must be in the state after
// `height`.
Result<std::pair<json, ProofSubject>> RecordInclusion(const BlockStore& store, uint64_t height,
                                                      const pb::RecordRef& ref) {
  auto batch_subject = MakeProofSubject("attestation", {{"seq", ref.batch()}});
  if (!batch_subject.ok()) return batch_subject.status();
  auto root = store.StateTreeAt(height);
  if (!root) return NotFound(fmt::format("no state root stored for height {}", height));
  auto raw = SparseMerkleTree::Get(store, *root, batch_subject->key);
  if (!raw.ok()) return raw.status();
  pb::AttestationBatch batch;
  if (!*raw) {
    return FailedPrecondition(fmt::format(
        "the record was counted in attestation batch {}, which is not in the state after block "
        "{}; ask for a later height",
        ref.batch(), height));
  }
  if (!batch.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size())))
    return Corruption(fmt::format("attestation batch {} does not parse", ref.batch()));
  auto paths = ProveRecordInBatch(store, batch, ref.index());
  if (!paths.ok()) return paths.status();
  return std::pair<json, ProofSubject>{
      json{{"record", Hex(AsBytes(paths->record_bytes))},
           {"record_decoded", rpc::ProtoToJson(paths->record)},
           {"index", ref.index()},
           {"leaf_count", paths->record_path.leaf_count},
           {"path", rpc::MerklePathToJson(paths->record_path)},
           {"outcome_path", rpc::MerklePathToJson(paths->outcome_path)}},
      std::move(*batch_subject)};
}

}  // namespace

Result<ProofSubject> MakeProofSubject(const std::string& kind, const json& subject) {
  if (!subject.is_object()) return InvalidArgument("a proof subject must be a JSON object");
  try {
    ProofSubject s{kind, json::object(), {}};
    if (kind == "batch") {
      s.subject["serial"] = Text(subject, "serial");
      s.key = state_keys::Batch(s.subject["serial"].get<std::string>());
    } else if (kind == "balance") {
      s.subject["serial"] = Text(subject, "serial");
      s.subject["address"] = Text(subject, "address");
      auto address = Hash32FromHex(s.subject["address"].get<std::string>());
      if (!address) throw std::invalid_argument("'address' must be 64 hex characters");
      s.key = state_keys::Balance(s.subject["serial"].get<std::string>(), PublicKey{*address});
    } else if (kind == "retirement") {
      s.subject["id"] = Text(subject, "id");
      s.key = registry_keys::Retirement(s.subject["id"].get<std::string>());
    } else if (kind == "attestation") {
      auto it = subject.find("seq");
      if (it == subject.end() || !it->is_number_unsigned() || it->get<uint64_t>() == 0)
        throw std::invalid_argument("'seq' must be a positive integer");
      s.subject["seq"] = it->get<uint64_t>();
      s.key = personal_keys::Batch(it->get<uint64_t>());
    } else if (kind == "record") {
      s.subject["provider"] = Text(subject, "provider");
      s.subject["record_id"] = Text(subject, "record_id");
      auto provider = Hash32FromHex(s.subject["provider"].get<std::string>());
      auto record_id = Hash32FromHex(s.subject["record_id"].get<std::string>());
      if (!provider || !record_id)
        throw std::invalid_argument("'provider' and 'record_id' must be 64 hex characters");
      s.key = personal_keys::Record(PublicKey{*provider}, ByteView(*record_id));
    } else {
      return InvalidArgument(fmt::format(
          "unknown proof kind '{}'; use batch, balance, retirement, attestation or record", kind));
    }
    return s;
  } catch (const std::invalid_argument& e) {
    return InvalidArgument(fmt::format("{} proof: {}", kind, e.what()));
  }
}

Result<json> BuildProof(const BlockStore& store, const GenesisDoc& genesis, uint64_t height,
                        const std::vector<ProofSubject>& subjects) {
  auto tip = store.Meta();
  if (!tip) return FailedPrecondition("the store holds no chain");
  if (height >= tip->height()) {
    return FailedPrecondition(fmt::format(
        "the state after block {} is certified by block {}, which is not committed yet (tip {})",
        height, height + 1, tip->height()));
  }
  auto certified = CertifiedHeader(store, height + 1);
  if (!certified.ok()) return certified.status();
  auto changes = ValidatorChanges(store, height + 1);
  if (!changes.ok()) return changes.status();
  json entries = json::array();
  std::vector<ProofSubject> all = subjects;
  for (size_t i = 0; i < all.size(); ++i) {
    const ProofSubject s = all[i];
    if (s.kind == "record") {  // outside the state tree: proven through its batch
      auto stored = store.GetState(s.key);
      if (!stored.ok()) return stored.status();
      pb::RecordRef ref;
      if (!*stored) {
        return NotFound(fmt::format("record {} of provider {} has not been counted",
                                    s.subject["record_id"].get<std::string>(),
                                    s.subject["provider"].get<std::string>()));
      }
      if (!ref.ParseFromArray((*stored)->data(), static_cast<int>((*stored)->size())))
        return Corruption("a counted-record entry does not parse");
      auto inclusion = RecordInclusion(store, height, ref);
      if (!inclusion.ok()) return inclusion.status();
      const json value = Hex(**stored);
      entries.push_back({{"kind", s.kind},
                         {"subject", s.subject},
                         {"key", Hex(s.key)},
                         {"value", value},
                         {"record", Decoded(s.kind, value)},
                         {"inclusion", std::move(inclusion->first)}});
      all.push_back(std::move(inclusion->second));  // the batch's entry follows
      continue;
    }
    json value;
    auto proof = ProveAt(store, height, s.key, &value);
    if (!proof.ok()) return proof.status();
    entries.push_back({{"kind", s.kind},
                       {"subject", s.subject},
                       {"key", Hex(s.key)},
                       {"value", value},
                       {"record", Decoded(s.kind, value)},
                       {"smt_proof", rpc::SmtProofToJson(*proof)}});
  }
  return json{{"format", kProofFormat},
              {"chain_id", genesis.chain_id},
              {"genesis_hash", Hex(genesis.doc_hash)},
              {"height", height},
              {"state_root", Hex(*store.StateRootAt(height))},
              {"header", (*certified)["header"]},
              {"commit", (*certified)["commit"]},
              {"validator_changes", std::move(*changes)},
              {"entries", std::move(entries)}};
}

Result<json> BuildCertificate(const BlockStore& store, const GenesisDoc& genesis,
                              const std::string& id) {
  auto subject = MakeProofSubject("retirement", {{"id", id}});
  if (!subject.ok()) return subject.status();
  auto raw = store.GetState(subject->key);
  if (!raw.ok()) return raw.status();
  if (!*raw) return NotFound(fmt::format("no retirement '{}'", id));
  pb::Retirement r;
  if (!r.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size())))
    return Corruption(fmt::format("retirement '{}' does not parse", id));
  if (r.kind() == pb::RETIREMENT_KIND_CANCELLATION) {
    return FailedPrecondition(
        fmt::format("'{}' is a cancellation; certificates are for retirements and offsets", id));
  }
  auto batch = MakeProofSubject("batch", {{"serial", r.batch()}});
  if (!batch.ok()) return batch.status();
  auto proof = BuildProof(store, genesis, r.height(), {*subject, *batch});
  if (!proof.ok()) return proof.status();
  std::string header_bytes;
  auto header = HeaderAt(store, r.height(), &header_bytes);
  if (!header.ok()) return header.status();
  json record = rpc::ProtoToJson(r);
  const json& batch_record = (*proof)["entries"][1]["record"];
  return json{{"format", kCertificateFormat},
              {"chain_id", genesis.chain_id},
              {"retirement",
               {{"id", r.id()},
                {"kind", record["kind"]},
                {"retired_by", record["holder"]},
                {"on_behalf_of", r.beneficiary()},
                {"purpose", record["purpose"]},
                {"purpose_text", r.purpose_text()},
                {"region", r.region()},
                {"period", r.period()},
                {"batch", r.batch()},
                {"grams", r.grams()},
                {"height", r.height()},
                {"time", FormatUtcTime(header->time_ms())},
                {"time_ms", header->time_ms()},
                {"tx_hash", record["tx_hash"]}}},
              {"batch",
               {{"serial", r.batch()},
                {"region", batch_record.value("region", "")},
                {"methodology", batch_record.value("methodology_id", "")},
                {"methodology_version", batch_record.value("methodology_version", 0)},
                {"project", batch_record.value("project", "")},
                {"vintage_start", batch_record.value("vintage_start", 0)},
                {"vintage_end", batch_record.value("vintage_end", 0)}}},
              {"block_header", Hex(AsBytes(header_bytes))},
              {"proof", std::move(*proof)}};
}

}  // namespace puhui
