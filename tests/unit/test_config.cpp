// ModelConfig: HF config.json keys, aliases, defaults, validation messages, round trips.
#include <catch2/catch.hpp>

#include "distilbert/config/model_config.h"
#include "distilbert/core/error.h"

using distilbert::ModelConfig;
using distilbert::ModelType;
using json = nlohmann::json;

TEST_CASE("hub distilbert-base-uncased config.json parses with HF defaults", "[unit][config]") {
  // Verbatim content of the hub file (configs/distilbert-base-uncased.json, docs/MODELS.md §1.1).
  auto j = json::parse(R"({ "activation": "gelu", "architectures": ["DistilBertForMaskedLM"], "attention_dropout": 0.1,
    "dim": 768, "dropout": 0.1, "hidden_dim": 3072, "initializer_range": 0.02, "max_position_embeddings": 512,
    "model_type": "distilbert", "n_heads": 12, "n_layers": 6, "pad_token_id": 0, "qa_dropout": 0.1,
    "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": false, "tie_weights_": true,
    "transformers_version": "4.10.0.dev0", "vocab_size": 30522 })");
  auto c = ModelConfig::from_json(j, "hub.json");
  CHECK(c.model_type == ModelType::DistilBert);
  CHECK(c.hidden_size == 768);
  CHECK(c.num_layers == 6);
  CHECK(c.num_heads == 12);
  CHECK(c.intermediate_size == 3072);
  CHECK(c.num_labels == 2);
  CHECK(c.tie_word_embeddings);
  CHECK(c.architectures == std::vector<std::string>{"DistilBertForMaskedLM"});
  // Unknown keys survive a round trip.
  auto back = c.to_json();
  CHECK(back["tie_weights_"] == true);
  CHECK(back["transformers_version"] == "4.10.0.dev0");
  CHECK(back["dim"] == 768);
  CHECK(ModelConfig::from_json(back, "again").to_json() == back);
}

TEST_CASE("hub bert-base-uncased config.json parses", "[unit][config]") {
  auto j = json::parse(R"({ "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
    "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "transformers_version": "4.6.0.dev0", "type_vocab_size": 2,
    "use_cache": true, "vocab_size": 30522 })");
  auto c = ModelConfig::from_json(j, "bert.json");
  CHECK(c.model_type == ModelType::Bert);
  CHECK(c.num_layers == 12);
  CHECK(c.type_vocab_size == 2);
  CHECK(c.layer_norm_eps == 1e-12);
  CHECK_FALSE(c.classifier_dropout.has_value());
  CHECK(c.to_json()["num_hidden_layers"] == 12);
}

TEST_CASE("DistilBERT accepts the attribute_map aliases hidden_size/num_attention_heads/num_hidden_layers",
          "[unit][config]") {
  auto c = ModelConfig::from_json(
      json::parse(R"({"model_type":"distilbert","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":3})"), "x");
  CHECK(c.hidden_size == 64);
  CHECK(c.num_heads == 4);
  CHECK(c.num_layers == 3);
  CHECK(c.to_json()["dim"] == 64);
}

TEST_CASE("labels: id2label/label2id/num_labels/problem_type", "[unit][config]") {
  auto c = ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","finetuning_task":"sst-2",
      "id2label":{"0":"NEGATIVE","1":"POSITIVE"},"label2id":{"NEGATIVE":0,"POSITIVE":1}})"), "sst2");
  CHECK(c.num_labels == 2);
  CHECK(c.label_name(1) == "POSITIVE");
  auto three = ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","num_labels":3,
      "problem_type":"multi_label_classification"})"), "m");
  CHECK(three.num_labels == 3);
  CHECK(three.label_name(2) == "LABEL_2");
  auto j = three.to_json();
  CHECK(j["id2label"]["2"] == "LABEL_2");
  CHECK(j["label2id"]["LABEL_0"] == 0);
  CHECK(j["problem_type"] == "multi_label_classification");
}

TEST_CASE("config errors name the file, the key, the expectation and the value", "[unit][config]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"gpt2"})"), "c.json"),
                    Contains("c.json") && Contains("model_type") && Contains("gpt2"));
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","dim":"768"})"), "c.json"),
                    Contains("'dim'") && Contains("integer") && Contains("string"));
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","dim":100,"n_heads":12})"), "c"),
                    Contains("divisible"));
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","dropout":1.5})"), "c"),
                    Contains("dropout") && Contains("[0, 1)"));
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"bert","hidden_act":"swiglu"})"), "c"),
                    Contains("swiglu"));
  CHECK_THROWS_WITH(ModelConfig::from_json(json::parse(R"({"model_type":"distilbert","pad_token_id":99999})"), "c"),
                    Contains("pad_token_id"));
  CHECK_THROWS_AS(ModelConfig::load("/nonexistent/config.json"), distilbert::Error);
}
