// Fuzz target: the token store reader (P.json metadata, P.idx offsets, P.ids token ids). Input layout: a
// little-endian u32 length and that many bytes of P.json, a u32 length and that many bytes of P.idx, the rest is
// P.ids (scripts/fuzz.sh makes seeds from a real store in this layout). A store that opens must let every
// sequence be read (copy() checks each id) and its lengths must add up to num_tokens; verify() must either pass
// or name the problem.
#include <cstring>
#include <string>
#include <vector>

#include "distilbert/data/token_store.h"
#include "fuzz_target.h"

namespace {

bool take(const std::uint8_t*& p, std::size_t& left, std::string& out) {
  if (left < 4) return false;
  std::uint32_t n = 0;
  std::memcpy(&n, p, 4);
  p += 4;
  left -= 4;
  if (n > left) n = static_cast<std::uint32_t>(left);
  out.assign(reinterpret_cast<const char*>(p), n);
  p += n;
  left -= n;
  return true;
}

}  // namespace

DISTILBERT_FUZZ_TARGET(token_store) {
  using namespace distilbert;
  const std::uint8_t* p = data;
  std::size_t left = size;
  std::string meta, idx;
  if (!take(p, left, meta) || !take(p, left, idx)) return 0;
  const std::string prefix = fuzz::scratch_dir() + "/store";
  fuzz::write_bytes(prefix + ".json", meta.data(), meta.size());
  fuzz::write_bytes(prefix + ".idx", idx.data(), idx.size());
  fuzz::write_bytes(prefix + ".ids", p, left);
  fuzz::guarded("TokenStore::open", [&] {
    const auto store = data::TokenStore::open(prefix);
    std::uint64_t total = 0;
    std::vector<std::int64_t> buf;
    for (std::size_t s = 0; s < store->num_sequences(); ++s) {
      const std::size_t n = store->length(s);
      total += n;
      fuzz::require(total <= store->num_tokens(), "sequence lengths stay within num_tokens");
      buf.resize(n);
      fuzz::guarded("copy", [&] { store->copy(s, 0, n, buf.data()); });
    }
    fuzz::require(total == store->num_tokens(), "sequence lengths add up to num_tokens");
    fuzz::guarded("verify", [&] { store->verify(); });
  });
  return 0;
}
