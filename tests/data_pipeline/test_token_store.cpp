// Token store: SHA-256, writer/reader round trip, every corruption rejected with a message naming the problem, the
// line reader (CRLF, gzip, several gzip members), binarize on real text against the tokenizer, and the CLI.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "data_pipeline/data_test_util.h"
#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/data/token_store.h"
#include "support/char_vocab.h"
#include "support/python_env.h"
#include "support/run_command.h"

using namespace distilbert;
using namespace distilbert::data;
using namespace distilbert::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string sha_of(const std::string& s) {
  Sha256 h;
  h.update(s.data(), s.size());
  return h.hex_digest();
}

void patch_bytes(const std::string& path, std::size_t at, const void* bytes, std::size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
}

void edit_json(const std::string& prefix, const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(read_file(prefix + ".json"));
  edit(j);
  write_file_atomic(prefix + ".json", j.dump());
}

std::string open_error(const std::string& prefix, TokenStore::OpenOptions o = {}) {
  try {
    TokenStore::open(prefix, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_gzip(const std::string& path, const std::vector<std::string>& members) {
  std::remove(path.c_str());
  for (const auto& m : members) {  // one gzip member per string, appended
    gzFile g = gzopen(path.c_str(), "ab");
    REQUIRE(g != nullptr);
    REQUIRE(gzwrite(g, m.data(), static_cast<unsigned>(m.size())) == static_cast<int>(m.size()));
    gzclose(g);
  }
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[data]") {
  CHECK(sha_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;  // a million 'a', fed in odd pieces
  std::string piece(997, 'a');
  std::size_t left = 1000000;
  while (left) {
    const std::size_t n = std::min(left, piece.size());
    h.update(piece.data(), n);
    left -= n;
  }
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("token store round trip: ids, offsets, metadata, dtype", "[data]") {
  const std::string dir = data_temp_dir("roundtrip");
  std::vector<std::vector<std::int64_t>> seqs = {{2, 10, 11, 3}, {2, 999, 3}, {2, 5, 6, 7, 8, 9, 3}};
  write_test_store(dir + "/s", seqs, 1000, "0123456789abcdef");
  for (const char* f : {"/s.ids", "/s.idx", "/s.json"}) CHECK(fs::exists(dir + f));
  for (const auto& e : fs::directory_iterator(dir)) CHECK_THAT(e.path().string(), !Contains(".tmp"));
  const auto store = TokenStore::open(dir + "/s", std::string("0123456789abcdef"));
  CHECK(store->num_sequences() == 3);
  CHECK(store->num_tokens() == 14);
  CHECK(store->dtype() == TokenDtype::uint16);
  CHECK(fs::file_size(dir + "/s.ids") == 28);
  CHECK(fs::file_size(dir + "/s.idx") == 32);
  CHECK(store->vocab_size() == 1000);
  CHECK(store->special_ids().cls == 2);
  CHECK(store->special_ids().mask == 4);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(store->sequence(i) == seqs[i]);
  CHECK(store->metadata()["files"]["ids"]["sha256"].get<std::string>().size() == 64);
  CHECK_NOTHROW(store->verify());
  CHECK_NOTHROW(TokenStore::open(dir + "/s", TokenStore::OpenOptions{std::nullopt, true}));

  // A vocabulary of 65536 or more ids is stored as int32.
  write_test_store(dir + "/big", {{2, 70000, 65535, 3}}, 80000);
  const auto big = TokenStore::open(dir + "/big");
  CHECK(big->dtype() == TokenDtype::int32);
  CHECK(big->sequence(0) == std::vector<std::int64_t>{2, 70000, 65535, 3});
  CHECK(fs::file_size(dir + "/big.ids") == 16);
  CHECK(token_dtype_for_vocab(65535) == TokenDtype::uint16);
  CHECK(token_dtype_for_vocab(65536) == TokenDtype::int32);
}

TEST_CASE("token store: writer refuses bad input and leaves nothing behind", "[data]") {
  const std::string dir = data_temp_dir("writer_errors");
  {
    TokenStoreWriter w(dir + "/e", 100, "f", test_specials());
    CHECK_THROWS_WITH(w.finish(), Contains("empty corpus"));
  }
  {
    TokenStoreWriter w(dir + "/v", 100, "f", test_specials());
    CHECK_THROWS_WITH(w.add({2, 100, 3}), Contains("outside the vocabulary [0, 100)"));
  }
  { TokenStoreWriter w(dir + "/abandoned", 100, "f", test_specials()); w.add({2, 5, 3}); }  // never finished
  CHECK(fs::is_empty(dir));
  CHECK_THAT(open_error(dir + "/abandoned"), Contains("not found"));
}

TEST_CASE("token store: corrupt, truncated and mismatched stores are rejected with clear messages", "[data]") {
  const std::string dir = data_temp_dir("corrupt");
  std::vector<std::vector<std::int64_t>> seqs;
  for (int i = 0; i < 20; ++i) seqs.push_back(test_sequence(5 + i % 7, i));
  auto fresh = [&](const std::string& name) { return write_test_store(dir + "/" + name, seqs); };

  SECTION("truncated ids") {
    const auto p = fresh("t");
    fs::resize_file(p + ".ids", fs::file_size(p + ".ids") - 2);
    const auto msg = open_error(p);
    CHECK_THAT(msg, Contains(p + ".ids") && Contains("truncated"));
  }
  SECTION("truncated index") {
    const auto p = fresh("ti");
    fs::resize_file(p + ".idx", fs::file_size(p + ".idx") - 8);
    CHECK_THAT(open_error(p), Contains(p + ".idx") && Contains("truncated"));
  }
  SECTION("offsets not monotone") {
    const auto p = fresh("m");
    const std::uint64_t bad = 3;  // offset 5 -> 3: below offset 4
    patch_bytes(p + ".idx", 5 * 8, &bad, 8);
    CHECK_THAT(open_error(p), Contains("not monotone") && Contains("offset 5"));
  }
  SECTION("last offset disagrees with num_tokens") {
    const auto p = fresh("l");
    const std::uint64_t n = seqs.size();
    std::uint64_t last = 0;
    for (const auto& s : seqs) last += s.size();
    --last;
    patch_bytes(p + ".idx", n * 8, &last, 8);
    CHECK_THAT(open_error(p), Contains("index and ids do not match"));
  }
  SECTION("JSON lies about the counts") {
    const auto p = fresh("j");
    edit_json(p, [](nlohmann::json& j) { j["num_tokens"] = j["num_tokens"].get<int>() + 10; });
    CHECK_THAT(open_error(p), Contains("disagrees with num_tokens"));
    fresh("j");
    edit_json(p, [](nlohmann::json& j) {
      j.erase("files");
      j["num_sequences"] = 19;
    });
    CHECK_THAT(open_error(p), Contains(".idx") && Contains("expected 160"));
  }
  SECTION("JSON missing keys, wrong types, bad version, not JSON") {
    const auto p = fresh("k");
    edit_json(p, [](nlohmann::json& j) { j.erase("vocab_size"); });
    CHECK_THAT(open_error(p), Contains("key 'vocab_size' is missing"));
    fresh("k");
    edit_json(p, [](nlohmann::json& j) { j["dtype"] = "float32"; });
    CHECK_THAT(open_error(p), Contains("'dtype'") && Contains("float32"));
    fresh("k");
    edit_json(p, [](nlohmann::json& j) { j["format_version"] = 7; });
    CHECK_THAT(open_error(p), Contains("format_version 7"));
    write_file_atomic(p + ".json", "{\"format_version\": 1, ");
    CHECK_THAT(open_error(p), Contains(p + ".json") && Contains("not valid JSON"));
  }
  SECTION("vocabulary larger than the id type") {
    const auto p = fresh("v");
    edit_json(p, [](nlohmann::json& j) { j["vocab_size"] = 70000; });
    CHECK_THAT(open_error(p), Contains("70000 ids does not fit the store's uint16"));
  }
  SECTION("empty corpus") {
    const auto p = fresh("e");
    edit_json(p, [](nlohmann::json& j) { j["num_sequences"] = 0; });
    CHECK_THAT(open_error(p), Contains("empty"));
  }
  SECTION("wrong tokenizer fingerprint names both") {
    const auto p = fresh("f");
    const auto msg = open_error(p, TokenStore::OpenOptions{std::string("ffffffffffffffff"), false});
    CHECK_THAT(msg, Contains("00000000000000aa") && Contains("ffffffffffffffff"));
  }
  SECTION("interrupted run: data files without JSON") {
    const auto p = fresh("i");
    fs::remove(p + ".json");
    CHECK_THAT(open_error(p), Contains("incomplete"));
  }
  SECTION("id outside the vocabulary: lazily on read, and by verify") {
    const auto p = fresh("o");
    const std::uint16_t bad = 5000;
    patch_bytes(p + ".ids", 2 * 7, &bad, 2);  // sequence 1 (5 + 1 tokens from 0), position 2 of it
    const auto store = TokenStore::open(p);   // cheap checks pass
    CHECK_NOTHROW(store->sequence(0));
    CHECK_THROWS_WITH(store->sequence(1), Contains("id 5000 at sequence 1 position 2"));
    CHECK_THROWS_WITH(store->verify(), Contains("id 5000 at sequence 1 position 2"));
    CHECK_THAT(open_error(p, TokenStore::OpenOptions{std::nullopt, true}), Contains("id 5000"));
    CHECK_THROWS_WITH(count_tokens(*store, 2), Contains("id 5000"));
  }
  SECTION("modified ids file caught by the checksum") {
    const auto p = fresh("c");
    const std::uint16_t other = 7;
    patch_bytes(p + ".ids", 2, &other, 2);
    CHECK(open_error(p).empty());
    CHECK_THAT(open_error(p, TokenStore::OpenOptions{std::nullopt, true}), Contains("SHA-256"));
  }
}

TEST_CASE("line reader: CRLF, last line without newline, gzip with several members, corrupt gzip", "[data]") {
  const std::string dir = data_temp_dir("lines");
  const std::string text = "one\r\ntwo\n\nthree";
  {
    std::ofstream(dir + "/a.txt", std::ios::binary) << text;
  }
  std::vector<std::string> got;
  {
    LineReader r(dir + "/a.txt");
    std::string l;
    while (r.next(l)) got.push_back(l);
    CHECK(r.raw_bytes() == text.size());
    CHECK(r.sha256() == sha_of(text));
  }
  CHECK(got == std::vector<std::string>{"one", "two", "", "three"});

  std::string big;  // larger than the internal buffers
  for (int i = 0; i < 40000; ++i) big += "line number " + std::to_string(i) + " of the gzip test\n";
  write_gzip(dir + "/b.txt.gz", {big.substr(0, 300000), big.substr(300000)});
  std::size_t n = 0;
  bool ordered = true;
  {
    LineReader r(dir + "/b.txt.gz");
    std::string l;
    while (r.next(l)) ordered &= l == "line number " + std::to_string(n++) + " of the gzip test";
    CHECK(r.text_bytes() == big.size());
    CHECK(r.raw_bytes() == fs::file_size(dir + "/b.txt.gz"));
  }
  CHECK(n == 40000);
  CHECK(ordered);

  fs::resize_file(dir + "/b.txt.gz", fs::file_size(dir + "/b.txt.gz") / 2);
  auto read_all = [](const std::string& p) {
    LineReader r(p);
    std::string l;
    while (r.next(l)) {
    }
  };
  CHECK_THROWS_WITH(read_all(dir + "/b.txt.gz"), Contains("truncated gzip"));
  {
    std::ofstream(dir + "/c.gz", std::ios::binary) << "plain text";
  }
  CHECK_THROWS_WITH(read_all(dir + "/c.gz"), Contains("not gzip"));
  CHECK_THROWS_WITH(read_all(dir + "/missing.txt"), Contains("missing.txt"));
}

TEST_CASE("binarize real text: ids are [CLS] + tokenizer ids + [SEP] per non-blank line", "[data]") {
  if (!have_real_text()) {
    WARN("SKIPPED: shared data not found (" << bert_tokenizer_dir() << ", " << wikitext_valid() << ")");
    return;
  }
  const std::string dir = data_temp_dir("binarize_real");
  const auto tok = tokenizer::load_tokenizer(bert_tokenizer_dir());
  const auto lines = read_lines(wikitext_valid(), 400);
  {
    std::ofstream out(dir + "/wiki.txt", std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
  }
  BinarizeOptions o;
  o.inputs = {dir + "/wiki.txt", std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/data_pipeline/sample.txt"};
  o.output_prefix = dir + "/store";
  o.threads = 2;
  o.chunk_lines = 37;  // many chunks through the pipeline
  o.progress = false;
  const BinarizeResult r = binarize(*tok, o);
  const auto store = TokenStore::open(dir + "/store", tok->fingerprint());
  CHECK(store->vocab_size() == 30522);
  CHECK(store->dtype() == TokenDtype::uint16);
  CHECK(store->special_ids().cls == 101);
  CHECK(store->special_ids().sep == 102);

  std::vector<std::string> expected_lines;
  for (const auto& l : lines)
    if (l.find_first_not_of(" \t\r") != std::string::npos) expected_lines.push_back(l);
  for (const auto& l : read_lines(std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/data_pipeline/sample.txt", 100))
    if (l.find_first_not_of(" \t\r") != std::string::npos) expected_lines.push_back(l);
  REQUIRE(store->num_sequences() == expected_lines.size());
  CHECK(r.sequences == expected_lines.size());
  CHECK(r.blank_lines == lines.size() + 7 - expected_lines.size());
  tokenizer::EncodeOptions no_special;
  no_special.add_special_tokens = false;
  std::size_t mismatches = 0, checked_tokens = 0;
  for (std::size_t i = 0; i < expected_lines.size(); ++i) {
    // The reference, literally: encode(f"{cls} {line.strip()} {sep}", add_special_tokens=False).
    std::string body = expected_lines[i];
    body.erase(0, body.find_first_not_of(" \t\r\n"));
    body.erase(body.find_last_not_of(" \t\r\n") + 1);
    const auto want = tok->encode("[CLS] " + body + " [SEP]", std::nullopt, no_special).ids;
    const auto got = store->sequence(i);
    checked_tokens += got.size();
    if (got != want) {
      ++mismatches;
      UNSCOPED_INFO("line " << i << ": " << expected_lines[i]);
    }
  }
  CHECK(mismatches == 0);
  CHECK(checked_tokens == store->num_tokens());
  // The sample's literal "[MASK]" / "[SEP]" inside a line are special tokens, as in the reference.
  const auto sample_seq = store->sequence(expected_lines.size() - 3);
  CHECK(std::count(sample_seq.begin(), sample_seq.end(), 103) == 1);
  CHECK(std::count(sample_seq.begin(), sample_seq.end(), 102) == 2);

  // Thread count and gzip input change nothing in the output.
  write_gzip(dir + "/wiki.txt.gz", {read_file(dir + "/wiki.txt")});
  o.inputs[0] = dir + "/wiki.txt.gz";
  o.output_prefix = dir + "/store1";
  o.threads = 1;
  o.chunk_lines = 65536;
  binarize(*tok, o);
  const auto one = TokenStore::open(dir + "/store1");
  CHECK(one->metadata()["files"]["ids"]["sha256"] == store->metadata()["files"]["ids"]["sha256"]);
  CHECK(one->metadata()["files"]["idx"]["sha256"] == store->metadata()["files"]["idx"]["sha256"]);
  CHECK(one->metadata()["sources"][0]["sha256"] != store->metadata()["sources"][0]["sha256"]);
  CHECK(one->metadata()["sources"][0]["lines"] == store->metadata()["sources"][0]["lines"]);

  // An existing store is replaced atomically; an input of blank lines only is an error that leaves no store.
  {
    std::ofstream(dir + "/blank.txt") << "\n  \n\n";
  }
  o.inputs = {dir + "/blank.txt"};
  o.output_prefix = dir + "/empty";
  CHECK_THROWS_WITH(binarize(*tok, o), Contains("no non-blank line"));
  CHECK_FALSE(fs::exists(dir + "/empty.json"));
  CHECK_FALSE(fs::exists(dir + "/empty.ids"));
}

TEST_CASE("CLI: binarize then token-counts, and their error messages", "[data]") {
  if (!have_real_text() || !fs::exists(DISTILBERT_CLI)) {
    WARN("SKIPPED: shared data or the CLI binary not found");
    return;
  }
  const std::string dir = data_temp_dir("cli");
  const std::string cli = DISTILBERT_CLI;
  const std::string sample = std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/data_pipeline/sample.txt";
  auto r = run_command(cli + " binarize --tokenizer " + bert_tokenizer_dir() + " --input " + sample + " --output " +
                       dir + "/s --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("5 sequences"));
  r = run_command(cli + " token-counts --data " + dir + "/s --output " + dir + "/counts.json --verify --tokenizer " +
                  bert_tokenizer_dir());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto store = TokenStore::open(dir + "/s");
  const TokenCounts c = load_token_counts(dir + "/counts.json", 30522, store->tokenizer_fingerprint());
  std::int64_t total = 0;
  for (auto v : c.counts) total += v;
  CHECK(total == static_cast<std::int64_t>(store->num_tokens()));
  CHECK(c.counts[101] == 5);
  CHECK(c.counts[102] == 6);  // one literal [SEP] inside a line

  r = run_command(cli + " token-counts --data " + dir + "/nothing --output " + dir + "/x.json");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains(dir + "/nothing") && Contains("binarize"));
  r = run_command(cli + " binarize --tokenizer " + bert_tokenizer_dir() + " --input " + dir + "/none.txt --output " +
                  dir + "/n");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("none.txt"));
}

TEST_CASE("CLI: binarize refuses to replace an existing store unless --overwrite is given", "[data]") {
  if (!fs::exists(DISTILBERT_CLI)) {
    WARN("SKIPPED: the CLI binary not found");
    return;
  }
  const std::string dir = data_temp_dir("cli_overwrite");
  write_char_vocab(dir + "/vocab.txt");
  write_file_atomic(dir + "/a.txt", "first corpus\nof two lines\n");
  write_file_atomic(dir + "/b.txt", "a second corpus with one line\n");
  const std::string cli = std::string(DISTILBERT_CLI) + " binarize --tokenizer " + dir + " --quiet --output " + dir + "/s";
  auto r = run_command(cli + " --input " + dir + "/a.txt");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string ids = read(dir + "/s.ids"), idx = read(dir + "/s.idx"), meta = read(dir + "/s.json");

  r = run_command(cli + " --input " + dir + "/b.txt");
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("'" + dir + "/s.ids'") && Contains("'" + dir + "/s.json'") &&
                           Contains("already exists") && Contains("--overwrite"));
  CHECK(read(dir + "/s.ids") == ids);  // the old store is untouched, byte for byte
  CHECK(read(dir + "/s.idx") == idx);
  CHECK(read(dir + "/s.json") == meta);
  CHECK(TokenStore::open(dir + "/s")->num_sequences() == 2);
  // One file of a store is enough to refuse (a half-deleted store is still somebody's data).
  fs::rename(dir + "/s.json", dir + "/s.json.bak");
  r = run_command(cli + " --input " + dir + "/b.txt");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("'" + dir + "/s.idx'"));
  fs::rename(dir + "/s.json.bak", dir + "/s.json");

  r = run_command(cli + " --input " + dir + "/b.txt --overwrite");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto store = TokenStore::open(dir + "/s", TokenStore::OpenOptions{std::nullopt, true});
  CHECK(store->num_sequences() == 1);
  CHECK(read(dir + "/s.ids") != ids);
  CHECK(store->metadata()["sources"][0]["path"] == dir + "/b.txt");
  for (const auto& e : fs::directory_iterator(dir))  // no temporary files left behind
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("token counts file: bare list accepted, wrong sizes and fingerprints refused", "[data]") {
  const std::string dir = data_temp_dir("counts");
  write_test_store(dir + "/s", {{2, 10, 10, 11, 3}, {2, 999, 3}}, 1000, "00000000000000aa");
  const auto store = TokenStore::open(dir + "/s");
  const auto counts = count_tokens(*store, 2);
  CHECK(counts.size() == 1000);
  CHECK(counts[2] == 2);
  CHECK(counts[10] == 2);
  CHECK(counts[999] == 1);
  save_token_counts(dir + "/c.json", counts, *store);
  CHECK(load_token_counts(dir + "/c.json", 1000, "00000000000000aa").counts == counts);
  CHECK_THROWS_WITH(load_token_counts(dir + "/c.json", 30522), Contains("1000 counts") && Contains("30522"));
  CHECK_THROWS_WITH(load_token_counts(dir + "/c.json", 1000, "bbbbbbbbbbbbbbbb"),
                    Contains("00000000000000aa") && Contains("bbbbbbbbbbbbbbbb"));
  write_file_atomic(dir + "/list.json", "[3, 0, 5]");
  CHECK(load_token_counts(dir + "/list.json").counts == std::vector<std::int64_t>{3, 0, 5});
  write_file_atomic(dir + "/neg.json", "[3, -1]");
  CHECK_THROWS_WITH(load_token_counts(dir + "/neg.json"), Contains("count 1"));
}

TEST_CASE("binarize: a line of 600 KB is stored with HF tokenizers' ids of the whole line, and 32 MB without a newline "
          "stays within bounded memory", "[data]") {
  if (!have_real_text()) {
    WARN("SKIPPED: shared data not found (" << bert_tokenizer_dir() << ", " << wikitext_valid() << ")");
    return;
  }
  const std::string dir = data_temp_dir("binarize_long_line");
  // WikiText-2 lines joined by single spaces into one line of at least 600 KB: ten 64 KB pieces and a tail.
  std::string text;
  for (const auto& l : read_lines(wikitext_valid(), 100000)) {
    if (l.find_first_not_of(" \t\r") == std::string::npos) continue;
    text += (text.empty() ? "" : " ") + l;
    if (text.size() >= (600u << 10)) break;
  }
  REQUIRE(text.size() >= (600u << 10));
  { std::ofstream(dir + "/long.txt", std::ios::binary) << text; }  // no newline at all
  const auto tok = tokenizer::load_tokenizer(bert_tokenizer_dir());
  BinarizeOptions o;
  o.inputs = {dir + "/long.txt"};
  o.output_prefix = dir + "/store";
  o.threads = 2;
  o.progress = false;
  binarize(*tok, o);
  const auto store = TokenStore::open(dir + "/store", tok->fingerprint());
  REQUIRE(store->num_sequences() == 1);
  if (require_python("tokenizers transformers", "the long-line check against HF tokenizers")) {
    { std::ofstream(dir + "/in.jsonl") << nlohmann::json{{"text", text}}.dump() << "\n"; }
    const auto r = run_python("hf_tokenize.py", "'" + bert_tokenizer_dir() + "' '" + dir + "/in.jsonl' '" + dir +
                                                    "/out.jsonl'");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::ifstream in(dir + "/out.jsonl");
    std::string line;
    REQUIRE(std::getline(in, line));
    const auto hf = nlohmann::json::parse(line);
    const auto want = hf["fast"]["ids"].get<std::vector<std::int64_t>>();  // [CLS] ... [SEP], as the store holds
    const auto got = store->sequence(0);
    CHECK(got.size() == want.size());
    CHECK(got == want);
    CHECK(hf["slow"]["ids"].get<std::vector<std::int64_t>>() == want);
  }
  // 32 MB of the same text, still without a newline, through the CLI: its peak resident memory grows by less than
  // 256 MB over the same command on the 600 KB line. The growth holds the line (32 MB), its ids (7.9 M tokens at
  // 8 bytes: 63 MB) and the pieces in flight; tokenizing the line whole grew it by more than 1 GB (the tokenizer's
  // strings and offsets cost tens of bytes per text byte). The baseline (LibTorch's libraries, about 170 MB with
  // 1.13) differs between LibTorch versions and machines, so only the growth is bounded.
  {
    std::ofstream out(dir + "/big.txt", std::ios::binary);
    for (std::size_t n = 0; n < (32u << 20); n += text.size() + 1) out << text << " ";
  }
  const auto peak_kb_of = [&](const std::string& input, const std::string& output) {
    const auto r = run_command("/usr/bin/time -f 'peak_kb %M' " + std::string(DISTILBERT_CLI) + " binarize --tokenizer '" +
                               bert_tokenizer_dir() + "' --input '" + input + "' --output '" + output +
                               "' --threads 2 --quiet");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto at = r.output.find("peak_kb ");
    REQUIRE(at != std::string::npos);
    return std::stol(r.output.substr(at + 8));
  };
  const long small_kb = peak_kb_of(dir + "/long.txt", dir + "/small");
  const long big_kb = peak_kb_of(dir + "/big.txt", dir + "/big");
  INFO("peak resident memory: " << small_kb / 1024 << " MB on 600 KB, " << big_kb / 1024 << " MB on 32 MB");
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine holds up to 256 MB of freed memory and its shadow adds an eighth: 308 MB of growth there.
  WARN("SKIPPED: the memory bound under AddressSanitizer, whose quarantine keeps freed memory resident");
#else
  CHECK(big_kb - small_kb < 256 * 1024);
#endif
  CHECK(TokenStore::open(dir + "/big")->num_sequences() == 1);
}
