// The layout of the contracts' state keys and the encoding of simple values (docs/formats.md).
// Keys are readable prefixes followed by ids; addresses are the raw 32 key bytes. Ids never contain
// '/', so every key decodes one way.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "contracts/state.h"
#include "puhui.pb.h"

namespace puhui::state_keys {

inline constexpr std::string_view kAccountPrefix = "acct/";
Bytes Account(const PublicKey& address);  // acct/<addr>
// The address of an account key (Account), or nothing for any other key.
std::optional<PublicKey> AccountAddress(ByteView key);
Bytes Region(std::string_view code);  // region/<code>
Bytes RoleGrant(std::string_view region, pb::Role role,
                const PublicKey& a);                              // role/<region>/<role>/<addr>
Bytes Batch(std::string_view serial);                             // batch/<serial>
Bytes Balance(std::string_view serial, const PublicKey& holder);  // bal/<serial>/<addr>

}  // namespace puhui::state_keys

namespace puhui {

// Whether a state key is in the state tree (committed to by the state root, provable by proof_get
// and state_get). Only pc/rec/<provider>/<record id> is not: the set of behaviour records counted
// is a pure function of the committed blocks, it grows by one key per record, and it is committed
// per batch instead (AttestationBatch.outcomes_root). It is stored, read and written like any state
// value, in the same atomic write as its block; an audit re-derives it by replaying the blocks.
bool InStateTree(ByteView key);

Bytes EncodeU64(uint64_t v);
std::optional<uint64_t> DecodeU64(ByteView b);

// Typed reads over a StateReader; a stored value that does not decode is Corruption.
Result<uint64_t> ReadU64(const StateReader& state, ByteView key);  // absent reads as 0
Result<pb::Account> ReadAccount(const StateReader& state, const PublicKey& address);
// As ReadAccount, for a caller that has the account's key (state_keys::Account) already.
Result<pb::Account> ReadAccountAt(const StateReader& state, ByteView key);
Result<std::optional<pb::CreditBatch>> ReadBatch(const StateReader& state, std::string_view serial);
// Whether the batch exists, without parsing its record: a transfer needs no more.
Result<bool> BatchExists(const StateReader& state, std::string_view serial);
Result<bool> HasRole(const StateReader& state, std::string_view region, pb::Role role,
                     const PublicKey& address);
Result<bool> RegionExists(const StateReader& state, std::string_view code);

void WriteU64(StateOverlay& state, Bytes key, uint64_t v);  // 0 deletes the key
void WriteProto(StateOverlay& state, Bytes key, const google::protobuf::Message& m);

}  // namespace puhui
