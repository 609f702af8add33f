// LmSequences: the reference's split / drop rules (lm_seqs_dataset.py) on hand-made sequences.
#include <catch2/catch.hpp>

#include "data_pipeline/data_test_util.h"
#include "distilbert/core/error.h"
#include "distilbert/data/lm_sequences.h"

using namespace distilbert;
using namespace distilbert::data;
using namespace distilbert::testing;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<const TokenStore> make_store(const std::string& name, const std::vector<std::vector<std::int64_t>>& seqs) {
  const std::string dir = data_temp_dir("lmseq_" + name);
  return TokenStore::open(write_test_store(dir + "/s", seqs));
}

// The reference in Python terms, for the expectations: divide_chunks over the full sequence, cls/sep re-added.
std::vector<std::vector<std::int64_t>> reference_chunks(const std::vector<std::int64_t>& s, std::size_t max_len) {
  if (s.size() <= max_len) return {s};
  std::vector<std::vector<std::int64_t>> out;
  for (std::size_t i = 0; i < s.size(); i += max_len - 2) {
    std::vector<std::int64_t> c(s.begin() + static_cast<std::ptrdiff_t>(i),
                                s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), i + max_len - 2)));
    if (c.front() != 2) c.insert(c.begin(), 2);
    if (c.back() != 3) c.push_back(3);
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("LmSequences: lengths max_len, max_len + 1, 11, 12 and long sequences", "[data]") {
  const std::size_t max_len = 20;
  const auto s20 = test_sequence(20, 100);   // exactly max_len: kept whole
  const auto s21 = test_sequence(21, 200);   // max_len + 1: split
  const auto s11 = test_sequence(11, 300);   // <= 11: dropped
  const auto s12 = test_sequence(12, 400);   // 12: kept
  const auto s50 = test_sequence(50, 500);   // 3 chunks: 18, 18, 14 tokens of the original
  auto store = make_store("lengths", {s20, s21, s11, s12, s50});
  LmSequencesOptions o;
  o.max_len = static_cast<std::int64_t>(max_len);
  LmSequences seqs(store, o);

  std::vector<std::vector<std::int64_t>> expected;
  for (const auto* s : {&s20, &s21, &s11, &s12, &s50})
    for (auto& c : reference_chunks(*s, max_len))
      if (c.size() > 11) expected.push_back(c);
  REQUIRE(seqs.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("item " << i);
    CHECK(seqs.tokens(i) == expected[i]);
    CHECK(seqs.length(i) == expected[i].size());
    CHECK(seqs.length(i) <= max_len);
    CHECK(seqs.tokens(i).front() == 2);
    CHECK(seqs.tokens(i).back() == 3);
  }
  // s21 (chunks of 18): [CLS] + 17 body + added [SEP] = 19 tokens, then added [CLS] + 2 body + [SEP] = 4 -> dropped.
  CHECK(reference_chunks(s21, max_len).size() == 2);
  CHECK(reference_chunks(s21, max_len)[0].size() == 19);
  CHECK(reference_chunks(s21, max_len)[1].size() == 4);
  CHECK(seqs.tokens(0) == s20);
  CHECK(seqs.tokens(1) == reference_chunks(s21, max_len)[0]);
  CHECK(seqs.tokens(2) == s12);
  CHECK(seqs.source_sequence(2) == 3);
  CHECK(seqs.source_sequence(3) == 4);
  const auto& st = seqs.stats();
  CHECK(st.input_sequences == 5);
  CHECK(st.split_sequences == 2);
  CHECK(st.chunks == 5);  // 2 + 3
  CHECK(st.dropped_short == 2);  // s11 and the 4-token tail of s21
  CHECK(st.dropped_unk == 0);
  CHECK(st.kept == expected.size());
  std::uint64_t tokens = 0;
  for (const auto& e : expected) tokens += e.size();
  CHECK(st.tokens == tokens);
  CHECK_THAT(st.summary(), Contains("2 longer than max_len"));
}

TEST_CASE("LmSequences: [UNK] ratio >= 50% dropped, < 50% kept (after splitting)", "[data]") {
  auto with_unk = [](std::size_t len, std::size_t unks, std::int64_t first) {
    auto s = test_sequence(len, first);
    for (std::size_t i = 0; i < unks; ++i) s[1 + i] = 1;  // unk id 1
    return s;
  };
  const auto half = with_unk(20, 10, 0);        // 10/20 = 0.5: dropped
  const auto below = with_unk(20, 9, 100);      // 9/20: kept
  const auto all_but = with_unk(14, 12, 200);   // dropped
  // A long sequence whose first chunk is mostly [UNK] and second is clean: the rule applies per chunk.
  auto long_seq = test_sequence(40, 300);
  for (std::size_t i = 1; i < 12; ++i) long_seq[i] = 1;  // 11 unk in chunk 0 (21 tokens with the added [SEP])
  auto store = make_store("unk", {half, below, all_but, long_seq});
  LmSequencesOptions o;
  o.max_len = 22;  // chunks of 20
  LmSequences seqs(store, o);
  REQUIRE(seqs.size() == 2);
  CHECK(seqs.tokens(0) == below);
  CHECK(seqs.source_sequence(1) == 3);
  CHECK(seqs.tokens(1).size() == 21);  // second chunk: [CLS] added + 20 original tokens ending in [SEP]
  CHECK(seqs.stats().dropped_unk == 3);
  CHECK(seqs.stats().chunks == 2);
}

TEST_CASE("LmSequences: sequences must be [CLS] ... [SEP], nothing left is an error", "[data]") {
  auto bad = test_sequence(15, 0);
  bad.back() = 9;
  auto store = make_store("bad", {test_sequence(15, 0), bad});
  CHECK_THROWS_WITH(LmSequences(store), Contains("sequence 1") && Contains("[SEP]"));
  auto short_store = make_store("short", {test_sequence(5, 0), test_sequence(11, 0)});
  CHECK_THROWS_WITH(LmSequences(short_store), Contains("no sequence is left"));
}

TEST_CASE("LmSequences: the view matches a copy over many sequences and blocks", "[data]") {
  std::vector<std::vector<std::int64_t>> seqs;
  for (int i = 0; i < 70000; ++i) seqs.push_back(test_sequence(8 + static_cast<std::size_t>((i * 7919) % 60), i));
  auto store = make_store("many", seqs);
  LmSequencesOptions o;
  o.max_len = 32;
  o.threads = 2;
  LmSequences view(store, o);
  std::size_t k = 0;
  bool same = true;
  for (const auto& s : seqs)
    for (auto& c : reference_chunks(s, 32))
      if (c.size() > 11) same &= k < view.size() && view.tokens(k++) == c;
  CHECK(same);
  CHECK(k == view.size());
}
