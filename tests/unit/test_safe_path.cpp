// Names read from files or recipes never lead outside their folder (issue 10): child_path() and its users, the
// sharded-checkpoint index reader and the SentencePiece tokenizer_config.json key.
#include <filesystem>
#include <fstream>

#include "distilbert/core/error.h"
#include "distilbert/core/safe_path.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/tokenizer/sentencepiece_tokenizer.h"

// Catch2 last: LibTorch pulls in glog, whose CHECK would otherwise replace Catch's when no PCH is used.
#include <catch2/catch.hpp>

using namespace distilbert;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("child_path keeps names inside their folder", "[unit][paths]") {
  CHECK(child_path("/run", "model.safetensors", "x") == fs::path("/run/model.safetensors"));
  CHECK(child_path("/run", "onnx/model.onnx", "x") == fs::path("/run/onnx/model.onnx"));
  CHECK(child_path("/run", "model..safetensors", "x") == fs::path("/run/model..safetensors"));  // dots in a name are fine
  CHECK_THROWS_WITH(child_path("/run", "../evil", "shard name"), Contains("shard name") && Contains("'..'"));
  CHECK_THROWS_WITH(child_path("/run", "a/../../evil", "x"), Contains("'..'"));
  CHECK_THROWS_WITH(child_path("/run", "/etc/passwd", "x"), Contains("absolute path"));
  CHECK_THROWS_WITH(child_path("/run", "", "x"), Contains("empty"));
  CHECK_THROWS_WITH(child_path("/run", std::string("a\0b", 3), "x"), Contains("NUL"));
}

TEST_CASE("a sharded index cannot name a shard outside the model folder", "[unit][paths]") {
  const fs::path dir = fs::temp_directory_path() / "distilbert_safe_path" / "model";
  fs::remove_all(dir.parent_path());
  fs::create_directories(dir);
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"w": "../outside.safetensors"}})";
  CHECK_THROWS_WITH(read_weights(dir.string()), Contains("shard name") && Contains("../outside.safetensors"));
}

TEST_CASE("tokenizer_config.json cannot point the SentencePiece model outside the folder", "[unit][paths]") {
  const fs::path dir = fs::temp_directory_path() / "distilbert_safe_path" / "spm";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer_config.json") << R"({"sentencepiece_model": "../../../etc/hostname"})";
  CHECK_THROWS_WITH(tokenizer::SentencePieceTokenizer::find_model_file(dir), Contains("sentencepiece_model") &&
                                                                                   Contains("'..'"));
}
