// DISTILBERT_CHECK (distilbert/core/error.h): evaluates its message only on failure, throws distilbert::Error with
// the message streamed together, and is one statement; the model code raises it too (not LibTorch's c10::Error).
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/model/pretrained.h"

using namespace distilbert;
using Catch::Matchers::Contains;

TEST_CASE("DISTILBERT_CHECK: the message is built only on failure, and the check is one statement", "[unit][error]") {
  int built = 0;
  const auto message = [&] {
    ++built;
    return std::string("expensive message");
  };
  DISTILBERT_CHECK(1 + 1 == 2, "never shown: ", message());
  CHECK(built == 0);
  try {
    DISTILBERT_CHECK(1 + 1 == 3, "file x.json: key 'n' expected ", 3, ", found ", 2.5, " (", message(), ")");
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "file x.json: key 'n' expected 3, found 2.5 (expensive message)");
  }
  CHECK(built == 1);
  // An if/else without braces around it stays an if/else (the macro is a single statement).
  int branch = 0;
  if (built == 1)
    DISTILBERT_CHECK(true, "unused");
  else
    branch = 1;
  CHECK(branch == 0);
}

TEST_CASE("model code raises distilbert::Error naming the tensor, expected against found", "[unit][error]") {
  ModelConfig c = ModelConfig::distilbert_base_uncased();
  c.hidden_size = 32;
  c.num_heads = 2;
  c.num_layers = 1;
  c.intermediate_size = 64;
  c.vocab_size = 100;
  c.max_position_embeddings = 16;
  for (const auto type : {ModelType::DistilBert, ModelType::Bert}) {
    c.model_type = type;
    c.type_vocab_size = type == ModelType::Bert ? 2 : 0;  // DistilBERT has no token types
    torch::manual_seed(0);
    auto model = build_model(c, Head::None);
    model->eval();
    ModelInputs flat;
    flat.input_ids = torch::zeros({8}, torch::kLong);
    CHECK_THROWS_AS(model->forward(flat), Error);
    CHECK_THROWS_WITH(model->forward(flat), Contains("input_ids must be (B, T)") && Contains("[8]"));
    ModelInputs long_input;
    long_input.input_ids = torch::zeros({1, 17}, torch::kLong);
    CHECK_THROWS_AS(model->forward(long_input), Error);
    CHECK_THROWS_WITH(model->forward(long_input), Contains("17") && Contains("max_position_embeddings 16"));
  }
}
