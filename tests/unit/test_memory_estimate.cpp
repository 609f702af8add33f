// The up-front memory check (train/memory_estimate.h): plausible figures for the paper's setting, a refusal that
// names the recipe keys and the sizes for absurd ones.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "distilbert/config/model_config.h"
#include "distilbert/core/error.h"
#include "distilbert/train/finetune_recipe.h"
#include "distilbert/train/memory_estimate.h"

using namespace distilbert;
using Catch::Matchers::Contains;

TEST_CASE("memory estimate: DistilBERT-base from BERT-base at 5 x 512 is a few GiB, absurd sizes are refused",
          "[unit][memory]") {
  const auto student = ModelConfig::distilbert_base_uncased();
  const auto teacher = ModelConfig::bert_base_uncased();
  const auto e = estimate_training_memory(student, &teacher, 5, 512, 5 * 512, student.vocab_size);
  const double gib = 1024.0 * 1024 * 1024;
  INFO("weights " << e.weights / gib << " GiB, activations " << e.activations / gib << " GiB, logits "
                  << e.logits / gib << " GiB");
  // 66M student parameters x 16 bytes + 110M teacher x 4 = ~1.5 GiB; the whole step measured at ~4-6 GiB RSS.
  CHECK(e.weights > 1.2 * gib);
  CHECK(e.weights < 2.0 * gib);
  CHECK(e.total() > 2 * gib);
  CHECK(e.total() < 16 * gib);
  // Linear in the batch, quadratic in the length for the attention part.
  const auto twice = estimate_training_memory(student, &teacher, 10, 512, 10 * 512, student.vocab_size);
  CHECK(twice.activations == Approx(2 * e.activations));

  const auto absurd = estimate_training_memory(student, &teacher, 100000, 512, 100000 * 512, student.vocab_size);
  CHECK(absurd.total() > 1000 * gib);
  ::unsetenv("DISTILBERT_SKIP_MEMORY_CHECK");
  CHECK_THROWS_WITH(check_training_memory(absurd, "r.yaml", "data.batch_size=100000, data.max_seq_len=512"),
                    Contains("recipe 'r.yaml'") && Contains("data.batch_size=100000") && Contains("needs about") &&
                        Contains("GiB") && Contains("is available"));
  auto tiny = student;
  tiny.vocab_size = 128, tiny.hidden_size = 32, tiny.intermediate_size = 37, tiny.num_layers = 2, tiny.num_heads = 4;
  CHECK_NOTHROW(check_training_memory(estimate_training_memory(tiny, nullptr, 2, 16, 4, 128), "r.yaml", "x"));
  ::setenv("DISTILBERT_SKIP_MEMORY_CHECK", "1", 1);
  CHECK_NOTHROW(check_training_memory(absurd, "r.yaml", "x"));
  ::unsetenv("DISTILBERT_SKIP_MEMORY_CHECK");
  CHECK(available_memory_bytes() > 0);
  CHECK(format_bytes(3.5 * gib) == "3.5 GiB");
  CHECK(format_bytes(512.0 * 1024 * 1024) == "512 MiB");
}

TEST_CASE("memory estimate: multiple choice counts one sequence per choice", "[unit][memory]") {
  ::unsetenv("DISTILBERT_SKIP_MEMORY_CHECK");
  const auto c = ModelConfig::distilbert_base_uncased();
  // The estimate is linear in the number of sequences: pick a batch that fits once but not four times over.
  const auto one = estimate_training_memory(c, nullptr, 1, 128, 1, 4).total();
  const auto two = estimate_training_memory(c, nullptr, 2, 128, 2, 4).total();
  const double per_seq = two - one, fixed = one - per_seq;
  const double avail = static_cast<double>(available_memory_bytes());
  REQUIRE(avail > fixed + 8 * per_seq);
  FinetuneRecipe r;
  r.origin = "swag.yaml";
  r.max_seq_len = 128;
  r.eval_batch_size = 1;
  r.batch_size = static_cast<int64_t>((avail - fixed) / (2 * per_seq));
  INFO("batch " << r.batch_size << ", per sequence " << per_seq << " bytes, available " << avail);
  auto mc = c;
  mc.num_labels = 4;
  r.task = "sst2";
  CHECK_NOTHROW(check_finetune_memory(r, mc));
  r.task = "swag";  // 4 endings: four sequences per example
  CHECK_THROWS_WITH(check_finetune_memory(r, mc), Contains("trainer.batch_size=") && Contains("swag.yaml"));
}
