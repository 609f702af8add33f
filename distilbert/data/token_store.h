// The binarized pretraining corpus: a compact, memory-mapped token store (docs/DISTILLATION.md §3, binarized_data.py).
//
// A store with prefix P is three files:
//   P.ids   every sequence's token ids concatenated, little-endian uint16 when vocab_size < 65536, else int32
//   P.idx   num_sequences + 1 little-endian uint64 offsets (in tokens) into P.ids; idx[0] = 0, idx[N] = num_tokens;
//           sequence i is ids[idx[i], idx[i+1])
//   P.json  metadata: format_version, dtype, num_sequences, num_tokens, vocab_size, tokenizer_fingerprint,
//           special_ids, byte sizes and SHA-256 of P.ids / P.idx, and the source files (path, bytes, SHA-256)
// The writer fills P.ids / P.idx under temporary names, renames them when complete and writes P.json last
// (removing any older P.json first), so an interrupted run never leaves a store that opens.
//
// TokenStore::open checks everything that is cheap (JSON keys and types, dtype against vocab_size, file sizes
// against the JSON, offsets monotone from 0 to num_tokens, the tokenizer fingerprint); ids >= vocab_size are caught
// when a sequence is read (copy()) and, together with the SHA-256 of both files, by verify() / OpenOptions::verify.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::data {

enum class TokenDtype { uint16, int32 };

/// "uint16" / "int32".
const char* token_dtype_name(TokenDtype d);
/// Bytes per id.
std::size_t token_dtype_size(TokenDtype d);
/// The reference rule: uint16 when vocab_size < 65536, else int32.
TokenDtype token_dtype_for_vocab(std::int64_t vocab_size);

/// Special ids as a list (those >= 0): pad, unk, cls, sep, mask.
std::vector<std::int64_t> special_id_list(const tokenizer::SpecialTokenIds& s);
nlohmann::json special_ids_to_json(const tokenizer::SpecialTokenIds& s);

/// One input file of a store, as recorded in its JSON.
struct SourceFile {
  std::string path;
  std::uint64_t bytes = 0;       ///< size of the file as read (compressed size for .gz)
  std::string sha256;            ///< of the file's bytes (matches `sha256sum`)
  std::uint64_t lines = 0;       ///< lines read (after decompression)
  std::uint64_t sequences = 0;   ///< sequences written (non-blank lines)
};

/// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  /// 64 lowercase hex digits; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

/// Writes a store sequence by sequence. Nothing appears under the final names until finish() succeeds; the
/// destructor of an unfinished writer removes its temporary files.
class TokenStoreWriter {
 public:
  TokenStoreWriter(std::string prefix, std::int64_t vocab_size, std::string tokenizer_fingerprint,
                   tokenizer::SpecialTokenIds special_ids);
  ~TokenStoreWriter();
  TokenStoreWriter(const TokenStoreWriter&) = delete;
  TokenStoreWriter& operator=(const TokenStoreWriter&) = delete;

  /// Append one sequence; every id must be in [0, vocab_size).
  void add(const std::int64_t* ids, std::size_t n);
  void add(const std::int32_t* ids, std::size_t n);
  void add(const std::vector<std::int64_t>& ids) { add(ids.data(), ids.size()); }
  std::uint64_t num_sequences() const { return num_sequences_; }
  std::uint64_t num_tokens() const { return num_tokens_; }
  /// fsync + rename the data files, then write P.json (atomically, last). `extra` is merged into the JSON.
  /// Refuses an empty store.
  void finish(const std::vector<SourceFile>& sources = {}, const nlohmann::json& extra = nlohmann::json::object());

 private:
  template <typename Id>
  void add_ids(const Id* ids, std::size_t n);
  void flush_buffers();
  void cleanup() noexcept;

  std::string prefix_;
  std::int64_t vocab_size_;
  std::string fingerprint_;
  tokenizer::SpecialTokenIds specials_;
  TokenDtype dtype_;
  std::string ids_tmp_, idx_tmp_;
  std::FILE* ids_file_ = nullptr;
  std::FILE* idx_file_ = nullptr;
  std::vector<unsigned char> ids_buf_;
  std::vector<std::uint64_t> idx_buf_;
  Sha256 ids_sha_, idx_sha_;
  std::uint64_t num_sequences_ = 0, num_tokens_ = 0;
  bool finished_ = false;
};

class TokenStore {
 public:
  struct OpenOptions {
    /// When set, a store made by another tokenizer is an error naming both fingerprints.
    std::optional<std::string> expected_fingerprint;
    /// Also scan every id against vocab_size and check the SHA-256 of both files (reads the whole store).
    bool verify = false;
  };

  static std::shared_ptr<const TokenStore> open(const std::string& prefix, const OpenOptions& options);
  static std::shared_ptr<const TokenStore> open(const std::string& prefix,
                                                std::optional<std::string> expected_fingerprint = std::nullopt);
  ~TokenStore();

  const std::string& prefix() const { return prefix_; }
  std::size_t num_sequences() const { return num_sequences_; }
  std::uint64_t num_tokens() const { return num_tokens_; }
  std::int64_t vocab_size() const { return vocab_size_; }
  TokenDtype dtype() const { return dtype_; }
  const std::string& tokenizer_fingerprint() const { return fingerprint_; }
  const tokenizer::SpecialTokenIds& special_ids() const { return specials_; }
  const nlohmann::json& metadata() const { return meta_; }

  std::uint64_t offset(std::size_t seq) const { return idx_[seq]; }
  std::size_t length(std::size_t seq) const { return static_cast<std::size_t>(idx_[seq + 1] - idx_[seq]); }
  /// The id at global token position `pos` (unchecked).
  std::int64_t id_at(std::uint64_t pos) const {
    return dtype_ == TokenDtype::uint16 ? static_cast<std::int64_t>(u16_[pos]) : static_cast<std::int64_t>(i32_[pos]);
  }
  /// Copy tokens [begin, end) of sequence `seq` into `out`, checking each id against vocab_size (an Error naming
  /// the store, sequence and position otherwise).
  void copy(std::size_t seq, std::size_t begin, std::size_t end, std::int64_t* out) const;
  std::vector<std::int64_t> sequence(std::size_t seq) const;
  /// Raw views for scans (one of them is null, by dtype).
  const std::uint16_t* ids_u16() const { return u16_; }
  const std::int32_t* ids_i32() const { return i32_; }

  /// Full check: every id in [0, vocab_size) and the SHA-256 of both files against the JSON.
  void verify() const;

 private:
  TokenStore() = default;
  struct Mapping;
  [[noreturn]] void bad_id(std::size_t seq, std::size_t pos, std::int64_t id) const;

  std::string prefix_;
  nlohmann::json meta_;
  std::size_t num_sequences_ = 0;
  std::uint64_t num_tokens_ = 0;
  std::int64_t vocab_size_ = 0;
  TokenDtype dtype_ = TokenDtype::uint16;
  std::string fingerprint_;
  tokenizer::SpecialTokenIds specials_;
  std::unique_ptr<Mapping> ids_map_, idx_map_;
  const std::uint16_t* u16_ = nullptr;
  const std::int32_t* i32_ = nullptr;
  const std::uint64_t* idx_ = nullptr;
};

/// Options of binarize().
struct BinarizeOptions {
  /// Text files (one document / sentence per line; `.gz` or gzip magic is decompressed) or folders (their regular,
  /// non-hidden files, sorted by name).
  std::vector<std::string> inputs;
  std::string output_prefix;
  std::size_t threads = 0;  ///< 0 = all available CPUs
  /// Lines per tokenisation chunk cap and text bytes per chunk (0 = 1 MiB per thread, at least 4 MiB).
  std::size_t chunk_lines = 65536;
  std::size_t chunk_bytes = 0;
  bool progress = true;  ///< lines, MB and MB/s on stderr
};

struct BinarizeResult {
  std::uint64_t lines = 0, blank_lines = 0, sequences = 0, tokens = 0;
  std::uint64_t text_bytes = 0;  ///< decompressed text bytes read
  double seconds = 0;
  TokenDtype dtype = TokenDtype::uint16;
  std::vector<SourceFile> sources;
};

/// Expand files and folders into the list of files binarize() reads (an Error for a missing path or an empty list).
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs);

/// binarized_data.py in C++: each non-blank line L becomes encode(f"{cls} {L.strip()} {sep}",
/// add_special_tokens=False); computed as [CLS] + encode(L.strip(), add_special_tokens=False) + [SEP], which is the
/// same for BERT (checked on real text by the tests) and does not depend on how a tokenizer treats special-token
/// strings inside text. Streams the input: besides the writer's fixed buffers, memory is 3 recycled text chunks
/// (about chunk_bytes each) and 2 recycled id chunks (their ids as int32), whatever the corpus size. Tokenises on
/// `threads` threads in chunks and writes the store at output_prefix. Sequences are in input order
/// (the reference shuffles its list; our samplers shuffle every epoch).
BinarizeResult binarize(const tokenizer::Tokenizer& tok, const BinarizeOptions& options);

/// Reads lines of a text file, plain or gzip (several members allowed), hashing the raw bytes as it goes.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  /// Next line without its '\n' (and a trailing '\r'); false at the end.
  bool next(std::string& line);
  std::uint64_t raw_bytes() const { return raw_bytes_; }
  std::uint64_t text_bytes() const { return text_bytes_; }
  /// SHA-256 of the raw file bytes; call once at the end.
  std::string sha256() { return sha_.hex_digest(); }

 private:
  bool fill();  // more text into text_; false at end of input
  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  void* zstream_ = nullptr;
  bool zstream_done_ = false;  // current gzip member ended
  std::vector<unsigned char> raw_;
  std::size_t raw_pos_ = 0, raw_len_ = 0;
  bool raw_eof_ = false;
  std::string text_;
  std::size_t text_pos_ = 0;
  std::uint64_t raw_bytes_ = 0, text_bytes_ = 0;
  Sha256 sha_;
};

}  // namespace distilbert::data
