// Explicit position_ids (docs/MODELS.md §2.2). transformers' own outputs with explicit positions are checked in
// tests/golden/test_hf_golden.cpp (the *_positions cases of tests/py/hf_golden.py); here: positions 0..T-1 give the
// default, shifted positions equal the default on a model whose table is shifted by hand, a (1, T) row is shared by
// the batch, bad position_ids are refused naming them, and `predict` reads them from JSONL.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/io/model_folder.h"
#include "export/export_test_support.h"
#include "support/run_command.h"
#include "support/scratch_files.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
constexpr int64_t kB = 3, kT = 9, kShift = 20;

ModelInputs batch() {
  torch::manual_seed(3);
  ModelInputs in;
  in.input_ids = torch::randint(5, 1000, {kB, kT}, torch::kLong);
  in.attention_mask = torch::ones({kB, kT}, torch::kLong);
  in.attention_mask[1].narrow(0, 6, 3).fill_(0);
  return in;
}

torch::Tensor position_table(PretrainedModel& m) {
  for (auto& p : m.named_parameters(true))
    if (p.key().find("position_embeddings.weight") != std::string::npos) return p.value();
  throw Error("no position_embeddings.weight");
}
}  // namespace

TEST_CASE("position_ids: 0..T-1 is the default, shifted positions read the shifted rows, (1, T) is shared",
          "[unit][positions]") {
  for (const auto type : {ModelType::DistilBert, ModelType::Bert}) {
    INFO((type == ModelType::Bert ? "BERT" : "DistilBERT"));
    auto model = export_test::random_model(export_test::small_config(type, 1000), Head::SequenceClassification, 40);
    torch::NoGradGuard ng;
    ModelInputs in = batch();
    const auto by_default = model->forward(in).logits;
    in.position_ids = torch::arange(kT).unsqueeze(0).expand({kB, kT});
    CHECK_TENSOR_CLOSE("explicit 0..T-1", model->forward(in).logits, by_default, 1e-6, 0.0);

    // Positions kShift..kShift+T-1 on this model = the default positions on a copy whose table starts kShift rows
    // later (rows rolled by hand): the same embeddings reach the same layers.
    in.position_ids = (torch::arange(kT) + kShift).unsqueeze(0);  // (1, T): every row
    const auto shifted = model->forward(in).logits;
    auto rolled = export_test::random_model(export_test::small_config(type, 1000), Head::SequenceClassification, 40);
    position_table(*rolled).copy_(position_table(*model).roll(-kShift, 0));
    ModelInputs plain = batch();
    CHECK_TENSOR_CLOSE("shifted by 20", shifted, rolled->forward(plain).logits, 1e-6, 0.0);
    CHECK((shifted - by_default).abs().max().item<double>() > 1e-3);  // the positions matter
    in.position_ids = in.position_ids.expand({kB, kT}).contiguous();
    CHECK_TENSOR_CLOSE("(B, T) = (1, T) repeated", model->forward(in).logits, shifted, 1e-6, 0.0);

    // More tokens than max_position_embeddings work when the positions stay inside the table.
    ModelInputs longer;
    longer.input_ids = torch::randint(5, 1000, {1, 600}, torch::kLong);
    CHECK_THROWS_WITH(model->forward(longer), Contains("sequence length 600") && Contains("512"));
    longer.position_ids = torch::arange(600).remainder(512).unsqueeze(0);
    CHECK(model->forward(longer).logits.sizes() == torch::IntArrayRef({1, 2}));
  }
}

TEST_CASE("position_ids: a wrong shape, dtype or value is refused naming position_ids", "[unit][positions]") {
  auto model = export_test::random_model(export_test::small_config(ModelType::DistilBert, 1000), Head::None, 41);
  ModelInputs in = batch();
  in.position_ids = torch::arange(kT - 1).unsqueeze(0);
  CHECK_THROWS_WITH(model->forward(in), Contains("position_ids must be (3, 9) or (1, 9)") && Contains("[1, 8]"));
  in.position_ids = torch::arange(kT).to(torch::kFloat).unsqueeze(0);
  CHECK_THROWS_WITH(model->forward(in), Contains("position_ids must be integers") && Contains("Float"));
  in.position_ids = (torch::arange(kT) + 510).unsqueeze(0);
  CHECK_THROWS_WITH(model->forward(in), Contains("position_ids must be in [0, 511]") && Contains("from 510 to 518"));
  in.position_ids = (torch::arange(kT) - 1).unsqueeze(0);
  CHECK_THROWS_WITH(model->forward(in), Contains("from -1 to 7"));
}

TEST_CASE("predict reads position_ids from JSONL and gives the model's outputs for them", "[unit][positions]") {
  const fs::path dir = testing::scratch_dir("predict_positions");
  auto model = export_test::random_model(export_test::small_config(ModelType::Bert, 1000), Head::SequenceClassification,
                                         42);
  save_model_folder(*model, (dir / "model").string());
  const std::vector<int64_t> ids = {101, 7, 8, 9, 10, 102};
  const std::vector<int64_t> shifted = {30, 31, 32, 33, 34, 35};
  {
    std::ofstream f(dir / "in.jsonl");
    f << nlohmann::json{{"input_ids", ids}}.dump() << "\n"
      << nlohmann::json{{"input_ids", ids}, {"position_ids", shifted}}.dump() << "\n"
      << nlohmann::json{{"input_ids", {ids[0], ids[1]}}}.dump() << "\n";  // shorter: padded beside explicit positions
  }
  auto r = testing::run_command(std::string(DISTILBERT_CLI) + " predict --model '" + (dir / "model").string() + "' --input '" +
                                (dir / "in.jsonl").string() + "' --output '" + (dir / "out.jsonl").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::json> lines;
  {
    std::ifstream f(dir / "out.jsonl");
    for (std::string line; std::getline(f, line);) lines.push_back(nlohmann::json::parse(line));
  }
  REQUIRE(lines.size() == 3);
  torch::NoGradGuard ng;
  const auto logits_for = [&](const std::vector<int64_t>& row, const std::vector<int64_t>& positions) {
    ModelInputs in;
    in.input_ids = torch::tensor(row).unsqueeze(0);
    if (!positions.empty()) in.position_ids = torch::tensor(positions).unsqueeze(0);
    return model->forward(in).logits[0];
  };
  const auto expected = std::vector<torch::Tensor>{logits_for(ids, {}), logits_for(ids, shifted),
                                                   logits_for({ids[0], ids[1]}, {})};
  for (size_t i = 0; i < 3; ++i) {
    INFO("line " << i + 1);
    const auto got = torch::tensor(lines[i]["logits"].get<std::vector<double>>()).to(torch::kFloat);
    // float32 logits of a 2-layer model of width 64 printed as doubles: batch padding changes summation order only.
    CHECK_TENSOR_CLOSE("logits", got, expected[i], 1e-5, 1e-5);
  }
  CHECK((expected[1] - expected[0]).abs().max().item<double>() > 1e-3);

  {
    std::ofstream f(dir / "bad.jsonl");
    f << nlohmann::json{{"input_ids", ids}, {"position_ids", {0, 1, 2}}}.dump() << "\n"
      << nlohmann::json{{"input_ids", ids}, {"position_ids", {0, 1, 2, 3, 4, 512}}}.dump() << "\n";
  }
  r = testing::run_command(std::string(DISTILBERT_CLI) + " predict --model '" + (dir / "model").string() + "' --input '" +
                           (dir / "bad.jsonl").string() + "'");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("bad.jsonl:1: position_ids must have the shape of input_ids"));
}
