// puhui-cli's personal-account transactions (docs/personal.md): scenarios, custodial accounts,
// attestation batches from a JSON file, offers and redemptions, consignment and pooled issuance.
#pragma once

#include <string>

#include "node/cli_registry.h"
#include "puhui.pb.h"

namespace puhui::cli {

extern const char kPersonalUsage[];

// Sets body's action for the personal transaction `kind` (e.g. "attest"); kNotRegistry when
// `kind` is not one.
Fill FillPersonalAction(const std::string& kind, const Flags& flags, pb::TxBody& body,
                        std::string& error);

}  // namespace puhui::cli
