// The storage environment of every store: LevelDB's default environment, except that table
// files are read with pread(2) instead of being mapped into memory.
//
// LevelDB 1.23 maps up to 1,000 table files on 64-bit machines and has no option to stop it.
// Pages of a mapped file that compaction or a lookup touched count as the node's resident memory
// (VmRSS), so a node's footprint grew with its store. Read with pread, the data goes through the
// block cache (bounded, BlockStore::Open) and the kernel's page cache, which the kernel reclaims
// under pressure and which is not the process's memory.
#pragma once

#include <leveldb/env.h>

namespace puhui {

// One per process, never destroyed (a DB holds it for its whole life).
leveldb::Env* PreadEnv();

}  // namespace puhui
