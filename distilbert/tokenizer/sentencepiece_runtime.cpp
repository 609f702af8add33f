// See sentencepiece_runtime.h for why sentencepiece is dlopen()ed instead of linked.
//
// Rules that keep this file free of link-time references to the library (checked in the build by the
// absence of undefined sentencepiece symbols in this object):
//   * objects of library classes are created in raw memory by their constructor looked up with dlsym(), and
//     destroyed through their virtual destructor (the vtable belongs to the library);
//   * library member functions are called either as virtual functions or through dlsym()ed pointers that take
//     `this` as their first argument (the Itanium C++ ABI, which every Linux compiler uses);
//   * util::Status results are constructed in raw storage (C++17 guaranteed copy elision) and destroyed by the
//     library's own destructor.
#include "distilbert/tokenizer/sentencepiece_runtime.h"

#include <dlfcn.h>
#include <sentencepiece_processor.h>

#include <mutex>
#include <new>

#include "distilbert/core/error.h"

#if !defined(__GXX_ABI_VERSION)
#error "sentencepiece_runtime.cpp assumes the Itanium C++ ABI (GCC, Clang)"
#endif

namespace distilbert::tokenizer::spm {

namespace {

namespace sp = ::sentencepiece;

/// ImmutableSentencePieceText_ImmutableSentencePiece: one pointer, trivially copyable (returned in a register).
struct RawPiece {
  const void* sp;
};
static_assert(sizeof(RawPiece) == sizeof(sp::ImmutableSentencePieceText_ImmutableSentencePiece));

/// Same size and calling convention as util::Status (non-trivial, so returned through a hidden pointer);
/// destroyed by the library's destructor.
struct RawStatus {
  void* rep;
  ~RawStatus();
};
static_assert(sizeof(RawStatus) == sizeof(sp::util::Status));

using TrainArgs = std::unordered_map<std::string, std::string>;

struct Api {
  void* handle = nullptr;
  std::string error;
  void (*processor_ctor)(void*) = nullptr;
  void (*status_dtor)(void*) = nullptr;
  std::string (*status_to_string)(const void*) = nullptr;
  void (*text_ctor)(void*) = nullptr;
  void* (*text_mutable_proto)(void*) = nullptr;
  std::size_t (*text_pieces_size)(const void*) = nullptr;
  RawPiece (*text_pieces)(const void*, int) = nullptr;
  const std::string& (*piece_piece)(const RawPiece*) = nullptr;
  std::uint32_t (*piece_id)(const RawPiece*) = nullptr;
  std::uint32_t (*piece_begin)(const RawPiece*) = nullptr;
  std::uint32_t (*piece_end)(const RawPiece*) = nullptr;
  RawStatus (*train)(const TrainArgs&, void*, std::string*) = nullptr;
};

#if defined(__SANITIZE_ADDRESS__)
#define DISTILBERT_SPM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DISTILBERT_SPM_ASAN 1
#endif
#endif

Api load_api() {
  Api a;
  int flags = RTLD_NOW | RTLD_LOCAL;
#if !defined(DISTILBERT_SPM_ASAN)
  flags |= RTLD_DEEPBIND;
#endif
  // The trainer library depends on the processor library, so one handle reaches both.
  for (const char* name : {"libsentencepiece_train.so.0", "libsentencepiece_train.so"}) {
    a.handle = ::dlopen(name, flags);
    if (a.handle) break;
  }
  if (!a.handle) {
    const char* e = ::dlerror();
    a.error = std::string("cannot load libsentencepiece_train.so.0 (") + (e ? e : "unknown error") +
              "); install the sentencepiece runtime: apt-get install libsentencepiece0";
    return a;
  }
  bool ok = true;
  auto sym = [&](auto& fn, const char* name) {
    void* p = ::dlsym(a.handle, name);
    if (!p) {
      if (ok) a.error = std::string("libsentencepiece lacks the symbol ") + name + " (expected sentencepiece 0.1.9x)";
      ok = false;
      return;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  sym(a.processor_ctor, "_ZN13sentencepiece22SentencePieceProcessorC1Ev");
  sym(a.status_dtor, "_ZN13sentencepiece4util6StatusD1Ev");
  sym(a.status_to_string, "_ZNK13sentencepiece4util6Status8ToStringB5cxx11Ev");
  sym(a.text_ctor, "_ZN13sentencepiece26ImmutableSentencePieceTextC1Ev");
  sym(a.text_mutable_proto, "_ZN13sentencepiece26ImmutableSentencePieceText13mutable_protoEv");
  sym(a.text_pieces_size, "_ZNK13sentencepiece26ImmutableSentencePieceText11pieces_sizeEv");
  sym(a.text_pieces, "_ZNK13sentencepiece26ImmutableSentencePieceText6piecesEi");
  sym(a.piece_piece, "_ZNK13sentencepiece49ImmutableSentencePieceText_ImmutableSentencePiece5pieceB5cxx11Ev");
  sym(a.piece_id, "_ZNK13sentencepiece49ImmutableSentencePieceText_ImmutableSentencePiece2idEv");
  sym(a.piece_begin, "_ZNK13sentencepiece49ImmutableSentencePieceText_ImmutableSentencePiece5beginEv");
  sym(a.piece_end, "_ZNK13sentencepiece49ImmutableSentencePieceText_ImmutableSentencePiece3endEv");
  sym(a.train,
      "_ZN13sentencepiece20SentencePieceTrainer5TrainERKSt13unordered_mapINSt7__cxx1112basic_stringIcSt11char_"
      "traitsIcESaIcEEES7_St4hashIS7_ESt8equal_toIS7_ESaISt4pairIKS7_S7_EEEPNS_16SentenceIteratorEPS7_");
  if (!ok) {
    ::dlclose(a.handle);
    a.handle = nullptr;
  }
  return a;
}

const Api& api() {
  static const Api a = load_api();
  return a;
}

const Api& require_api(const std::string& what) {
  const Api& a = api();
  DISTILBERT_CHECK(a.handle != nullptr, what, ": ", a.error);
  return a;
}

RawStatus::~RawStatus() { api().status_dtor(this); }

/// Runs `call` (which returns a util::Status by value) and returns "" when it succeeded, else its message.
template <typename Call>
std::string status_message(const Api& a, Call&& call) {
  alignas(sp::util::Status) unsigned char storage[sizeof(sp::util::Status)];
  auto* status = ::new (static_cast<void*>(storage)) sp::util::Status(call());
  std::string message = status->ok() ? std::string() : a.status_to_string(status);
  a.status_dtor(status);
  return message;
}

sp::SentencePieceProcessor* proc(void* p) { return static_cast<sp::SentencePieceProcessor*>(p); }

}  // namespace

bool available(std::string* why) {
  const Api& a = api();
  if (!a.handle && why) *why = a.error;
  return a.handle != nullptr;
}

Processor::Processor(std::string_view model_bytes, const std::string& source) : source_(source) {
  const Api& a = require_api(source);
  void* mem = ::operator new(sizeof(sp::SentencePieceProcessor));
  a.processor_ctor(mem);
  p_ = mem;
  const std::string message = status_message(a, [&]() -> sp::util::Status {
    return proc(p_)->LoadFromSerializedProto(model_bytes);
  });
  if (!message.empty()) {
    proc(p_)->~SentencePieceProcessor();
    ::operator delete(p_);
    p_ = nullptr;
    fail(source, ": not a sentencepiece model (", message,
         "); expected the .model file written by spm_train or `distilbert train-tokenizer --type unigram|bpe`");
  }
}

Processor::~Processor() {
  if (!p_) return;
  proc(p_)->~SentencePieceProcessor();  // virtual: the library's destructor
  ::operator delete(p_);
}

int Processor::size() const { return proc(p_)->GetPieceSize(); }
int Processor::piece_to_id(std::string_view piece) const { return proc(p_)->PieceToId(piece); }
const std::string& Processor::id_to_piece(int id) const { return proc(p_)->IdToPiece(id); }
bool Processor::is_control(int id) const { return proc(p_)->IsControl(id); }
int Processor::unk_id() const { return proc(p_)->unk_id(); }
int Processor::pad_id() const { return proc(p_)->pad_id(); }

void Processor::encode(std::string_view text, std::vector<EncodedPiece>& out) const {
  const Api& a = api();
  out.clear();
  alignas(sp::ImmutableSentencePieceText) unsigned char storage[sizeof(sp::ImmutableSentencePieceText)];
  a.text_ctor(storage);
  auto* spt = reinterpret_cast<sp::ImmutableSentencePieceText*>(storage);
  struct Destroy {
    sp::ImmutableSentencePieceText* t;
    ~Destroy() { t->~ImmutableSentencePieceText(); }  // virtual: the library's destructor
  } destroy{spt};
  auto* proto = static_cast<sp::SentencePieceText*>(a.text_mutable_proto(spt));
  const std::string message =
      status_message(a, [&]() -> sp::util::Status { return proc(p_)->Encode(text, proto); });
  DISTILBERT_CHECK(message.empty(), source_, ": sentencepiece could not encode the text (", message, ")");
  const std::size_t n = a.text_pieces_size(spt);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const RawPiece piece = a.text_pieces(spt, static_cast<int>(i));
    out.push_back(EncodedPiece{static_cast<int>(a.piece_id(&piece)), a.piece_piece(&piece), a.piece_begin(&piece),
                               a.piece_end(&piece)});
  }
}

std::string Processor::decode(const std::vector<int>& ids) const {
  std::string text;
  const std::string message =
      status_message(api(), [&]() -> sp::util::Status { return proc(p_)->Decode(ids, &text); });
  DISTILBERT_CHECK(message.empty(), source_, ": sentencepiece could not decode (", message, ")");
  return text;
}

std::string train(const std::unordered_map<std::string, std::string>& args) {
  const Api& a = require_api("sentencepiece training");
  // SentencePieceTrainer::Train keeps global state (flags, log level): one training at a time.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::string proto;
  const RawStatus status = a.train(args, nullptr, &proto);
  DISTILBERT_CHECK(status.rep == nullptr, "sentencepiece training failed: ", a.status_to_string(&status));
  return proto;
}

}  // namespace distilbert::tokenizer::spm
