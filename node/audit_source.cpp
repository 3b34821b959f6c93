#include "node/audit_source.h"

#include <fmt/format.h>

#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "chain/block_store.h"
#include "node/rpc_client.h"

namespace puhui {
namespace {

namespace fs = std::filesystem;

class DataDirSource : public AuditSource {
 public:
  DataDirSource(std::string dir, std::unique_ptr<BlockStore> store, uint64_t tip)
      : dir_(std::move(dir)), store_(std::move(store)), tip_(tip) {}

  std::string Describe() const override { return "data directory " + dir_; }
  Result<Hash32> GenesisHash() override {
    auto h = store_->GenesisHash();
    if (!h) return Corruption(fmt::format("{}: no genesis record", dir_));
    return *h;
  }
  uint64_t TipHeight() const override { return tip_; }
  Result<SourceBlock> Block(uint64_t height) override {
    auto block = store_->GetBlock(height);
    auto commit = store_->GetCommit(height);
    if (!block) return Corruption(fmt::format("{}: block {} is missing", dir_, height));
    if (!commit)
      return Corruption(fmt::format("{}: certificate of block {} is missing", dir_, height));
    return SourceBlock{std::move(*block), std::move(*commit)};
  }
  std::optional<Hash32> ClaimedStateRoot(uint64_t height) override {
    return store_->StateRootAt(height);
  }
  std::optional<std::string> ClaimedReceipt(uint64_t height, uint32_t index) override {
    return store_->GetReceipt(height, index);
  }

 private:
  std::string dir_;
  std::unique_ptr<BlockStore> store_;
  uint64_t tip_;
};

class RpcSource : public AuditSource {
 public:
  static constexpr uint64_t kPage = 32;  // blocks per blocks_raw call

  RpcSource(std::string url, RpcClient client) : url_(std::move(url)), client_(std::move(client)) {}

  Status Init() {
    auto status = client_.Call("node_status");
    if (!status.ok()) return status.status();
    try {
      auto genesis = Hash32FromHex((*status)["genesis_hash"].get<std::string>());
      auto root = Hash32FromHex((*status)["state_root"].get<std::string>());
      if (!genesis || !root)
        return InvalidArgument("node_status: malformed genesis_hash or state_root");
      genesis_ = *genesis;
      tip_root_ = *root;
      tip_ = (*status)["latest_height"].get<uint64_t>();
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgument(fmt::format("node_status from {}: {}", url_, e.what()));
    }
    return Status::Ok();
  }

  std::string Describe() const override { return "node " + url_; }
  Result<Hash32> GenesisHash() override { return genesis_; }
  uint64_t TipHeight() const override { return tip_; }

  Result<SourceBlock> Block(uint64_t height) override {
    if (ahead_.empty() || next_ != height) {
      ahead_.clear();
      next_ = height;
      const uint64_t count = std::min(kPage, tip_ - height + 1);
      auto r = client_.Call("blocks_raw", {{"from", height}, {"count", count}});
      if (!r.ok()) return r.status();
      try {
        for (const auto& item : (*r)["blocks"]) {
          auto block = FromHex(item["block"].get<std::string>());
          auto commit = FromHex(item["commit"].get<std::string>());
          if (!block || !commit) return InvalidArgument("blocks_raw: a field is not hex");
          ahead_.push_back({ToString(*block), ToString(*commit)});
        }
      } catch (const nlohmann::json::exception& e) {
        return InvalidArgument(fmt::format("blocks_raw from {}: {}", url_, e.what()));
      }
      if (ahead_.empty()) return NotFound(fmt::format("{} returned no block {}", url_, height));
    }
    SourceBlock b = std::move(ahead_.front());
    ahead_.pop_front();
    ++next_;
    return b;
  }
  std::optional<Hash32> ClaimedStateRoot(uint64_t height) override {
    if (height == tip_) return tip_root_;
    return std::nullopt;
  }
  std::optional<std::string> ClaimedReceipt(uint64_t, uint32_t) override { return std::nullopt; }

 private:
  std::string url_;
  RpcClient client_;
  Hash32 genesis_{};
  Hash32 tip_root_{};
  uint64_t tip_ = 0;
  uint64_t next_ = 0;
  std::deque<SourceBlock> ahead_;
};

}  // namespace

Result<std::unique_ptr<AuditSource>> OpenDataDirSource(const std::string& data_dir,
                                                       const std::string& scratch_dir) {
  std::error_code ec;
  // A node keeps its store in <home>/data/chain; accept the home's data/ as well.
  fs::path store_dir = data_dir;
  if (!fs::exists(store_dir / "CURRENT", ec)) store_dir /= "chain";
  if (!fs::exists(store_dir / "CURRENT", ec)) {
    return NotFound(fmt::format(
        "'{}' is not a node's data directory (no LevelDB store in it or in its chain/); pass "
        "<home>/data",
        data_dir));
  }
  const fs::path copy = fs::path(scratch_dir) / "source";
  fs::remove_all(copy, ec);
  fs::create_directories(copy, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", copy.string(), ec.message()));
  for (const auto& entry : fs::directory_iterator(store_dir, ec)) {
    if (entry.path().filename() == "LOCK" || !entry.is_regular_file()) continue;
    fs::copy_file(entry.path(), copy / entry.path().filename(), ec);
    if (ec)
      return IoError(fmt::format("cannot copy '{}': {}", entry.path().string(), ec.message()));
  }
  if (ec) return IoError(fmt::format("cannot read '{}': {}", data_dir, ec.message()));
  auto store = BlockStore::Open(copy.string(), /*durable=*/false);
  if (!store.ok()) return store.status();
  auto meta = (*store)->Meta();
  if (!meta) return Corruption(fmt::format("'{}' holds no chain", data_dir));
  return std::unique_ptr<AuditSource>(
      new DataDirSource(data_dir, std::move(*store), meta->height()));
}

Result<std::unique_ptr<AuditSource>> OpenRpcSource(const std::string& url) {
  auto client = RpcClient::FromUrl(url);
  if (!client.ok()) return client.status();
  client->set_timeout(std::chrono::milliseconds(60'000));
  auto source = std::make_unique<RpcSource>(url, std::move(*client));
  PUHUI_RETURN_IF_ERROR(source->Init());
  return std::unique_ptr<AuditSource>(std::move(source));
}

}  // namespace puhui
