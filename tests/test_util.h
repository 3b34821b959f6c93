// Helpers shared by the test suites: deterministic keys, a small genesis, signed transactions,
// and temporary directories that clean themselves up.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "chain/genesis.h"
#include "chain/hash.h"
#include "chain/keys.h"
#include "chain/signing.h"
#include "contracts/tx.h"
#include "puhui.pb.h"

namespace puhui::testing {

inline PrivateKey KeyOf(const std::string& name) {
  return *PrivateKey::FromBytes(Sha256("puhui test key: " + name));
}

inline std::string Addr(const std::string& name) { return Hex(KeyOf(name).Public().bytes); }
inline std::string RawAddr(const std::string& name) { return ToString(KeyOf(name).Public().bytes); }

inline constexpr char kBatch[] = "SH-TEST-2025-0001";
inline constexpr char kChainId[] = "puhui-test-1";

// Regions SH and JS; validator "validator"; authorities "sh-auth" and "js-auth"; "owner" holds
// 1,000,000 g of kBatch.
inline std::string TestGenesisJson(uint64_t block_interval_ms = 50) {
  return std::string(R"({"chain_id": ")") + kChainId + R"(", "genesis_time": "2026-01-01T00:00:00Z",
    "regions": [{"code": "SH", "name": "Shanghai"}, {"code": "JS", "name": "Jiangsu"}],
    "validators": [{"name": "v", "region": "SH", "power": 10, "pub_key": ")" +
         Addr("validator") + R"("}],
    "accounts": [
      {"address": ")" +
         Addr("sh-auth") + R"(", "roles": [{"role": "authority", "region": "SH"}]},
      {"address": ")" +
         Addr("js-auth") + R"(", "roles": [{"role": "authority", "region": "JS"}]}],
    "credit_batches": [{"serial": ")" +
         kBatch + R"(", "region": "SH", "owner": ")" + Addr("owner") +
         R"(", "grams": 1000000}],
    "params": {"block_interval_ms": )" +
         std::to_string(block_interval_ms) + R"(, "max_block_txs": 5000}})";
}

inline GenesisDoc TestGenesis() { return *ParseGenesis(TestGenesisJson()); }

inline pb::TxBody Body(const std::string& sender, uint64_t nonce, uint64_t expiry = 1000) {
  pb::TxBody b;
  b.set_chain_id(kChainId);
  b.set_sender(RawAddr(sender));
  b.set_nonce(nonce);
  b.set_expiry_height(expiry);
  return b;
}

inline pb::TxBody TransferBody(const std::string& from, const std::string& to, uint64_t grams,
                               uint64_t nonce, const std::string& batch = kBatch) {
  pb::TxBody b = Body(from, nonce);
  b.mutable_transfer()->set_batch(batch);
  b.mutable_transfer()->set_to(RawAddr(to));
  b.mutable_transfer()->set_grams(grams);
  return b;
}

inline pb::TxBody GrantBody(const std::string& from, const std::string& account, pb::Role role,
                            const std::string& region, uint64_t nonce) {
  pb::TxBody b = Body(from, nonce);
  b.mutable_grant_role()->set_account(RawAddr(account));
  b.mutable_grant_role()->set_role(role);
  b.mutable_grant_role()->set_region(region);
  return b;
}

inline std::string Signed(const pb::TxBody& body, const std::string& signer) {
  return SignTx(body, KeyOf(signer));
}

// As Signed, with fixed auxiliary randomness: the same body and signer always give the same bytes,
// so that tests which mutate those bytes reproduce exactly.
inline std::string SignedDeterministically(const pb::TxBody& body, const std::string& signer) {
  pb::TxEnvelope envelope;
  envelope.set_body(body.SerializeAsString());
  Signature sig = KeyOf(signer).SignWithAux(
      SigningHash(body.chain_id(), SignKind::kTx, AsBytes(envelope.body())), Hash32{});
  envelope.add_signatures(ToString(ByteView(sig)));
  return envelope.SerializeAsString();
}

inline DecodedTx Decoded(const pb::TxBody& body, const std::string& signer) {
  auto tx = DecodeTx(kChainId, Signed(body, signer));
  if (!tx.ok()) throw std::runtime_error(tx.status().ToString());
  return *tx;
}

// Polls `done` every 10 ms until it holds or `wait` has passed; false if it never held. For
// tests that watch another thread's work (a node, a consensus loop) without a signal of its own.
template <typename F>
bool WaitUntil(F done, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("puhui-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace puhui::testing
