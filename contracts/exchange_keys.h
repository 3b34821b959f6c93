// State keys of exchange settlement (docs/exchange.md, docs/formats.md). All start with "ex/", so
// they cannot collide with the registry's:
//
//   ex/auth/<holder>/<exchange>/<batch>     Authorisation (batch empty: any batch)
//   ex/settle/<exchange>/<id>               Settlement
//   ex/list/<exchange>/<height:020>/<id>    the settlement's id, so an exchange's settlements list
//                                           in height order for reconciliation
//
// Addresses are the raw 32 key bytes; ids and serials never contain '/'.
#pragma once

#include <cstdint>
#include <string_view>

#include "chain/bytes.h"
#include "chain/keys.h"

namespace puhui::exchange_keys {

Bytes Authorisation(const PublicKey& holder, const PublicKey& exchange, std::string_view batch);
Bytes Settlement(const PublicKey& exchange, std::string_view id);
Bytes ListPrefix(const PublicKey& exchange);  // ex/list/<exchange>/
Bytes ListEntry(const PublicKey& exchange, uint64_t height, std::string_view id);
Bytes ListFrom(const PublicKey& exchange, uint64_t height);  // ex/list/<exchange>/<height:020>

}  // namespace puhui::exchange_keys
