// A deterministic cluster simulator for the consensus engine, in the spirit of TigerBeetle's VOPR:
// N engines in one process, a simulated clock, and a seeded network (std::mt19937_64) that delays,
// drops, duplicates, reorders and partitions messages. Some validators misbehave: one stays silent,
// one equivocates (signs two different proposals or votes for one slot and shows each to half of
// its peers), one sends garbage (random bytes, forged or misdirected signatures, impossible
// rounds).
//
// A run has two phases. During the chaos phase the drop rate and the partitions change every few
// seconds. Then the network heals (no partitions, no drops, short delays) and every honest node
// must commit `heights_after_heal` heights beyond the highest height any honest node had reached,
// within `heal_deadline_ms` of simulated time.
//
// Checked throughout, and reported as the first failure with the seed that reproduces it:
//  - safety: no two honest nodes commit different blocks at one height, nor one node two blocks;
//  - every commit certificate passes VerifyCommit and names the committed block's hash;
//  - committed blocks are valid, and an honest node's block times strictly increase;
//  - honest nodes never ask their signer for a conflicting signature (no SignFailed);
//  - no message from an honest node is dropped as a peer fault, and evidence only names misbehaving
//    validators;
//  - liveness after healing, as above.
//
// The node's side is simulated in miniature: blocks are strings "height/round/proposer", valid when
// they hash to their name and start with their height; a node waits `commit_pause_ms` after a
// commit before starting the next height; while a node's height does not move it resends
// Engine::Gossip() every `gossip_interval_ms`; and a node that hears a peer at a height it has
// committed and left sends that peer the block and certificate, `sync_delay_ms` later (block sync).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/timeouts.h"

namespace puhui::sim {

enum class Behaviour { kHonest, kSilent, kEquivocate, kGarbage };

const char* BehaviourName(Behaviour behaviour);

// Short timeouts keep simulated runs brief; they still grow with the round.
inline consensus::TimeoutConfig SimTimeouts() {
  consensus::TimeoutConfig t;
  t.propose_base_ms = 800;
  t.propose_delta_ms = 200;
  t.prevote_base_ms = 400;
  t.prevote_delta_ms = 200;
  t.precommit_base_ms = 400;
  t.precommit_delta_ms = 200;
  return t;
}

struct Scenario {
  std::string name;
  std::vector<uint64_t> powers;       // one per node
  std::vector<Behaviour> behaviours;  // one per node
  uint64_t chaos_ms = 12'000;
  uint64_t min_network_period_ms = 1'000;  // how long one drop rate and partition last
  uint64_t max_network_period_ms = 5'000;
  uint32_t max_drop_per_mille = 300;  // chaos drop rate is drawn from [0, this] per period
  bool partitions = true;
  uint32_t duplicate_per_mille = 50;
  uint64_t min_delay_ms = 2;
  uint64_t chaos_max_delay_ms = 500;
  uint64_t healed_max_delay_ms = 100;
  uint64_t heights_after_heal = 3;
  uint64_t heal_deadline_ms = 60'000;
  uint64_t commit_pause_ms = 400;
  uint64_t gossip_interval_ms = 1'000;
  // Block sync answers only from a node that has moved past the peer's height, after this delay (a
  // real node fetches blocks in the background). Quicker sync would rescue every lagging node
  // before the rounds that locks protect could run, and hide bugs in them.
  uint64_t sync_delay_ms = 2'000;
  consensus::TimeoutConfig timeouts = SimTimeouts();
};

struct Outcome {
  uint64_t seed = 0;
  std::string failure;      // empty if every check held
  uint64_t min_height = 0;  // lowest and highest height committed by an honest node
  uint64_t max_height = 0;
  uint32_t max_round = 0;  // highest round any honest engine reached
  uint64_t commits = 0;    // commit actions of honest nodes
  uint64_t evidence = 0;
  uint64_t faults_dropped = 0;  // inputs dropped as a peer's fault
  uint64_t messages = 0;
  uint64_t lost = 0;  // dropped by the network or a partition
  uint64_t heal_ms = 0;
  uint64_t end_ms = 0;

  bool ok() const { return failure.empty(); }
  std::string Summary() const;
};

// Runs one scenario with one seed. `trace` prints commits, phase changes and failures as they
// happen.
Outcome Run(const Scenario& scenario, uint64_t seed, bool trace = false);

}  // namespace puhui::sim
