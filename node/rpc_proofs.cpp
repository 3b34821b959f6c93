#include "node/rpc_proofs.h"

#include <fmt/format.h>

#include "node/node.h"
#include "node/proofs.h"
#include "node/rpc_handler_util.h"
#include "rpc/params.h"

namespace puhui {
namespace {

using namespace rpc_handler;

using nlohmann::json;

}  // namespace

void RegisterProofRpcMethods(rpc::Dispatcher& d, Node& node) {
  d.Register(
      "proof_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(
            params, {"kind", "serial", "address", "id", "seq", "provider", "record_id", "height"});
        const std::string kind = rpc::GetString(params, {"kind", 0});
        json subject = json::object();
        size_t position = 1;
        for (const char* field : {"serial", "address", "id"}) {
          if (auto v = rpc::GetOptionalString(params, {field, position++})) subject[field] = *v;
        }
        if (auto seq = rpc::GetOptionalUint64(params, {"seq", position++})) subject["seq"] = *seq;
        for (const char* field : {"provider", "record_id"}) {
          if (auto v = rpc::GetOptionalString(params, {field, position++})) subject[field] = *v;
        }
        ProofSubject s = OrThrow(MakeProofSubject(kind, subject));
        const uint64_t tip = node.ledger().Tip().height();
        if (tip == 0) Throw(FailedPrecondition("no block is committed yet; nothing to prove"));
        const uint64_t height = rpc::GetOptionalUint64(params, {"height", 7}).value_or(tip - 1);
        return OrThrow(BuildProof(node.ledger().store(), node.ledger().genesis(), height, {s}));
      },
      "a batch, balance, retirement, attestation batch or counted behaviour record after a height "
      "(default: the latest certified one) with its Merkle proof, the header that commits to it "
      "with its commit certificate, and every validator-set change since genesis: checkable "
      "offline (puhui-cli verify-proof)");

  d.Register(
      "certificate_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        const std::string id = rpc::GetString(params, {"id", 0});
        return OrThrow(BuildCertificate(node.ledger().store(), node.ledger().genesis(), id));
      },
      "the self-contained certificate of a voluntary retirement or offset (RT-…), with its proof; "
      "available once the block after the retirement is committed");
}

}  // namespace puhui
