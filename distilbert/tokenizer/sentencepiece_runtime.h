// The sentencepiece C++ library, loaded at run time in its own symbol scope.
//
// Why not link it: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite 3.14 and exports all of
// its symbols (~1300 google::protobuf names). In a process that also loads libprotobuf.so.32 (LibTorch and
// ONNX do), the dynamic linker binds one library's protobuf calls to the other's copy, and the process crashes
// at start-up (libprotobuf's static initialiser runs sentencepiece's MergeFromImpl; see
// google/sentencepiece#186, #723, #927). So the library is never linked: on first use it is dlopen()ed with
// RTLD_LOCAL | RTLD_DEEPBIND, which keeps it out of the global scope and makes it bind to its own protobuf
// copy. The object code below calls it only through virtual functions (the vtables live in the library) and
// a few symbols looked up with dlsym(); only the headers (libsentencepiece-dev) are needed to build, and the
// runtime library (libsentencepiece0) only when a SentencePiece model is used.
// Under AddressSanitizer (which refuses RTLD_DEEPBIND) the flag is left out: fine in torch-free processes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace distilbert::tokenizer::spm {

/// True when the library can be loaded; otherwise `why` (if given) says what failed.
bool available(std::string* why = nullptr);

/// One piece of an encoding: id, piece text and the byte range [begin, end) of the original input.
struct EncodedPiece {
  int id;
  std::string piece;
  std::uint32_t begin;
  std::uint32_t end;
};

/// A loaded model (sentencepiece::SentencePieceProcessor). Immutable after construction; the const members
/// are thread-safe, as sentencepiece's are.
class Processor {
 public:
  /// Throws distilbert::Error naming `source` when the library is missing or the bytes are not a model.
  Processor(std::string_view model_bytes, const std::string& source);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  int size() const;
  /// The id of `piece`, or the unknown id when it is not a piece (sentencepiece's PieceToId).
  int piece_to_id(std::string_view piece) const;
  const std::string& id_to_piece(int id) const;
  bool is_control(int id) const;
  int unk_id() const;
  int pad_id() const;
  /// Replaces `out` with the pieces of `text`. Throws distilbert::Error if sentencepiece reports an error.
  void encode(std::string_view text, std::vector<EncodedPiece>& out) const;
  std::string decode(const std::vector<int>& ids) const;

 private:
  void* p_ = nullptr;  // sentencepiece::SentencePieceProcessor*
  std::string source_;
};

/// sentencepiece::SentencePieceTrainer::Train(args) -> the serialized model (the .model file's bytes).
/// Throws distilbert::Error with sentencepiece's message on failure.
std::string train(const std::unordered_map<std::string, std::string>& args);

}  // namespace distilbert::tokenizer::spm
