// The stateless checks of the registry's actions (ids well formed, hashes 32 bytes, keys on the
// curve, amounts positive, dates real, formulas valid), run by DecodeTx at admission so that
// execution can rely on them.
#pragma once

#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

// Checks body's action if it is one of the registry's (fields 19 and up); Ok for the others.
Status CheckRegistryAction(const pb::TxBody& body, const PublicKey& sender);

// The same for personal carbon accounts' actions (fields 40 to 59; personal_checks.cpp): ids,
// 32-byte addresses and hashes, dates, bounds, and no record id twice in one batch.
Status CheckPersonalAction(const pb::TxBody& body, const PublicKey& sender);

}  // namespace puhui
