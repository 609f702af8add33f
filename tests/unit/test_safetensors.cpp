// safetensors: round trips for every dtype, and every kind of malformed file rejected with a message naming it.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/io/safetensors.h"

using namespace distilbert;
using Catch::Matchers::Contains;

namespace {

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "distilbert_tests";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// A file image: 8-byte header length, header text, data bytes.
std::string image(const std::string& header, const std::string& data, uint64_t claimed_len = UINT64_MAX) {
  uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("safetensors round trip of every supported dtype, with metadata", "[unit][safetensors]") {
  const std::string path = temp_path("roundtrip.safetensors");
  std::vector<std::pair<std::string, torch::Tensor>> ts = {
      {"f32", torch::randn({3, 5})},
      {"f64", torch::randn({2}, torch::kFloat64)},
      {"f16", torch::randn({4, 4}).to(torch::kFloat16)},
      {"bf16", torch::randn({7}).to(torch::kBFloat16)},
      {"i64", torch::arange(10, torch::kLong).view({2, 5})},
      {"i32", torch::arange(6, torch::kInt)},
      {"i16", torch::arange(3, torch::kShort)},
      {"i8", torch::arange(-3, 3, torch::kChar)},
      {"u8", torch::arange(5, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::empty({0, 4})},
      {"noncontiguous", torch::randn({4, 6}).t()},
  };
  save_safetensors(path, ts, {{"format", "pt"}});
  // Data starts 8-byte aligned, as the reference writer guarantees.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  CHECK((8 + n) % 8 == 0);
  auto f = load_safetensors(path);
  CHECK(f.metadata.at("format") == "pt");
  REQUIRE(f.tensors.size() == ts.size());
  for (const auto& [name, t] : ts) {
    INFO(name);
    const auto& back = f.at(name);
    CHECK(back.scalar_type() == t.scalar_type());
    CHECK(back.sizes() == t.sizes());
    CHECK(torch::equal(back, t.contiguous()));
  }
  // Loaded tensors are writable (copy-on-write mapping) without touching the file.
  f.at("f32").mul_(2);
  CHECK(torch::equal(load_safetensors(path).at("f32"), ts[0].second));
}

TEST_CASE("safetensors rejects malformed files with a clear message", "[unit][safetensors]") {
  const std::string good_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data(8, '\x01');
  struct Case {
    const char* what;
    std::string bytes;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "too short"},
      {"header length only partly present", std::string(5, '\0'), "too short"},
      {"header length 2^60", image(good_header, data, 1ull << 60), "exceeds the 100 MB limit"},
      {"header length past the end", image(good_header, data, 5000), "runs past the end of the file"},
      {"truncated data", image(good_header, data.substr(0, 5)), "past the end of the data"},
      {"bad JSON", image("{\"a\": [", data), "not valid JSON"},
      {"header not an object", image("[1,2]", ""), "must be a JSON object"},
      {"unknown dtype", image(R"({"a":{"dtype":"F8_E9","shape":[2],"data_offsets":[0,8]}})", data), "unsupported dtype"},
      {"negative dimension", image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data),
       "non-negative"},
      {"size does not match shape", image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
       "needs 12 bytes"},
      {"begin after end", image(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data), "begin after end"},
      {"overlapping ranges",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             data),
       "overlaps"},
      {"hole in the data", image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data), "hole"},
      {"trailing bytes", image(good_header, data + "xxxx"), "trailing bytes"},
      {"huge shape overflow",
       image(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}})", data),
       "too large"},
      {"missing offsets", image(R"({"a":{"dtype":"F32","shape":[2]}})", data), "data_offsets"},
      {"metadata not strings", image(R"({"__metadata__":{"x":1}})", ""), "must be a string"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string path = temp_path("bad.safetensors");
    write_raw(path, c.bytes);
    CHECK_THROWS_WITH(load_safetensors(path), Contains(path) && Contains(c.expect));
    CHECK_THROWS_AS(parse_safetensors(c.bytes.data(), c.bytes.size(), "mem"), Error);
  }
  CHECK_THROWS_WITH(load_safetensors("/nonexistent/x.safetensors"), Contains("/nonexistent/x.safetensors"));
}

TEST_CASE("safetensors writing is atomic: a failed write leaves the old file intact", "[unit][safetensors]") {
  const std::string path = temp_path("atomic.safetensors");
  save_safetensors(path, {{"x", torch::ones({3})}});
  // An unsupported dtype fails before anything is written; the previous file stays loadable.
  CHECK_THROWS_WITH(save_safetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}}), Contains("cannot be stored"));
  CHECK(torch::equal(load_safetensors(path).at("x"), torch::ones({3})));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  // A folder that does not exist is a clear error naming the path.
  CHECK_THROWS_WITH(save_safetensors("/nonexistent/dir/x.safetensors", {{"x", torch::ones({1})}}),
                    Contains("/nonexistent/dir"));
}
