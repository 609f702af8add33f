// One fuzz target = one function over a byte string, compiled two ways:
//  * under libFuzzer (tests/fuzz/CMakeLists.txt, DISTILBERT_FUZZ_MAIN defined): the function is
//    LLVMFuzzerTestOneInput of its own executable, built with -fsanitize=fuzzer,address,undefined;
//  * in the regular suite (test_core): the function registers itself by name and
//    tests/fuzz/test_fuzz_regressions.cpp replays tests/data/fuzz_regressions/<name>/* through it, so every
//    crash the fuzzers found stays fixed even where clang is not installed.
// A target returns normally when the parser accepted the input or refused it with distilbert::Error (the one
// documented failure). Anything else is a finding: another exception type (a raw nlohmann/std/c10 exception that
// would reach the user without naming the file), a broken invariant (fuzz_require), or a sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <typeinfo>

#include <unistd.h>

#include "distilbert/core/error.h"

namespace distilbert::fuzz {

using TargetFn = int (*)(const std::uint8_t*, std::size_t);

/// Registry of the targets compiled into the regular suite (name -> function).
inline std::map<std::string, TargetFn>& registry() {
  static std::map<std::string, TargetFn> r;
  return r;
}
struct Registrar {
  Registrar(const char* name, TargetFn fn) { registry()[name] = fn; }
};

/// A finding: the input broke a promise of the parser.
struct Finding : std::exception {
  std::string message;
  explicit Finding(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

[[noreturn]] inline void report(const std::string& message) {
#ifdef DISTILBERT_FUZZ_MAIN
  std::fprintf(stderr, "FUZZ FINDING: %s\n", message.c_str());
  std::abort();
#else
  throw Finding(message);
#endif
}

/// An invariant every accepted input must satisfy.
inline void require(bool cond, const std::string& what) {
  if (!cond) report("invariant broken: " + what);
}

/// Run `body`; distilbert::Error is an accepted refusal, every other exception is a finding.
template <typename Body>
void guarded(const char* stage, Body&& body) {
  try {
    body();
  } catch (const distilbert::Error&) {
  } catch (const Finding&) {
    throw;
  } catch (const std::exception& e) {
    report(std::string(stage) + ": exception other than distilbert::Error escaped (" + typeid(e).name() +
           "): " + e.what());
  }
}

/// Splits a fuzz input into typed pieces (a small stand-in for libFuzzer's FuzzedDataProvider, which gcc builds
/// of the regular suite do not have). Reads past the end give zeros / empty strings.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}
  std::uint8_t u8() {
    if (!left_) return 0;
    --left_;
    return *p_++;
  }
  bool boolean() { return u8() & 1; }
  /// A value in [lo, hi] from one or two bytes.
  std::size_t range(std::size_t lo, std::size_t hi) {
    const std::size_t span = hi - lo + 1;
    std::size_t v = u8();
    if (span > 256) v = v << 8 | u8();
    return lo + v % span;
  }
  /// A string of up to max_len bytes: a two-byte length, then the bytes (fewer when the input ends).
  std::string string(std::size_t max_len) {
    std::size_t n = range(0, 65535) % (max_len + 1);
    if (n > left_) n = left_;
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    left_ -= n;
    return s;
  }
  std::string rest() { return string(left_); }
  std::size_t remaining() const { return left_; }

 private:
  const std::uint8_t* p_;
  std::size_t left_;
};

/// A private scratch folder for targets whose parser reads files: one per process, made on first use under
/// /dev/shm (else $TMPDIR or /tmp), reused by every input. Left behind on exit (libFuzzer ends with _exit).
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string base = "/dev/shm";
    if (::access(base.c_str(), W_OK) != 0) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string tmpl = base + "/distilbert_fuzz_XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    return tmpl;
  }();
  return dir;
}

/// Write bytes to `path` (truncating); aborts on an I/O error, which would be an environment problem.
inline void write_bytes(const std::string& path, const void* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

}  // namespace distilbert::fuzz

#ifdef DISTILBERT_FUZZ_MAIN
#define DISTILBERT_FUZZ_TARGET(name)                                                        \
  static int fuzz_body_##name(const std::uint8_t* data, std::size_t size);                 \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {       \
    return fuzz_body_##name(data, size);                                                   \
  }                                                                                        \
  static int fuzz_body_##name(const std::uint8_t* data, std::size_t size)
#else
#define DISTILBERT_FUZZ_TARGET(name)                                                        \
  static int fuzz_body_##name(const std::uint8_t* data, std::size_t size);                 \
  static const ::distilbert::fuzz::Registrar fuzz_registrar_##name(#name, &fuzz_body_##name); \
  static int fuzz_body_##name(const std::uint8_t* data, std::size_t size)
#endif
