// keep_freed_memory (core/runtime.h): after it, glibc serves a 64 MiB block from the heap, not from a fresh mmap
// (mallinfo2's count of mmapped blocks does not grow), and the block freed stays with the process for the next one;
// DISTILBERT_MALLOC=system and the user's own MALLOC_* variables turn it off.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

#include "distilbert/core/runtime.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace distilbert;

TEST_CASE("keep_freed_memory: large blocks come from the heap and are reused, the user's choice wins",
          "[unit][runtime]") {
#if !defined(__GLIBC__) || !(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  WARN("SKIPPED: not glibc >= 2.33, nothing to check");
#else
  // The opt-outs are read before anything is set.
  ::setenv("DISTILBERT_MALLOC", "system", 1);
  CHECK_FALSE(keep_freed_memory());
  ::unsetenv("DISTILBERT_MALLOC");
  ::setenv("MALLOC_TRIM_THRESHOLD_", "1000", 1);
  CHECK_FALSE(keep_freed_memory());
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  if (!keep_freed_memory()) {
    WARN("SKIPPED: mallopt refused (a sanitizer's allocator), nothing to check");
    return;
  }
  const size_t n = 64u << 20;
  const auto before = mallinfo2();
  auto* a = static_cast<char*>(std::malloc(n));
  REQUIRE(a != nullptr);
  std::memset(a, 1, n);
  const auto during = mallinfo2();
  CHECK(during.hblks == before.hblks);      // not an mmapped block ...
  CHECK(during.arena >= before.arena + n);  // ... but heap
  std::free(a);
  const auto after = mallinfo2();
  CHECK(after.arena >= before.arena + n);   // freed, not trimmed: the pages stay for the next step
  CHECK(after.fordblks >= n);
#endif
}
