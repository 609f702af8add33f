// predict's input reader and collation (predict/predict_input.h): values against hand-computed tensors, and each
// refusal naming the line and the value.
#include <catch2/catch.hpp>

#include <sstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/predict/predict_input.h"

using namespace distilbert;
using Catch::Matchers::Contains;

namespace {

ModelConfig small_config(ModelType type) {
  ModelConfig c;
  c.model_type = type;
  c.vocab_size = 50;
  c.max_position_embeddings = 12;
  c.type_vocab_size = 2;
  return c;
}

std::vector<PredictExample> read(const std::string& text, ModelType type = ModelType::Bert, bool choices = false) {
  std::istringstream in(text);
  PredictInputOptions o;
  o.multiple_choice = choices;
  return read_predict_inputs(in, "in.jsonl", true, small_config(type), o);
}

std::vector<int64_t> flat(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

TEST_CASE("predict input: rows are right-padded, explicit positions kept, the others numbered 0..len-1") {
  const auto ex = read("{\"input_ids\": [1, 7, 9]}\n"
                       "\n"
                       "{\"input_ids\": [4, 5], \"attention_mask\": [1, 0], \"position_ids\": [3, 11],"
                       " \"token_type_ids\": [0, 1]}\n");
  REQUIRE(ex.size() == 2);
  const ModelInputs in = collate_predict_inputs(ex, 0, 2, false, /*pad_id=*/0, /*with_types=*/true);
  CHECK(in.input_ids.sizes() == torch::IntArrayRef({2, 3}));
  CHECK(flat(in.input_ids) == std::vector<int64_t>{1, 7, 9, 4, 5, 0});
  CHECK(flat(in.attention_mask) == std::vector<int64_t>{1, 1, 1, 1, 0, 0});
  CHECK(flat(in.token_type_ids) == std::vector<int64_t>{0, 0, 0, 0, 1, 0});
  REQUIRE(in.position_ids.defined());
  CHECK(flat(in.position_ids) == std::vector<int64_t>{0, 1, 2, 3, 11, 0});
  // Without explicit positions in the batch, position_ids stay undefined (the model numbers them).
  CHECK_FALSE(collate_predict_inputs(ex, 0, 1, false, 0, true).position_ids.defined());
}

TEST_CASE("predict input: multiple choice collates to (B, C, T)") {
  const auto ex = read("{\"input_ids\": [[1, 2], [3, 4, 5]]}\n{\"input_ids\": [[6], [7]]}", ModelType::DistilBert, true);
  const ModelInputs in = collate_predict_inputs(ex, 0, 2, true, /*pad_id=*/9, false);
  CHECK(in.input_ids.sizes() == torch::IntArrayRef({2, 2, 3}));
  CHECK(flat(in.input_ids) == std::vector<int64_t>{1, 2, 9, 3, 4, 5, 6, 9, 9, 7, 9, 9});
  CHECK(flat(in.attention_mask) == std::vector<int64_t>{1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0});
  CHECK_FALSE(in.token_type_ids.defined());
}

TEST_CASE("predict input: bad lines are refused naming the line, the key and the value") {
  const std::pair<const char*, const char*> cases[] = {
      {"{\"input_ids\": [1, 2], \"attention_mask\": [1, 7]}", "in.jsonl:2: attention_mask holds 7; expected 1"},
      {"{\"input_ids\": [1, 18446744073709551615]}", "'input_ids' must hold 64-bit integers, found 18446744073709551615"},
      {"{\"input_ids\": [1, 2.5]}", "'input_ids' must hold 64-bit integers, found 2.5"},
      {"{\"input_ids\": [1, 50]}", "token id 50 is outside the vocabulary [0, 50)"},
      {"{\"input_ids\": [1, 2], \"position_ids\": [0, 12]}", "position 12 is outside [0, 12)"},
      {"{\"input_ids\": [1, 2], \"position_ids\": [0]}", "position_ids must have the shape of input_ids"},
      {"{\"input_ids\": [1, 2], \"token_type_ids\": [0, 2]}", "token type 2 is not valid for this model (type_vocab_size 2)"},
      {"{\"input_ids\": [1,2,3,4,5,6,7,8,9,10,11,12,13]}", "13 tokens exceed max_position_embeddings 12"},
      {"{\"input_ids\": []}", "in.jsonl:2: input_ids is empty"},
      {"[1, 2]", "expected an object with 'input_ids' or 'text'"},
      {"{\"text\": \"hello\"}", "text input needs a tokenizer"},
  };
  for (const auto& [line, message] : cases) {  // after a blank line: errors name line 2
    INFO(line);
    CHECK_THROWS_WITH(read(std::string("\n") + line), Contains(message));
  }
  CHECK_THROWS_WITH(read("{\"input_ids\": [1], \"token_type_ids\": [0]}", ModelType::DistilBert),
                    Contains("DistilBERT has no token types"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [[1], [2]]}\n{\"input_ids\": [[1]]}", ModelType::Bert, true),
                    Contains("in.jsonl:2: 1 choices, earlier lines have 2"));
  CHECK_THROWS_WITH(read(" \n"), Contains("input 'in.jsonl' holds no examples"));
}
