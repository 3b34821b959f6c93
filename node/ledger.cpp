#include "node/ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "chain/limits.h"
#include "chain/merkle.h"
#include "chain/signing.h"
#include "consensus/block_time.h"
#include "contracts/genesis_state.h"
#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"
#include "node/evidence.h"
#include "node/signature_slices.h"
#include "node/thread_name.h"

namespace puhui {

namespace {

// The changes that reach the state tree (contracts/state_keys.h: InStateTree); `scratch` holds
// them when some keys are left out.
const StateChanges& TreeChanges(const StateChanges& changes, StateChanges& scratch) {
  if (std::all_of(changes.begin(), changes.end(),
                  [](const auto& change) { return InStateTree(change.first); })) {
    return changes;
  }
  for (const auto& [key, value] : changes) {
    if (InStateTree(key)) scratch.emplace_hint(scratch.end(), key, value);
  }
  return scratch;
}

}  // namespace

// State as of the head: the block in flight's changes over the store. Holds its own reference to
// that block, so a write that finishes meanwhile changes nothing it answers (the store then holds
// the same values). With a StateCache (only on the committing thread) it asks that first and
// keeps what it reads there.
class Ledger::HeadReader : public StateReader {
 public:
  explicit HeadReader(const Ledger& ledger, StateCache* cache = nullptr)
      : store_(*ledger.store_), pending_(ledger.PendingBlock()), cache_(cache) {}
  Result<std::optional<Bytes>> Get(ByteView key) const override {
    std::optional<Bytes> value;
    if (cache_ && cache_->Find(key, value)) return value;
    if (pending_) {
      const StateChanges& changes = pending_->block->outcome.changes;
      if (auto it = changes.find(key); it != changes.end()) return it->second;
    }
    auto stored = store_.GetState(key);
    if (cache_ && stored.ok()) cache_->Put(key, *stored);
    return stored;
  }

 private:
  const BlockStore& store_;
  std::shared_ptr<const Ledger::Pending> pending_;
  StateCache* cache_;
};

// Tree nodes as of the head: the nodes of the block in flight are read from its update, laid out
// where the node log will hold them, until the log has them.
class Ledger::HeadNodes : public SmtNodeSource {
 public:
  HeadNodes(const BlockStore& store, std::shared_ptr<const Ledger::Pending> pending)
      : store_(store), pending_(std::move(pending)) {}
  bool ReadSmtNode(const SmtRef& ref, Bytes& out) const override {
    if (pending_) {
      const SmtUpdate& tree = pending_->block->tree;
      const uint64_t end = tree.base + tree.node_bytes.size();
      if (ref.ptr.length != 0 && ref.ptr.offset >= tree.base && ref.ptr.offset < end) {
        if (ref.ptr.length > end - ref.ptr.offset) return false;
        const auto at =
            tree.node_bytes.begin() + static_cast<ptrdiff_t>(ref.ptr.offset - tree.base);
        out.assign(at, at + ref.ptr.length);
        return true;
      }
    }
    return store_.ReadSmtNode(ref, out);
  }
  uint64_t NextNodeOffset() const override {
    if (!pending_) return store_.NextNodeOffset();
    const SmtUpdate& tree = pending_->block->tree;
    return tree.base + tree.node_bytes.size();
  }
  bool NeedsPlaces() const override { return true; }

 private:
  const BlockStore& store_;
  std::shared_ptr<const Ledger::Pending> pending_;
};

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& data_dir, const GenesisDoc& genesis,
                                             bool durable, const BlockStore::Note& note) {
  PUHUI_RETURN_IF_ERROR(ValidateGenesisRegistry(genesis));
  auto validators = ValidatorSet::FromProto(genesis.validators);
  if (!validators.ok()) return validators.status();
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", data_dir, ec.message()));
  auto store = BlockStore::Open(data_dir, durable, note);
  if (!store.ok()) return store.status();
  std::unique_ptr<BlockStore> s = std::move(*store);
  if (!s->Meta()) {
    StateChanges state = GenesisState(genesis);
    MemorySmtNodes empty;
    StateChanges scratch;
    auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), TreeChanges(state, scratch));
    if (!tree.ok()) return tree.status();
    PUHUI_RETURN_IF_ERROR(s->InitGenesis(genesis.doc_hash, state, *tree, genesis.genesis_time_ms,
                                         validators->hash()));
  } else if (s->GenesisHash() != genesis.doc_hash) {
    auto stored = s->GenesisHash();
    return FailedPrecondition(fmt::format(
        "the data in '{}' belongs to another genesis (stored {}, this genesis.json hashes to {}); "
        "use the network's original genesis file or a fresh data directory",
        data_dir, stored ? Hex(*stored) : "none", Hex(genesis.doc_hash)));
  }
  std::unique_ptr<Ledger> ledger(new Ledger(genesis, std::move(*validators), std::move(s)));
  PUHUI_RETURN_IF_ERROR(ledger->LoadValidators());
  return ledger;
}

Ledger::~Ledger() {
  static_cast<void>(WaitDurable());  // a failed write stops the node through its next commit
  {
    std::lock_guard lock(writer_mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::shared_ptr<const Ledger::Pending> Ledger::PendingBlock() const {
  std::lock_guard lock(pending_mu_);
  return pending_;
}

Status Ledger::LoadValidators() {
  HeadReader reader(*this);
  auto sets = ReadValidatorSets(reader, Head().height());
  if (!sets.ok()) return sets.status();
  auto load = [&](const std::optional<pb::ValidatorSet>& stored) -> Result<ValidatorSet> {
    if (!stored) return genesis_validators_;  // a chain from before sets were kept in state
    return ValidatorSet::FromProto(*stored);
  };
  auto next = load(sets->next);
  if (!next.ok()) return Corruption("stored validator set: " + next.status().message());
  auto at_tip = load(sets->at_tip);
  if (!at_tip.ok()) return Corruption("stored validator set: " + at_tip.status().message());
  std::lock_guard lock(validators_mu_);
  validators_ = std::move(*next);
  tip_validators_ = std::move(*at_tip);
  return Status::Ok();
}

ValidatorSet Ledger::CurrentValidators() const {
  std::lock_guard lock(validators_mu_);
  return validators_;
}

pb::ChainMeta Ledger::Tip() const {
  auto meta = store_->Meta();
  PUHUI_CHECK(meta.has_value(), "ledger without genesis");
  return *meta;
}

pb::ChainMeta Ledger::Head() const {
  // The pending block first: its write may end (and the store's tip move to it) in between.
  if (auto pending = PendingBlock()) return pending->meta;
  return Tip();
}

uint64_t Ledger::CommittedNonce(const PublicKey& sender) const {
  uint64_t generation = 0;
  if (auto cached = nonces_.Find(sender, generation)) return *cached;
  HeadReader reader(*this);
  auto account = ReadAccount(reader, sender);
  if (!account.ok()) return 0;  // an unreadable record: not cached, asked again next time
  nonces_.Offer(sender, account->nonce(), generation);
  return account->nonce();
}

void Ledger::RememberNonces(const StateChanges& changes) {
  const ByteView prefix = AsBytes(state_keys::kAccountPrefix);
  std::vector<std::pair<PublicKey, uint64_t>> nonces;
  for (auto it = changes.lower_bound(prefix); it != changes.end(); ++it) {
    const Bytes& key = it->first;
    if (key.size() < prefix.size() || !std::equal(prefix.begin(), prefix.end(), key.begin())) break;
    const auto sender = state_keys::AccountAddress(key);
    if (!sender) continue;
    pb::Account account;
    uint64_t nonce = 0;  // a removed or unreadable record reads as nonce 0, as CommittedNonce does
    if (it->second && account.ParseFromArray(it->second->data(), int(it->second->size()))) {
      nonce = account.nonce();
    }
    nonces.emplace_back(*sender, nonce);
  }
  nonces_.Committed(nonces);
}

Result<ExecutedBlock> Ledger::Finish(ExecutedBlock b) const {
  auto pending = PendingBlock();  // once: its write may end meanwhile
  HeadNodes nodes(*store_, pending);
  std::optional<SmtRef> root;
  uint64_t height = 0;
  if (pending) {
    root = pending->block->tree.root_ref();
    height = pending->meta.height();
  } else {
    pb::ChainMeta tip = Tip();
    root = store_->StateTreeAt(tip.height());
    height = tip.height();
    if (root && ToString(root->hash) != tip.state_root()) root.reset();
  }
  if (!root) {
    return Corruption(fmt::format("the store holds no state tree for its tip {}", height));
  }
  // The receipts' bytes and root on a helper thread while the tree is updated: neither reads
  // what the other writes.
  std::jthread receipts([&b] {
    b.receipt_bytes.reserve(b.outcome.receipts.size());
    for (const auto& r : b.outcome.receipts) b.receipt_bytes.push_back(r.SerializeAsString());
    b.receipts_root = ReceiptsRoot(b.receipt_bytes);
  });
  StateChanges scratch;
  auto tree = SparseMerkleTree::Update(nodes, *root, TreeChanges(b.outcome.changes, scratch));
  receipts.join();
  if (!tree.ok()) return tree.status();
  b.tree = std::move(*tree);
  return b;
}

uint64_t Ledger::BlockTime(const pb::ChainMeta& tip, const pb::Commit& last_commit) const {
  uint64_t median =
      tip.height() == 0 ? 0 : consensus::WeightedMedianTimeMs(last_commit, tip_validators_);
  return std::min(std::max(median, tip.time_ms() + 1), kMaxBlockTimeMs);
}

bool Ledger::EvidenceCommitted(const Bytes& key) const {
  HeadReader reader(*this);
  auto v = reader.Get(key);
  return !v.ok() || v->has_value();  // an unreadable store counts as "there": never twice
}

Status Ledger::RecordEvidence(ExecutedBlock& b) const {
  const auto& all = b.block.evidence();
  if (static_cast<size_t>(all.size()) > kMaxEvidencePerBlock) {
    return InvalidArgument(fmt::format("block {}: {} pieces of evidence; the limit is {}",
                                       b.header.height(), all.size(), kMaxEvidencePerBlock));
  }
  std::set<Bytes> keys;
  for (const auto& e : all) {
    Bytes key;
    Status s = CheckEvidence(chain_id(), validators_, e, b.header.height(), &key);
    if (!s.ok())
      return InvalidArgument(fmt::format("block {}: {}", b.header.height(), s.message()));
    if (!keys.insert(key).second || EvidenceCommitted(key)) {
      return InvalidArgument(fmt::format(
          "block {}: evidence of a double sign that is already recorded", b.header.height()));
    }
    const std::string bytes = e.SerializeAsString();
    b.outcome.changes[key] = Bytes(bytes.begin(), bytes.end());
  }
  return Status::Ok();
}

Result<ExecutedBlock> Ledger::Propose(std::vector<DecodedTx> candidates, const PublicKey& proposer,
                                      std::vector<Hash32>* dropped,
                                      const std::vector<pb::DuplicateVoteEvidence>& evidence) {
  pb::ChainMeta tip = Head();
  const uint64_t height = tip.height() + 1;
  if (tip.time_ms() >= kMaxBlockTimeMs) return Corruption("the chain's time has reached its end");
  ExecutedBlock b;
  if (height > 1) {
    auto pending = PendingBlock();
    auto last_commit = pending && pending->meta.height() == tip.height()
                           ? std::optional<std::string>(pending->commit_bytes)
                           : store_->GetCommit(tip.height());
    if (!last_commit || !b.block.mutable_last_commit()->ParseFromString(*last_commit)) {
      return Corruption(fmt::format("commit of height {} is missing or unreadable", tip.height()));
    }
  }
  BlockContext ctx{chain_id(), height, BlockTime(tip, b.block.last_commit())};

  HeadReader committed(*this, &state_cache_);
  StateOverlay state(&committed, StateOverlay::Reads::kRemember);
  size_t bytes = 0;
  for (auto& tx : candidates) {
    if (b.txs.size() >= genesis_.params.max_block_txs ||
        bytes + tx.envelope_bytes.size() > kMaxBlockBytes / 2) {
      break;
    }
    auto receipt = ApplyTx(state, ctx, tx, static_cast<uint32_t>(b.txs.size()));
    if (!receipt.ok()) {
      if (receipt.status().code() == StatusCode::kCorruption ||
          receipt.status().code() == StatusCode::kIoError) {
        return receipt.status();
      }
      if (dropped) dropped->push_back(tx.id);
      continue;
    }
    bytes += tx.envelope_bytes.size();
    b.outcome.receipts.push_back(std::move(*receipt));
    b.txs.push_back(std::move(tx));
  }
  PUHUI_RETURN_IF_ERROR(ApplyValidatorChanges(state, height));
  b.outcome.changes = state.TakeChanges();

  std::vector<Hash32> ids;
  ids.reserve(b.txs.size());
  for (const auto& tx : b.txs) {
    ids.push_back(MerkleLeafHash(tx.id));
    b.block.add_txs(tx.envelope_bytes);
  }
  b.header.set_chain_id(chain_id());
  b.header.set_height(height);
  b.header.set_time_ms(ctx.time_ms);
  b.header.set_proposer(ToString(proposer.bytes));
  b.header.set_parent_hash(tip.block_hash());
  b.header.set_tx_root(ToString(MerkleRoot(ids)));
  b.header.set_state_root(tip.state_root());
  b.header.set_receipts_root(tip.receipts_root());
  b.header.set_validators_hash(ToString(validators_.hash()));
  b.header.set_last_commit_hash(ToString(CommitHash(b.block.last_commit())));
  b.header.set_tx_count(static_cast<uint32_t>(b.txs.size()));
  std::set<Bytes> evidence_keys;
  for (const auto& e : evidence) {
    if (static_cast<size_t>(b.block.evidence_size()) >= kMaxEvidencePerBlock) break;
    Bytes key;
    if (!CheckEvidence(chain_id(), validators_, e, height, &key).ok()) continue;
    if (EvidenceCommitted(key) || !evidence_keys.insert(key).second) continue;
    *b.block.add_evidence() = e;
  }
  if (b.block.evidence_size() > 0) {
    b.header.set_evidence_hash(ToString(EvidenceRoot(b.block.evidence())));
  }
  PUHUI_RETURN_IF_ERROR(RecordEvidence(b));
  b.block.set_header(b.header.SerializeAsString());
  b.hash = BlockHash(AsBytes(b.block.header()));
  return Finish(std::move(b));
}

Result<ExecutedBlock> Ledger::Validate(const std::string& block_bytes, VerifierPool& verifier,
                                       bool check_signatures, const TxLookup& known,
                                       const VerifiedSink& on_verified) const {
  if (block_bytes.size() > kMaxBlockBytes) return InvalidArgument("block exceeds kMaxBlockBytes");
  ExecutedBlock b;
  if (!b.block.ParseFromString(block_bytes)) return InvalidArgument("block does not parse");
  if (!b.header.ParseFromString(b.block.header()))
    return InvalidArgument("block header does not parse");
  // The block hash is a hash of the header bytes, so only the one encoding of these fields that
  // Propose writes is accepted; a re-encoding (fields repeated, reordered or unknown, varints
  // padded) would otherwise give the same block another hash.
  pb::BlockHeader canonical = b.header;
  canonical.DiscardUnknownFields();
  if (canonical.SerializeAsString() != b.block.header()) {
    return InvalidArgument(
        fmt::format("block {}: header is not in canonical encoding", b.header.height()));
  }
  pb::ChainMeta tip = Head();
  const pb::BlockHeader& h = b.header;
  auto mismatch = [&](const char* field) {
    return InvalidArgument(
        fmt::format("block {}: header field '{}' does not match the chain", h.height(), field));
  };
  if (h.chain_id() != chain_id()) return mismatch("chain_id");
  if (h.height() != tip.height() + 1) return mismatch("height");
  if (tip.time_ms() >= kMaxBlockTimeMs) return Corruption("the chain's time has reached its end");
  // Block time is agreed: the weighted median of the previous block's precommit times
  // (consensus/block_time.h), kept strictly increasing.
  if (h.time_ms() != BlockTime(tip, b.block.last_commit())) return mismatch("time_ms");
  auto proposer = ToHash32(AsBytes(h.proposer()));
  if (!proposer || !validators_.PowerOf(*proposer)) {
    return InvalidArgument(
        fmt::format("block {}: the proposer is not in the validator set", h.height()));
  }
  if (h.parent_hash() != tip.block_hash()) return mismatch("parent_hash");
  if (h.state_root() != tip.state_root()) return mismatch("state_root");
  if (h.receipts_root() != tip.receipts_root()) return mismatch("receipts_root");
  if (h.validators_hash() != AsString(ByteView(validators_.hash())))
    return mismatch("validators_hash");
  if (h.last_commit_hash() != AsString(ByteView(CommitHash(b.block.last_commit())))) {
    return mismatch("last_commit_hash");
  }
  if (h.tx_count() != static_cast<uint32_t>(b.block.txs_size())) return mismatch("tx_count");
  const std::string evidence_hash =
      b.block.evidence_size() == 0 ? std::string() : ToString(EvidenceRoot(b.block.evidence()));
  if (h.evidence_hash() != evidence_hash) return mismatch("evidence_hash");
  // The limits Propose keeps (docs/formats.md).
  if (static_cast<uint64_t>(b.block.txs_size()) > genesis_.params.max_block_txs) {
    return InvalidArgument(fmt::format("block {}: {} transactions; the limit is {}", h.height(),
                                       b.block.txs_size(), genesis_.params.max_block_txs));
  }
  size_t tx_bytes = 0;
  for (const auto& raw : b.block.txs()) tx_bytes += raw.size();
  if (tx_bytes > kMaxBlockBytes / 2) {
    return InvalidArgument(fmt::format("block {}: {} bytes of transactions; the limit is {}",
                                       h.height(), tx_bytes, kMaxBlockBytes / 2));
  }
  if (h.height() > 1) {
    auto parent = ToHash32(AsBytes(tip.block_hash()));
    PUHUI_RETURN_IF_ERROR(
        VerifyCommit(chain_id(), tip_validators_, tip.height(), *parent, b.block.last_commit()));
  } else if (b.block.has_last_commit()) {
    return InvalidArgument("block 1: carries a last_commit, but nothing precedes it");
  }
  std::vector<Hash32> ids;
  std::vector<size_t> decoded_here;
  for (const auto& raw : b.block.txs()) {
    if (known) {
      auto id = PeekTxId(raw);
      std::optional<DecodedTx> held = id ? known(*id) : std::nullopt;
      if (held && held->envelope_bytes == raw) {  // the same bytes: the signature that verified
        ids.push_back(MerkleLeafHash(held->id));
        b.txs.push_back(std::move(*held));
        continue;
      }
    }
    decoded_here.push_back(b.txs.size());
    auto tx = DecodeTx(chain_id(), raw);
    if (!tx.ok())
      return InvalidArgument(fmt::format("block {}: {}", h.height(), tx.status().message()));
    ids.push_back(MerkleLeafHash(tx->id));
    b.txs.push_back(std::move(*tx));
  }
  if (h.tx_root() != AsString(ByteView(MerkleRoot(ids)))) return mismatch("tx_root");
  if (check_signatures) {
    std::vector<const DecodedTx*> ptrs;
    for (size_t i : decoded_here) ptrs.push_back(&b.txs[i]);
    SliceChecks how;
    // Held meanwhile: the mempool took the very envelope (its signature verified there).
    how.held = [&](const DecodedTx& tx) {
      if (!known) return false;
      auto held = known(tx.id);
      return held && held->envelope_bytes == tx.envelope_bytes;
    };
    how.used = [](const DecodedTx&) { return false; };  // the block's own nonces are checked later
    how.verify = [&](std::span<const DecodedTx* const> slice, const TxPredicate& needed) {
      std::vector<SignatureCheck> checks = verifier.Verify(slice, needed);
      if (on_verified) {
        std::vector<const DecodedTx*> good;
        for (size_t k = 0; k < checks.size(); ++k) {
          if (checks[k] == SignatureCheck::kGood) good.push_back(slice[k]);
        }
        if (!good.empty()) on_verified(good);
      }
      return checks;
    };
    const std::vector<SliceCheck> checked = CheckInSlices(ptrs, how);
    for (size_t j = 0; j < checked.size(); ++j) {
      if (checked[j] == SliceCheck::kBad)
        return Unauthenticated(fmt::format("block {}: transaction {} has a bad signature",
                                           h.height(), decoded_here[j]));
      if (checked[j] == SliceCheck::kGood) b.checked_here.push_back(decoded_here[j]);
    }
  }
  HeadReader reader(*this, &state_cache_);
  auto outcome = ApplyBlock(reader, BlockContext{chain_id(), h.height(), h.time_ms()}, b.txs);
  if (!outcome.ok()) return outcome.status();
  b.outcome = std::move(*outcome);
  PUHUI_RETURN_IF_ERROR(RecordEvidence(b));
  b.hash = BlockHash(AsBytes(b.block.header()));
  return Finish(std::move(b));
}

pb::ChainMeta Ledger::MetaAfter(const ExecutedBlock& b) {
  pb::ChainMeta meta;
  meta.set_height(b.header.height());
  meta.set_block_hash(ToString(b.hash));
  meta.set_state_root(ToString(b.tree.root));
  meta.set_receipts_root(ToString(b.receipts_root));
  meta.set_time_ms(b.header.time_ms());
  meta.set_validators_hash(b.header.validators_hash());
  return meta;
}

BlockCommit Ledger::MakeBlockCommit(const ExecutedBlock& b, std::string commit_bytes) {
  BlockCommit c;
  c.height = b.header.height();
  c.block_hash = b.hash;
  c.block_bytes = b.block.SerializeAsString();
  c.commit_bytes = std::move(commit_bytes);
  c.tx_ids.reserve(b.txs.size());
  for (const auto& tx : b.txs) c.tx_ids.push_back(tx.id);
  c.receipts = b.receipt_bytes;
  c.state_changes = &b.outcome.changes;
  c.tree = &b.tree;
  c.meta = MetaAfter(b);
  return c;
}

Status Ledger::Advance(const StateChanges& changes) {
  state_cache_.Committed(changes);
  RememberNonces(changes);
  return LoadValidators();
}

Status Ledger::Commit(const ExecutedBlock& b, const pb::Commit& commit) {
  PUHUI_RETURN_IF_ERROR(WaitDurable());
  PUHUI_RETURN_IF_ERROR(VerifyCommit(chain_id(), validators_, b.header.height(), b.hash, commit));
  const BlockCommit c = MakeBlockCommit(b, commit.SerializeAsString());
  PUHUI_RETURN_IF_ERROR(store_->CommitBlock(c));
  PUHUI_RETURN_IF_ERROR(Advance(b.outcome.changes));
  if (on_commit_) on_commit_(c.height);
  return Status::Ok();
}

Status Ledger::CommitAsync(std::shared_ptr<const ExecutedBlock> b, const pb::Commit& commit) {
  PUHUI_CHECK(b != nullptr, "committing no block");
  PUHUI_RETURN_IF_ERROR(VerifyCommit(chain_id(), validators_, b->header.height(), b->hash, commit));
  PUHUI_RETURN_IF_ERROR(WaitDurable());  // the block before: one write in flight at most
  if (b->header.height() != Tip().height() + 1 || b->tree.base != store_->NextNodeOffset()) {
    return FailedPrecondition(
        fmt::format("block {} does not follow the tip {}", b->header.height(), Tip().height()));
  }
  auto pending = std::make_shared<Pending>();
  pending->block = std::move(b);
  pending->commit_bytes = commit.SerializeAsString();
  pending->meta = MetaAfter(*pending->block);
  {
    std::lock_guard lock(pending_mu_);
    pending_ = pending;
  }
  // The head moved: nonces and validator sets follow it now (readers that raced see it, or the
  // store once it holds the block: the same answers).
  Status advanced = Advance(pending->block->outcome.changes);
  std::shared_ptr<const Pending> retired;
  {
    std::lock_guard lock(pending_mu_);
    retired = std::exchange(retired_, nullptr);
  }
  {
    std::lock_guard writer_lock(writer_mu_);
    PUHUI_CHECK(!writing_, "a write already in flight");
    if (!writer_.joinable())
      writer_ = std::thread([this] {
        NameThisThread("ledger-writer");
        WriterLoop();
      });
    writing_ = true;
    write_ = [this, pending, retired = std::move(retired)]() mutable {
      const uint64_t height = pending->meta.height();
      if (before_write_) before_write_(height);
      // Built here, not on the committing thread: the block's bytes are a copy of ~1 MB.
      Status s = store_->CommitBlock(MakeBlockCommit(*pending->block, pending->commit_bytes));
      if (s.ok()) {
        {
          std::lock_guard lock(pending_mu_);
          if (pending_ == pending) pending_.reset();
          retired_ = pending;
        }
        if (on_commit_) on_commit_(height);
      }
      retired.reset();  // the block before, freed here if nothing else holds it
      return s;
    };
  }
  writer_cv_.notify_all();
  return advanced;
}

void Ledger::WriterLoop() {
  std::unique_lock lock(writer_mu_);
  for (;;) {
    writer_cv_.wait(lock, [this] { return write_ != nullptr || stopping_; });
    if (write_ == nullptr) return;  // stopping, nothing left to write
    auto write = std::move(write_);
    write_ = nullptr;
    lock.unlock();
    Status s = write();
    write = nullptr;  // what it captured is freed here, on this thread
    lock.lock();
    write_status_ = std::move(s);
    writing_ = false;
    writer_cv_.notify_all();
  }
}

Status Ledger::WaitDurable() {
  std::unique_lock lock(writer_mu_);
  writer_cv_.wait(lock, [this] { return !writing_; });
  return write_status_;
}

}  // namespace puhui
