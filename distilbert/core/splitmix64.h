// SplitMix64: a Weyl sequence (the state advances by the golden-ratio gamma) through a 64-bit finaliser. The one
// implementation behind the project's fixed random streams: the dropout masks (model/dropout.cpp), the sampler
// orders and seed mixing of batching (data/batching.cpp) and the demo data (demo/demo_data.h). Their outputs are
// pinned by golden tests, so the constants never change.
#pragma once

#include <cstdint>

namespace distilbert {

/// The increment of the state per draw (2^64 / golden ratio, odd).
inline constexpr std::uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

/// The output function: a bijective mix of the 64 bits of `z`.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The next draw: advances `state` by the gamma and returns the mix of the new state.
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) { return splitmix64_mix(state += kSplitMix64Gamma); }

}  // namespace distilbert
