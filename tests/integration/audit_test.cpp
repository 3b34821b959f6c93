// The auditor's tools against chains that real puhuid processes made: a four-validator network
// under load audits clean from a stopped node's data directory and over RPC from a running one,
// the CLI reports and exports it, and a retirement certificate fetched from one node verifies
// offline with nothing but the genesis file.
#include "node/audit.h"

#include <doctest/doctest.h>

#include <fstream>

#include "network.h"
#include "node/proof_verify.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

TEST_CASE("a chain made by four validators under load audits clean and its certificate verifies") {
  Network net(4, 0);
  net.StartAll();
  REQUIRE(net.WaitHeight(0, 1));
  // Load: 300 transfers spread over the validators, and one voluntary retirement.
  std::string last;
  for (uint64_t n = 0; n < 300; ++n) {
    last = net.Submit(n % 4,
                      Signed(TransferBody("owner", n % 2 ? "alice" : "bob", 10 + n, n), "owner"));
  }
  REQUIRE(net.WaitCommitted(0, last, 60) > 0);
  pb::TxBody retire = Body("owner", 300, 100'000);
  auto* r = retire.mutable_retire_voluntary();
  r->set_batch(kBatch);
  r->set_grams(2500);
  r->set_beneficiary("Yangtze River Delta marathon 2026");
  r->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
  const uint64_t retired_at = net.WaitCommitted(0, net.Submit(1, Signed(retire, "owner")), 60);
  REQUIRE(retired_at > 0);
  REQUIRE(net.WaitHeight(0, retired_at + 2));

  const std::string genesis_path = net.home(0) + "/genesis.json";
  auto genesis = LoadGenesisFile(genesis_path);
  REQUIRE(genesis.ok());
  const std::string url = "http://127.0.0.1:" + net.Client(0).port();

  SUBCASE("over RPC from a running node") {
    TempDir scratch;
    auto source = OpenRpcSource(url);
    REQUIRE_MESSAGE(source.ok(), source.status().ToString());
    auto result = RunAudit(*genesis, **source, scratch.path(), AuditOptions{});
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    REQUIRE_MESSAGE(!result->fault.has_value(), (result->fault ? result->fault->reason : ""));
    CHECK(result->height >= retired_at + 2);
    CHECK(result->txs >= 301);
    REQUIRE(result->report.retirements.size() == 1);
    CHECK(result->report.retirements[0].grams == 2500);
  }

  SUBCASE("from a stopped node's data directory, with the CLI's exports") {
    net.Kill(2);
    TempDir out;
    auto [rc, text] =
        RunCommand({BinaryPath("puhui-cli"), "audit", "--genesis", genesis_path, "--data",
                    net.home(2) + "/data", "--json", out / "audit.json", "--csv", out / "csv"});
    CHECK_MESSAGE(rc == 0, text);
    CHECK_MESSAGE(text.find("CLEAN") != std::string::npos, text);
    CHECK(text.find("by methodology and version") != std::string::npos);
    auto report = json::parse(*ReadFile(out / "audit.json"));
    CHECK(report["result"] == "clean");
    CHECK(report["report"]["retirements"]["by_purpose"]["event"]["grams"] == 2500);
    auto csv = ReadFile(out / "csv/retirements.csv");
    REQUIRE(csv.ok());
    CHECK(csv->find("RT-1,voluntary," + std::string(kBatch)) != std::string::npos);
    // The data directory was only read: the node restarts on it and goes on.
    net.Start(2);
    const uint64_t h = net.Height(0);
    CHECK(net.WaitHeight(2, h, 60));
  }

  SUBCASE("a certificate handed over as a file verifies offline, and a forged one does not") {
    TempDir out;
    const std::string cert = out / "RT-1.json";
    auto [got, got_text] = RunCommand(
        {BinaryPath("puhui-cli"), "--node", url, "certificate", "get", "RT-1", "--out", cert});
    REQUIRE_MESSAGE(got == 0, got_text);
    net.Kill(0);  // nothing is asked of any node from here on
    auto [rc, text] = RunCommand(
        {BinaryPath("puhui-cli"), "certificate", "verify", cert, "--genesis", genesis_path});
    CHECK_MESSAGE(rc == 0, text);
    CHECK(text.rfind("VALID certificate RT-1: 2500 g", 0) == 0);
    json forged = json::parse(*ReadFile(cert));
    forged["retirement"]["on_behalf_of"] = "someone else";
    std::ofstream(out / "forged.json") << forged.dump();
    auto [bad, bad_text] = RunCommand({BinaryPath("puhui-cli"), "certificate", "verify",
                                       out / "forged.json", "--genesis", genesis_path});
    CHECK(bad == 1);
    CHECK_MESSAGE(bad_text.find("retirement.on_behalf_of") != std::string::npos, bad_text);
  }
}
