// Token store: writer, memory-mapped reader, SHA-256, line reader (plain / gzip) and binarize(). See token_store.h.
#include "distilbert/data/token_store.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fcntl.h>
#include <iomanip>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <zlib.h>

#include "distilbert/core/error.h"
#include "distilbert/core/file_list.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/core/text.h"
#include "distilbert/data/bounded_queue.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/tokenizer/thread_pool.h"
#include "distilbert/core/json_error.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the token store format is little-endian; this build assumes a little-endian host"
#endif

namespace distilbert::data {

namespace fs = std::filesystem;

// ---- small helpers -----------------------------------------------------------------------------------------

const char* token_dtype_name(TokenDtype d) { return d == TokenDtype::uint16 ? "uint16" : "int32"; }
std::size_t token_dtype_size(TokenDtype d) { return d == TokenDtype::uint16 ? 2 : 4; }
TokenDtype token_dtype_for_vocab(std::int64_t vocab_size) {
  return vocab_size < 65536 ? TokenDtype::uint16 : TokenDtype::int32;
}

std::vector<std::int64_t> special_id_list(const tokenizer::SpecialTokenIds& s) {
  std::vector<std::int64_t> out;
  for (std::int64_t id : {s.pad, s.unk, s.cls, s.sep, s.mask})
    if (id >= 0 && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

nlohmann::json special_ids_to_json(const tokenizer::SpecialTokenIds& s) {
  return {{"pad", s.pad}, {"unk", s.unk}, {"cls", s.cls}, {"sep", s.sep}, {"mask", s.mask}};
}

namespace {

std::string ids_path(const std::string& prefix) { return prefix + ".ids"; }
std::string idx_path(const std::string& prefix) { return prefix + ".idx"; }
std::string json_path(const std::string& prefix) { return prefix + ".json"; }

void fsync_file(std::FILE* f, const std::string& path) {
  if (std::fflush(f) != 0) fail("error writing '", path, "' (disk full?): ", std::strerror(errno));
  if (::fsync(::fileno(f)) != 0) fail("cannot sync '", path, "': ", std::strerror(errno));
}

std::string with_commas(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

// ---- SHA-256 -----------------------------------------------------------------------------------------------

namespace {
constexpr std::uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};
inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::block(const unsigned char* p) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) | (std::uint32_t(p[4 * i + 2]) << 8) |
           std::uint32_t(p[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kSha256K[i] + w[i];
    const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, std::size_t size) {
  auto p = static_cast<const unsigned char*>(data);
  total_ += size;
  if (buf_len_) {
    const std::size_t take = std::min(size, 64 - buf_len_);
    std::memcpy(buf_ + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    size -= take;
    if (buf_len_ < 64) return;
    block(buf_);
    buf_len_ = 0;
  }
  for (; size >= 64; p += 64, size -= 64) block(p);
  std::memcpy(buf_, p, size);
  buf_len_ = size;
}

std::string Sha256::hex_digest() {
  const std::uint64_t bits = total_ * 8;
  const unsigned char pad80 = 0x80;
  update(&pad80, 1);
  const unsigned char zero = 0;
  while (buf_len_ != 56) update(&zero, 1);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  update(len, 8);
  std::ostringstream os;
  for (std::uint32_t v : h_) os << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

// ---- writer ------------------------------------------------------------------------------------------------

TokenStoreWriter::TokenStoreWriter(std::string prefix, std::int64_t vocab_size, std::string tokenizer_fingerprint,
                                   tokenizer::SpecialTokenIds special_ids)
    : prefix_(std::move(prefix)),
      vocab_size_(vocab_size),
      fingerprint_(std::move(tokenizer_fingerprint)),
      specials_(special_ids),
      dtype_(token_dtype_for_vocab(vocab_size)) {
  DISTILBERT_CHECK(vocab_size_ > 0 && vocab_size_ <= std::numeric_limits<std::int32_t>::max(), "token store '", prefix_,
                   "': vocab_size must be in [1, 2^31), found ", vocab_size_);
  const fs::path parent = fs::path(prefix_).parent_path();
  if (!parent.empty() && !fs::exists(parent)) fs::create_directories(parent);
  const std::string tag = str_cat(".tmp.", ::getpid());
  ids_tmp_ = ids_path(prefix_) + tag;
  idx_tmp_ = idx_path(prefix_) + tag;
  ids_file_ = std::fopen(ids_tmp_.c_str(), "wb");
  if (!ids_file_) fail("cannot create '", ids_tmp_, "': ", std::strerror(errno));
  idx_file_ = std::fopen(idx_tmp_.c_str(), "wb");
  if (!idx_file_) {
    const int err = errno;
    cleanup();
    fail("cannot create '", idx_tmp_, "': ", std::strerror(err));
  }
  idx_buf_.push_back(0);
}

TokenStoreWriter::~TokenStoreWriter() {
  if (!finished_) cleanup();
}

void TokenStoreWriter::cleanup() noexcept {
  if (ids_file_) std::fclose(ids_file_);
  if (idx_file_) std::fclose(idx_file_);
  ids_file_ = idx_file_ = nullptr;
  if (!ids_tmp_.empty()) std::remove(ids_tmp_.c_str());
  if (!idx_tmp_.empty()) std::remove(idx_tmp_.c_str());
}

void TokenStoreWriter::add(const std::int64_t* ids, std::size_t n) { add_ids(ids, n); }
void TokenStoreWriter::add(const std::int32_t* ids, std::size_t n) { add_ids(ids, n); }

template <typename Id>
void TokenStoreWriter::add_ids(const Id* ids, std::size_t n) {
  DISTILBERT_CHECK(!finished_, "token store '", prefix_, "': add() after finish()");
  const std::size_t width = token_dtype_size(dtype_);
  const std::size_t at = ids_buf_.size();
  ids_buf_.resize(at + n * width);
  unsigned char* out = ids_buf_.data() + at;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t id = static_cast<std::int64_t>(ids[i]);
    DISTILBERT_CHECK(id >= 0 && id < vocab_size_, "token store '", prefix_, "': id ", id, " of sequence ",
                     num_sequences_, " is outside the vocabulary [0, ", vocab_size_, ")");
    if (dtype_ == TokenDtype::uint16) {
      const auto v = static_cast<std::uint16_t>(id);
      std::memcpy(out + 2 * i, &v, 2);
    } else {
      const auto v = static_cast<std::int32_t>(id);
      std::memcpy(out + 4 * i, &v, 4);
    }
  }
  num_tokens_ += n;
  ++num_sequences_;
  idx_buf_.push_back(num_tokens_);
  if (ids_buf_.size() >= (4u << 20) || idx_buf_.size() >= (1u << 18)) flush_buffers();
}

void TokenStoreWriter::flush_buffers() {
  if (!ids_buf_.empty()) {
    ids_sha_.update(ids_buf_.data(), ids_buf_.size());
    if (std::fwrite(ids_buf_.data(), 1, ids_buf_.size(), ids_file_) != ids_buf_.size())
      fail("error writing '", ids_tmp_, "' (disk full?): ", std::strerror(errno));
    ids_buf_.clear();
  }
  if (!idx_buf_.empty()) {
    const std::size_t bytes = idx_buf_.size() * sizeof(std::uint64_t);
    idx_sha_.update(idx_buf_.data(), bytes);
    if (std::fwrite(idx_buf_.data(), 1, bytes, idx_file_) != bytes)
      fail("error writing '", idx_tmp_, "' (disk full?): ", std::strerror(errno));
    idx_buf_.clear();
  }
}

void TokenStoreWriter::finish(const std::vector<SourceFile>& sources, const nlohmann::json& extra) {
  DISTILBERT_CHECK(!finished_, "token store '", prefix_, "': finish() called twice");
  try {
    DISTILBERT_CHECK(num_sequences_ > 0, "token store '", prefix_,
                     "': no sequences to write (empty corpus: every input line was blank?)");
    flush_buffers();
    fsync_file(ids_file_, ids_tmp_);
    fsync_file(idx_file_, idx_tmp_);
    std::fclose(ids_file_);
    std::fclose(idx_file_);
    ids_file_ = idx_file_ = nullptr;
    const std::uint64_t ids_bytes = num_tokens_ * token_dtype_size(dtype_);
    const std::uint64_t idx_bytes = (num_sequences_ + 1) * sizeof(std::uint64_t);
    nlohmann::json src = nlohmann::json::array();
    for (const SourceFile& s : sources)
      src.push_back({{"path", printable(s.path)}, {"bytes", s.bytes}, {"sha256", s.sha256}, {"lines", s.lines},
                     {"sequences", s.sequences}});
    nlohmann::json j = {
        {"format", "distilbert-token-store"},
        {"format_version", 1},
        {"dtype", token_dtype_name(dtype_)},
        {"byte_order", "little"},
        {"num_sequences", num_sequences_},
        {"num_tokens", num_tokens_},
        {"vocab_size", vocab_size_},
        {"tokenizer_fingerprint", fingerprint_},
        {"special_ids", special_ids_to_json(specials_)},
        {"files",
         {{"ids", {{"name", printable(fs::path(ids_path(prefix_)).filename().string())}, {"bytes", ids_bytes},
                   {"sha256", ids_sha_.hex_digest()}}},
          {"idx", {{"name", printable(fs::path(idx_path(prefix_)).filename().string())}, {"bytes", idx_bytes},
                   {"sha256", idx_sha_.hex_digest()}}}}},
        {"sources", src}};
    for (const auto& [k, v] : extra.items()) j[k] = v;
    // Everything that can fail comes before the first rename, so a failure leaves an older store whole.
    const std::string text = j.dump(1) + "\n";
    // An older store under this prefix must not pair its JSON with the new data files.
    std::remove(json_path(prefix_).c_str());
    if (std::rename(ids_tmp_.c_str(), ids_path(prefix_).c_str()) != 0)
      fail("cannot rename '", ids_tmp_, "' to '", ids_path(prefix_), "': ", std::strerror(errno));
    ids_tmp_.clear();
    if (std::rename(idx_tmp_.c_str(), idx_path(prefix_).c_str()) != 0)
      fail("cannot rename '", idx_tmp_, "' to '", idx_path(prefix_), "': ", std::strerror(errno));
    idx_tmp_.clear();
    write_file_atomic(json_path(prefix_), text);
    finished_ = true;
  } catch (...) {
    cleanup();
    finished_ = true;  // nothing left to clean
    throw;
  }
}

// ---- reader ------------------------------------------------------------------------------------------------

struct TokenStore::Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (addr && addr != MAP_FAILED) ::munmap(addr, size);
  }
};

namespace {

struct MappedFile {
  void* addr = nullptr;
  std::size_t size = 0;
};

MappedFile map_readonly(const std::string& path, std::uint64_t expected, const std::string& expectation) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("token store file '", path, "' cannot be opened: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot stat '", path, "': ", std::strerror(err));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != expected) {
    ::close(fd);
    fail("token store file '", path, "' has ", size, " bytes, expected ", expected, " (", expectation,
         "): the file is ", size < expected ? "truncated" : "longer than its metadata says",
         " or belongs to another binarize run; re-run `distilbert binarize`");
  }
  MappedFile m;
  m.size = static_cast<std::size_t>(size);
  if (m.size) {
    m.addr = ::mmap(nullptr, m.size, PROT_READ, MAP_SHARED, fd, 0);
    if (m.addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail("cannot memory-map '", path, "': ", std::strerror(err));
    }
  }
  ::close(fd);
  return m;
}

const nlohmann::json& json_key(const nlohmann::json& j, const std::string& key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end()) fail(file, ": key '", key, "' is missing");
  return *it;
}

std::uint64_t json_uint(const nlohmann::json& j, const std::string& key, const std::string& file) {
  const auto& v = json_key(j, key, file);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    fail(file, ": key '", key, "' must be a non-negative integer, found ", v.dump());
  return v.get<std::uint64_t>();
}

std::string json_string(const nlohmann::json& j, const std::string& key, const std::string& file) {
  const auto& v = json_key(j, key, file);
  if (!v.is_string()) fail(file, ": key '", key, "' must be a string, found ", v.dump());
  return v.get<std::string>();
}

}  // namespace

TokenStore::~TokenStore() = default;

std::shared_ptr<const TokenStore> TokenStore::open(const std::string& prefix,
                                                   std::optional<std::string> expected_fingerprint) {
  OpenOptions o;
  o.expected_fingerprint = std::move(expected_fingerprint);
  return open(prefix, o);
}

std::shared_ptr<const TokenStore> TokenStore::open(const std::string& prefix, const OpenOptions& options) {
  const std::string jp = json_path(prefix);
  if (!fs::exists(jp)) {
    if (fs::exists(ids_path(prefix)) || fs::exists(idx_path(prefix)))
      fail("token store '", prefix, "' is incomplete: '", jp,
           "' is missing although the data files exist (an interrupted `distilbert binarize`?); re-run it");
    fail("token store '", prefix, "' not found: no file '", jp, "' (make one with `distilbert binarize`)");
  }
  std::shared_ptr<TokenStore> s(new TokenStore());
  s->prefix_ = prefix;
  try {
    s->meta_ = nlohmann::json::parse(read_file(jp));
  } catch (const nlohmann::json::exception& e) {
    fail(jp, ": not valid JSON (", json_error_text(e), ")");
  }
  const auto& j = s->meta_;
  DISTILBERT_CHECK(j.is_object(), jp, ": expected a JSON object, found ", j.type_name());
  const std::uint64_t version = json_uint(j, "format_version", jp);
  DISTILBERT_CHECK(version == 1, jp, ": unsupported format_version ", version, " (this build reads version 1)");
  const std::string dtype = json_string(j, "dtype", jp);
  if (dtype == "uint16")
    s->dtype_ = TokenDtype::uint16;
  else if (dtype == "int32")
    s->dtype_ = TokenDtype::int32;
  else
    fail(jp, ": key 'dtype' must be \"uint16\" or \"int32\", found \"", dtype, "\"");
  if (j.contains("byte_order"))
    DISTILBERT_CHECK(json_string(j, "byte_order", jp) == "little", jp, ": byte_order must be \"little\", found ",
                     j["byte_order"].dump());
  const std::uint64_t vocab = json_uint(j, "vocab_size", jp);
  DISTILBERT_CHECK(vocab > 0, jp, ": vocab_size must be positive, found 0");
  const std::uint64_t max_vocab = s->dtype_ == TokenDtype::uint16 ? 65536u : 2147483648u;
  DISTILBERT_CHECK(vocab <= max_vocab, jp, ": a vocabulary of ", vocab, " ids does not fit the store's ", dtype,
                   " ids (at most ", max_vocab,
                   "); binarize again (vocabularies of 65536 or more are stored as int32)");
  s->vocab_size_ = static_cast<std::int64_t>(vocab);
  s->num_sequences_ = static_cast<std::size_t>(json_uint(j, "num_sequences", jp));
  s->num_tokens_ = json_uint(j, "num_tokens", jp);
  DISTILBERT_CHECK(s->num_sequences_ > 0, jp, ": the store is empty (num_sequences = 0): nothing to train on");
  s->fingerprint_ = json_string(j, "tokenizer_fingerprint", jp);
  const auto& sp = json_key(j, "special_ids", jp);
  DISTILBERT_CHECK(sp.is_object(), jp, ": key 'special_ids' must be an object, found ", sp.dump());
  auto special = [&](const char* name) -> std::int64_t {
    if (!sp.contains(name)) return -1;
    const auto& v = sp[name];
    DISTILBERT_CHECK(v.is_number_integer(), jp, ": special_ids.", name, " must be an integer, found ", v.dump());
    const auto id = v.get<std::int64_t>();
    DISTILBERT_CHECK(id < s->vocab_size_, jp, ": special_ids.", name, " = ", id, " is not below vocab_size ",
                     s->vocab_size_);
    return id;
  };
  s->specials_.pad = special("pad");
  s->specials_.unk = special("unk");
  s->specials_.cls = special("cls");
  s->specials_.sep = special("sep");
  s->specials_.mask = special("mask");

  if (options.expected_fingerprint && *options.expected_fingerprint != s->fingerprint_)
    fail("token store '", prefix, "' was binarized with tokenizer fingerprint ", s->fingerprint_,
         " but the tokenizer in use has fingerprint ", *options.expected_fingerprint,
         ": the ids would mean other tokens; binarize the text again with this tokenizer");

  const std::size_t width = token_dtype_size(s->dtype_);
  // Sizes recorded in "files" (when present) must agree with the counts.
  if (j.contains("files") && j["files"].is_object()) {
    const auto& f = j["files"];
    if (f.contains("ids") && f["ids"].contains("bytes"))
      DISTILBERT_CHECK(json_uint(f["ids"], "bytes", jp) == s->num_tokens_ * width, jp,
                       ": files.ids.bytes = ", f["ids"]["bytes"].dump(), " disagrees with num_tokens ", s->num_tokens_,
                       " x ", width, " bytes");
    if (f.contains("idx") && f["idx"].contains("bytes"))
      DISTILBERT_CHECK(json_uint(f["idx"], "bytes", jp) == (s->num_sequences_ + 1) * 8, jp,
                       ": files.idx.bytes = ", f["idx"]["bytes"].dump(), " disagrees with num_sequences ",
                       s->num_sequences_, " (+1) x 8 bytes");
  }
  const MappedFile ids = map_readonly(ids_path(prefix), s->num_tokens_ * width,
                                      str_cat("num_tokens ", s->num_tokens_, " x ", width, " bytes (", dtype, ") from ", jp));
  s->ids_map_ = std::make_unique<Mapping>();
  s->ids_map_->addr = ids.addr;
  s->ids_map_->size = ids.size;
  const MappedFile idx = map_readonly(idx_path(prefix), (static_cast<std::uint64_t>(s->num_sequences_) + 1) * 8,
                                      str_cat("(num_sequences ", s->num_sequences_, " + 1) x 8 bytes from ", jp));
  s->idx_map_ = std::make_unique<Mapping>();
  s->idx_map_->addr = idx.addr;
  s->idx_map_->size = idx.size;
  s->idx_ = static_cast<const std::uint64_t*>(idx.addr);
  if (s->dtype_ == TokenDtype::uint16)
    s->u16_ = static_cast<const std::uint16_t*>(ids.addr);
  else
    s->i32_ = static_cast<const std::int32_t*>(ids.addr);

  const std::string ip = idx_path(prefix);
  DISTILBERT_CHECK(s->idx_[0] == 0, ip, ": the first offset must be 0, found ", s->idx_[0]);
  for (std::size_t i = 0; i < s->num_sequences_; ++i)
    if (s->idx_[i + 1] < s->idx_[i])
      fail(ip, ": offsets are not monotone: offset ", i + 1, " = ", s->idx_[i + 1], " is below offset ", i, " = ",
           s->idx_[i], " (corrupt index)");
  DISTILBERT_CHECK(s->idx_[s->num_sequences_] == s->num_tokens_, ip, ": the last offset is ",
                   s->idx_[s->num_sequences_], " but ", jp, " says num_tokens = ", s->num_tokens_,
                   " (index and ids do not match)");
  if (options.verify) s->verify();
  return s;
}

void TokenStore::bad_id(std::size_t seq, std::size_t pos, std::int64_t id) const {
  fail("token store '", prefix_, "' is corrupt: id ", id, " at sequence ", seq, " position ", pos,
       " is outside the vocabulary [0, ", vocab_size_, ") (check the whole store with --verify)");
}

void TokenStore::copy(std::size_t seq, std::size_t begin, std::size_t end, std::int64_t* out) const {
  const std::uint64_t base = idx_[seq];
  for (std::size_t k = begin; k < end; ++k) {
    const std::int64_t id = id_at(base + k);
    if (static_cast<std::uint64_t>(id) >= static_cast<std::uint64_t>(vocab_size_)) bad_id(seq, k, id);
    out[k - begin] = id;
  }
}

std::vector<std::int64_t> TokenStore::sequence(std::size_t seq) const {
  DISTILBERT_CHECK(seq < num_sequences_, "token store '", prefix_, "': sequence ", seq, " out of range (",
                   num_sequences_, " sequences)");
  std::vector<std::int64_t> out(length(seq));
  copy(seq, 0, out.size(), out.data());
  return out;
}

void TokenStore::verify() const {
  const auto limit = static_cast<std::uint64_t>(vocab_size_);
  for (std::uint64_t p = 0; p < num_tokens_; ++p) {
    const std::int64_t id = id_at(p);
    if (static_cast<std::uint64_t>(id) >= limit) {
      const std::size_t seq =
          static_cast<std::size_t>(std::upper_bound(idx_, idx_ + num_sequences_ + 1, p) - idx_ - 1);
      bad_id(seq, static_cast<std::size_t>(p - idx_[seq]), id);
    }
  }
  const std::string jp = json_path(prefix_);
  if (!meta_.contains("files") || !meta_["files"].is_object()) return;
  for (const auto& [key, map] : {std::pair<const char*, const Mapping*>{"ids", ids_map_.get()},
                                 std::pair<const char*, const Mapping*>{"idx", idx_map_.get()}}) {
    const auto& f = meta_["files"];
    if (!f.contains(key) || !f[key].contains("sha256")) continue;
    Sha256 sha;
    if (map->size) sha.update(map->addr, map->size);
    const std::string got = sha.hex_digest();
    const std::string want = f[key]["sha256"].is_string() ? f[key]["sha256"].get<std::string>() : "";
    DISTILBERT_CHECK(got == want, "token store file '", prefix_, ".", key, "' has SHA-256 ", got, " but ", jp,
                     " records ", want, ": the file was modified or belongs to another binarize run");
  }
}

// ---- line reader -------------------------------------------------------------------------------------------

namespace {
constexpr std::size_t kRawBlock = 1 << 20;
}  // namespace

LineReader::LineReader(const std::string& path) : path_(path), raw_(kRawBlock) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) fail("cannot open input '", path, "': ", std::strerror(errno));
  // gzip by magic bytes (1f 8b), whatever the name; a .gz name without the magic is an error.
  raw_len_ = std::fread(raw_.data(), 1, raw_.size(), file_);
  if (raw_len_ < raw_.size()) {
    if (std::ferror(file_)) {
      const int err = errno;
      std::fclose(file_);
      file_ = nullptr;
      fail("error reading '", path, "': ", std::strerror(err));
    }
    raw_eof_ = true;
  }
  raw_bytes_ += raw_len_;
  sha_.update(raw_.data(), raw_len_);
  gzip_ = raw_len_ >= 2 && raw_[0] == 0x1f && raw_[1] == 0x8b;
  if (!gzip_ && ends_with(path, ".gz")) {
    std::fclose(file_);
    file_ = nullptr;
    fail("input '", path, "' is named .gz but is not gzip data (no 1f 8b magic bytes)");
  }
  if (gzip_) {
    auto* zs = new z_stream{};
    if (inflateInit2(zs, 16 + MAX_WBITS) != Z_OK) {
      delete zs;
      std::fclose(file_);
      file_ = nullptr;
      fail("cannot initialise zlib for '", path, "'");
    }
    zstream_ = zs;
  }
}

LineReader::~LineReader() {
  if (zstream_) {
    auto* zs = static_cast<z_stream*>(zstream_);
    inflateEnd(zs);
    delete zs;
  }
  if (file_) std::fclose(file_);
}

bool LineReader::fill() {
  if (text_pos_ > 0 && text_pos_ * 2 >= text_.size()) {
    text_.erase(0, text_pos_);
    text_pos_ = 0;
  }
  auto read_raw = [&]() {
    raw_pos_ = 0;
    raw_len_ = 0;
    if (raw_eof_) return;
    raw_len_ = std::fread(raw_.data(), 1, raw_.size(), file_);
    if (raw_len_ < raw_.size()) {
      if (std::ferror(file_)) fail("error reading '", path_, "': ", std::strerror(errno));
      raw_eof_ = true;
    }
    raw_bytes_ += raw_len_;
    sha_.update(raw_.data(), raw_len_);
  };
  if (!gzip_) {
    if (raw_pos_ == raw_len_) read_raw();
    if (raw_len_ == 0) return false;
    text_.append(reinterpret_cast<const char*>(raw_.data()) + raw_pos_, raw_len_ - raw_pos_);
    text_bytes_ += raw_len_ - raw_pos_;
    raw_pos_ = raw_len_;
    return true;
  }
  auto* zs = static_cast<z_stream*>(zstream_);
  const std::size_t before = text_.size();
  unsigned char out[1 << 16];
  while (text_.size() == before) {
    if (raw_pos_ == raw_len_) {
      read_raw();
      if (raw_len_ == 0) {
        if (!zstream_done_)
          fail("input '", path_, "' is a truncated gzip file (it ends inside compressed data)");
        return false;
      }
    }
    if (zstream_done_) {
      // Another gzip member follows (concatenated .gz files), unless only padding zeros remain.
      if (raw_[raw_pos_] == 0) {
        ++raw_pos_;
        continue;
      }
      inflateReset(zs);
      zstream_done_ = false;
    }
    zs->next_in = raw_.data() + raw_pos_;
    zs->avail_in = static_cast<uInt>(raw_len_ - raw_pos_);
    zs->next_out = out;
    zs->avail_out = sizeof(out);
    const int rc = inflate(zs, Z_NO_FLUSH);
    raw_pos_ = raw_len_ - zs->avail_in;
    const std::size_t produced = sizeof(out) - zs->avail_out;
    text_.append(reinterpret_cast<const char*>(out), produced);
    text_bytes_ += produced;
    if (rc == Z_STREAM_END) {
      zstream_done_ = true;
    } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && produced == 0 && zs->avail_in == 0)) {
      fail("input '", path_, "' is not valid gzip data (zlib: ", zs->msg ? zs->msg : "error ", zs->msg ? "" : std::to_string(rc), ")");
    }
  }
  return true;
}

bool LineReader::next(std::string& line) {
  for (;;) {
    const char* base = text_.data() + text_pos_;
    const std::size_t avail = text_.size() - text_pos_;
    const void* nl = avail ? std::memchr(base, '\n', avail) : nullptr;
    if (nl) {
      std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      text_pos_ += n + 1;
      if (n && base[n - 1] == '\r') --n;
      line.assign(base, n);
      return true;
    }
    if (!fill()) {
      if (text_pos_ >= text_.size()) return false;
      std::size_t n = text_.size() - text_pos_;
      const char* b = text_.data() + text_pos_;
      if (n && b[n - 1] == '\r') --n;
      line.assign(b, n);
      text_pos_ = text_.size();
      return true;
    }
  }
}

// ---- binarize ----------------------------------------------------------------------------------------------

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  DISTILBERT_CHECK(!inputs.empty(), "binarize: no --input given");
  for (const std::string& in : inputs) {
    if (!fs::exists(in)) fail("input '", printable(in), "' does not exist");
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && !name.empty() && name[0] != '.') found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      DISTILBERT_CHECK(!found.empty(), "input folder '", in, "' holds no files");
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

namespace {

// The pipeline's buffers. A fixed number of each is made up front and recycled through a free queue, so memory
// neither grows with the corpus nor fragments: once a buffer has reached its working size it is only refilled.
struct TextChunk {
  std::string text;               // the chunk's non-blank lines, back to back
  std::vector<std::size_t> ends;  // line i is text[ends[i-1] (0 for i = 0), ends[i])
  std::size_t source = 0;
  std::string_view line(std::size_t i) const {
    const std::size_t b = i ? ends[i - 1] : 0;
    return std::string_view(text).substr(b, ends[i] - b);
  }
};
struct IdChunk {
  // One vector per tokenisation task (its lines' sequences back to back), written out in order: no concatenation
  // copy. int32, not int64: vocab_size < 2^31 is a store invariant (TokenStoreWriter checks it).
  std::vector<std::vector<std::int32_t>> slices;
  std::vector<std::uint32_t> lengths;
  std::size_t source = 0;
};
constexpr std::size_t kTextBuffers = 3;  // one being filled, one queued, one being tokenised
constexpr std::size_t kIdBuffers = 2;    // one being filled by the tokeniser, one being written

constexpr const char* kAsciiSpace = " \t\n\r\v\f";

std::string_view strip_ascii(std::string_view s) {
  const std::size_t b = s.find_first_not_of(kAsciiSpace);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(kAsciiSpace);
  return s.substr(b, e - b + 1);
}

// A line longer than kPieceBytes is encoded piece by piece, each cut after a run of ASCII whitespace. BERT's
// pre-tokenizer ends a word at any whitespace, so the ids are those of the whole line (tests/data_pipeline checks
// them against HF tokenizers), while the tokenizer's working memory (token strings and offsets: tens of bytes per
// byte of text) stays bounded however long the line is. SentencePiece models keep the spaces inside their tokens,
// so they see the whole line.
constexpr std::size_t kPieceBytes = 64u << 10;

std::size_t next_piece_end(std::string_view line, std::size_t begin, bool split) {
  if (!split || line.size() - begin <= kPieceBytes) return line.size();
  const std::size_t space = line.find_first_of(kAsciiSpace, begin + kPieceBytes);
  if (space == std::string_view::npos) return line.size();
  const std::size_t next = line.find_first_not_of(kAsciiSpace, space);
  return next == std::string_view::npos ? line.size() : next;
}

// Appends the ids of `line` (no special tokens) to `out`; returns how many.
std::size_t encode_line(const tokenizer::Tokenizer& tok, bool split, std::string_view line,
                        const tokenizer::EncodeOptions& enc, std::int64_t vocab, std::vector<std::int32_t>& out) {
  std::size_t n = 0;
  for (std::size_t b = 0, e = 0; b < line.size(); b = e) {
    e = next_piece_end(line, b, split);
    const tokenizer::Encoding piece = tok.encode(line.substr(b, e - b), std::nullopt, enc);
    for (const std::int64_t id : piece.ids) {
      DISTILBERT_CHECK(id >= 0 && id < vocab, "binarize: the tokenizer returned id ", id,
                       " outside its vocabulary [0, ", vocab, ")");
      out.push_back(static_cast<std::int32_t>(id));
    }
    n += piece.ids.size();
  }
  return n;
}

}  // namespace

BinarizeResult binarize(const tokenizer::Tokenizer& tok, const BinarizeOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  DISTILBERT_CHECK(!options.output_prefix.empty(), "binarize: no --output prefix given");
  const std::vector<std::string> files = expand_inputs(options.inputs);
  const tokenizer::SpecialTokenIds sp = tok.special_ids();
  DISTILBERT_CHECK(sp.cls >= 0 && sp.sep >= 0, "binarize: the tokenizer has no [CLS]/[SEP] tokens (cls id ", sp.cls,
                   ", sep id ", sp.sep, "); every sequence is stored as [CLS] text [SEP]");
  const auto vocab = static_cast<std::int64_t>(tok.vocab_size());
  const bool split_long_lines = tok.whitespace_ends_words();

  const std::size_t threads = options.threads ? options.threads : static_cast<std::size_t>(available_cpus());
  const std::size_t chunk_bytes = options.chunk_bytes ? options.chunk_bytes : std::max<std::size_t>(4u << 20, threads << 20);
  const std::size_t chunk_lines = std::max<std::size_t>(1, options.chunk_lines);
  tokenizer::ThreadPool pool(threads);

  TokenStoreWriter writer(options.output_prefix, vocab, tok.fingerprint(), sp);
  BinarizeResult result;
  result.dtype = token_dtype_for_vocab(vocab);
  result.sources.resize(files.size());

  // Full chunks travel reader -> tokeniser -> writer; empty ones come back through the free queues. Each queue can
  // hold every buffer of its kind, so only a free queue ever blocks (the stage waits for a buffer to come back).
  BoundedQueue<TextChunk> text_q(kTextBuffers), free_text(kTextBuffers);
  BoundedQueue<IdChunk> id_q(kIdBuffers), free_ids(kIdBuffers);
  for (std::size_t i = 0; i < kTextBuffers; ++i) free_text.push(TextChunk{});
  for (std::size_t i = 0; i < kIdBuffers; ++i) free_ids.push(IdChunk{});
  std::mutex err_mutex;
  std::exception_ptr error;
  auto set_error = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(err_mutex);
    if (!error) error = e;
    text_q.close();
    id_q.close();
    free_text.close();
    free_ids.close();
  };
  std::atomic<std::uint64_t> text_bytes{0}, lines_read{0}, blank{0}, tokens_written{0};

  std::thread reader([&] {
    try {
      std::uint64_t done_bytes = 0;
      for (std::size_t f = 0; f < files.size(); ++f) {
        LineReader in(files[f]);
        std::optional<TextChunk> chunk;
        std::string line;
        std::uint64_t file_lines = 0;
        while (in.next(line)) {
          ++file_lines;
          lines_read.fetch_add(1, std::memory_order_relaxed);
          text_bytes.store(done_bytes + in.text_bytes(), std::memory_order_relaxed);
          if (strip_ascii(line).empty()) {
            blank.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          // Text only: a NUL byte or bytes that are not UTF-8 mean a binary or mis-encoded file, which the reference
          // refuses too (it reads its input as UTF-8); tokenizing it would store sequences of [UNK]s and no word.
          const std::size_t nul = line.find('\0'), bad = nul != std::string::npos ? nul : invalid_utf8_at(line);
          DISTILBERT_CHECK(
              bad == std::string::npos, "binarize: ", printable(files[f]), ":", file_lines, ": ",
              nul != std::string::npos ? "a NUL byte" : "a byte that is not UTF-8", " at byte ", bad,
              " of the line; expected UTF-8 text (a binary file, or another encoding: convert it with iconv)");
          if (!chunk) {
            if (!(chunk = free_text.pop())) return;
            chunk->text.clear();
            chunk->ends.clear();
            // Room for the last line that crosses chunk_bytes too, so that it does not double the buffer.
            chunk->text.reserve(chunk_bytes + (64u << 10));
            chunk->source = f;
          }
          chunk->text += line;
          chunk->ends.push_back(chunk->text.size());
          if (chunk->ends.size() >= chunk_lines || chunk->text.size() >= chunk_bytes) {
            if (!text_q.push(std::move(*chunk))) return;
            chunk.reset();
          }
        }
        if (chunk && !text_q.push(std::move(*chunk))) return;
        SourceFile& s = result.sources[f];
        s.path = files[f];
        s.bytes = in.raw_bytes();
        s.sha256 = in.sha256();
        s.lines = file_lines;
        result.text_bytes += in.text_bytes();
        done_bytes += in.text_bytes();
      }
      text_q.close();
    } catch (...) {
      set_error(std::current_exception());
    }
  });

  std::thread writer_thread([&] {
    try {
      while (auto c = id_q.pop()) {
        std::size_t seq = 0, written = 0;
        for (const auto& slice : c->slices) {
          for (std::size_t at = 0; at < slice.size(); ++seq) {
            writer.add(slice.data() + at, c->lengths[seq]);
            at += c->lengths[seq];
          }
          written += slice.size();
        }
        result.sources[c->source].sequences += c->lengths.size();
        tokens_written.fetch_add(written, std::memory_order_relaxed);
        if (!free_ids.push(std::move(*c))) break;
      }
    } catch (...) {
      set_error(std::current_exception());
    }
  });

  const bool tty = ::isatty(2);
  auto last_report = Clock::now();
  auto report = [&](bool final) {
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double mb = text_bytes.load() / 1e6;
    std::cerr << (tty ? "\r" : "") << "[binarize] " << with_commas(lines_read.load()) << " lines, " << std::fixed
              << std::setprecision(1) << mb << " MB, " << (s > 0 ? mb / s : 0.0) << " MB/s, "
              << with_commas(tokens_written.load()) << " tokens" << (final || !tty ? "\n" : "") << std::flush;
    std::cerr.unsetf(std::ios::floatfield);
  };

  try {
    tokenizer::EncodeOptions enc;
    enc.add_special_tokens = false;
    while (auto c = text_q.pop()) {
      std::optional<IdChunk> ids = free_ids.pop();
      if (!ids) break;
      const std::size_t n = c->ends.size();
      // Slices of lines per task: each task appends to its own ids vector, written out in order afterwards.
      const std::size_t slices = std::min(n, threads * 8);
      ids->slices.resize(slices);
      ids->lengths.resize(n);
      ids->source = c->source;
      pool.parallel_for(slices, [&](std::size_t s) {
        const std::size_t b = n * s / slices, e = n * (s + 1) / slices;
        auto& out = ids->slices[s];
        out.clear();
        // A WordPiece token covers at least one byte of its line: room for all of them plus [CLS]/[SEP] (a hint
        // only; an untouched reservation costs address space, not memory).
        out.reserve(c->ends[e - 1] - (b ? c->ends[b - 1] : 0) + 2 * (e - b));
        for (std::size_t i = b; i < e; ++i) {
          // binarized_data.py encodes f"{cls} {line.strip()} {sep}" without added specials; for BERT that is
          // exactly [CLS] + encode(line) + [SEP] (tests/data_pipeline checks it on real text), and the latter does
          // not depend on how a tokenizer treats special-token strings inside text (SentencePiece models).
          out.push_back(static_cast<std::int32_t>(sp.cls));
          const std::size_t n_ids = encode_line(tok, split_long_lines, strip_ascii(c->line(i)), enc, vocab, out);
          out.push_back(static_cast<std::int32_t>(sp.sep));
          ids->lengths[i] = static_cast<std::uint32_t>(n_ids + 2);
        }
      });
      if (!free_text.push(std::move(*c))) break;
      if (!id_q.push(std::move(*ids))) break;
      if (options.progress && Clock::now() - last_report > std::chrono::seconds(tty ? 1 : 10)) {
        report(false);
        last_report = Clock::now();
      }
    }
    id_q.close();
  } catch (...) {
    set_error(std::current_exception());
  }
  reader.join();
  writer_thread.join();
  if (error) std::rethrow_exception(error);

  result.lines = lines_read.load();
  result.blank_lines = blank.load();
  result.sequences = writer.num_sequences();
  result.tokens = writer.num_tokens();
  DISTILBERT_CHECK(result.sequences > 0, "binarize: the input ", file_list(files), " (", result.lines,
                   " lines) holds no non-blank line: nothing to store");
  writer.finish(result.sources, {{"created_by", "distilbert binarize"},
                                 {"sequence_format", "[CLS] line.strip() [SEP] (binarized_data.py)"},
                                 {"blank_lines_skipped", result.blank_lines}});
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (options.progress) report(true);
  return result;
}

}  // namespace distilbert::data
