// puhui-cli exchange-demo (docs/exchange.md "Demo"): an exchange's day against a running network —
// it becomes an exchange, is authorised by a seller, settles a day of 10-leg trades (some
// buy-and-retire) by settlement_submit and submit-and-wait, follows the WebSocket event stream
// and reconciles the stream, settlement_list and balances against its own trade book, exactly.
#pragma once

#include <map>
#include <string>

namespace puhui::cli {

// Flags: --authority KEY --region CODE --seller KEY --batch SERIAL [--trades N] [--legs N]
// [--run ID]. Returns the process exit code: 0 when everything reconciled exactly.
int ExchangeDemo(const std::string& url, const std::map<std::string, std::string>& flags);

}  // namespace puhui::cli
