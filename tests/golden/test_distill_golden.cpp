// Golden tests of the distillation step against the Python reference (scripts/distill_reference.py, written from
// docs/DISTILLATION.md; files from scripts/make_distill_golden.py): each loss term and the total for two loss
// settings, every student gradient, the clipped grad norm, one AdamW step with weight-decay groups, and a 6-step run
// with gradient accumulation and the warm-up schedule. Teacher = golden bert_mlm, student = golden distilbert_mlm.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/model/bert.h"
#include "distilbert/model/distilbert.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/optim.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;

namespace {

std::string golden(const std::string& p) { return std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/" + p; }

struct Pair {
  std::shared_ptr<BertForMaskedLM> teacher;
  std::shared_ptr<DistilBertForMaskedLM> student;
};

Pair load_pair() {
  LoadOptions o;
  o.verbose = false;
  Pair p;
  p.teacher = std::dynamic_pointer_cast<BertForMaskedLM>(load_model_folder(golden("golden/bert_mlm"), o).model);
  p.student = std::dynamic_pointer_cast<DistilBertForMaskedLM>(load_model_folder(golden("golden/distilbert_mlm"), o).model);
  REQUIRE(p.teacher);
  REQUIRE(p.student);
  p.teacher->eval();
  for (auto& t : p.teacher->parameters()) t.requires_grad_(false);
  p.student->train();
  return p;
}

DistillLossWeights weights_from(const nlohmann::json& c) {
  DistillLossWeights w;
  w.temperature = c["temperature"];
  w.alpha_ce = c["alpha_ce"];
  w.alpha_mlm = c["alpha_mlm"];
  w.alpha_mse = c["alpha_mse"];
  w.alpha_cos = c["alpha_cos"];
  w.alpha_layer_cos = c["alpha_layer_cos"];
  w.alpha_layer_mse = c["alpha_layer_mse"];
  w.restrict_ce_to_mask = c["restrict_ce_to_mask"];
  for (const auto& p : c["layer_pairs"]) w.layer_pairs.emplace_back(p[0].get<int64_t>(), p[1].get<int64_t>());
  return w;
}

// One forward of both models and the loss, selecting rows before the vocabulary projection.
DistillLossParts step(Pair& p, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels,
                      const DistillLossWeights& w, bool compute_all) {
  ModelInputs in;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.output_hidden_states = true;
  EncoderOutput t_enc, s_enc;
  {
    torch::NoGradGuard no_grad;
    auto t = p.teacher->bert->forward(in);
    t_enc.hidden_states = t.hidden_states;
    t_enc.last_hidden_state = t.last_hidden_state;
  }
  s_enc = p.student->distilbert->forward(ids, mask, true, false);
  auto rows = distill_rows(mask, labels, w.restrict_ce_to_mask);
  const int64_t H = s_enc.last_hidden_state.size(-1);
  auto s_logits = p.student->mlm_logits(s_enc.last_hidden_state.reshape({-1, H}).index_select(0, rows));
  torch::Tensor t_logits;
  {
    torch::NoGradGuard no_grad;
    t_logits = p.teacher->mlm_logits(t_enc.last_hidden_state.reshape({-1, H}).index_select(0, rows));
  }
  DistillLossInputs li;
  li.student_logits = s_logits;
  li.teacher_logits = t_logits;
  li.mlm_labels = labels.reshape({-1}).index_select(0, rows);
  li.attention_mask = mask;
  li.student_hidden = &s_enc.hidden_states;
  li.teacher_hidden = &t_enc.hidden_states;
  return distillation_loss(li, w, compute_all);
}

}  // namespace

TEST_CASE("distillation step: loss terms, gradients, clipping and one AdamW step match the reference",
          "[golden][distill]") {
  const auto io = load_safetensors(golden("golden_distill/case_step.safetensors"));
  const auto meta = nlohmann::json::parse(std::ifstream(golden("golden_distill/case_step.json")));
  for (const std::string c : {"a", "b"}) {
    INFO("loss config " << c);
    Pair p = load_pair();
    const auto& cfg = meta["configs"][c];
    auto parts = step(p, io.at("input_ids"), io.at("attention_mask"), io.at("mlm_labels"), weights_from(cfg), true);
    CHECK_TENSOR_CLOSE("loss_ce", parts.ce, io.at(c + ".loss_ce"));
    CHECK_TENSOR_CLOSE("loss_mlm", parts.mlm, io.at(c + ".loss_mlm"));
    CHECK_TENSOR_CLOSE("loss_mse", parts.mse, io.at(c + ".loss_mse"), 1e-4, 1e-5);
    CHECK_TENSOR_CLOSE("loss_cos", parts.cos, io.at(c + ".loss_cos"));
    if (io.contains(c + ".loss_layer_cos")) {
      CHECK_TENSOR_CLOSE("loss_layer_cos", parts.layer_cos, io.at(c + ".loss_layer_cos"));
      CHECK_TENSOR_CLOSE("loss_layer_mse", parts.layer_mse, io.at(c + ".loss_layer_mse"));
    }
    CHECK_TENSOR_CLOSE("loss", parts.total, io.at(c + ".loss"));

    parts.total.backward();
    // Teacher: frozen and untouched.
    for (const auto& t : p.teacher->parameters()) CHECK_FALSE(t.grad().defined());
    size_t n = 0;
    std::vector<torch::Tensor> params;
    for (const auto& kv : p.student->named_parameters(true)) {
      if (!kv.value().requires_grad()) continue;
      params.push_back(kv.value());
      INFO(kv.key());
      REQUIRE(io.contains(c + ".grad." + kv.key()));
      CHECK_TENSOR_CLOSE(kv.key(), kv.value().grad(), io.at(c + ".grad." + kv.key()), 1e-5, 1e-3);
      ++n;
    }
    CHECK(n > 30);
    AdamWSettings s;
    s.lr = meta["optimizer"]["lr"];
    s.weight_decay = meta["optimizer"]["weight_decay"];
    auto opt = build_adamw(*p.student, s);
    const double norm = clip_gradients(params, meta["optimizer"]["max_grad_norm"]);
    CHECK(norm == Approx(io.at(c + ".grad_norm").item<double>()).epsilon(1e-5));
    adamw_step(*opt);
    // The first Adam step moves each weight by about lr * g / (|g| + eps): where |g| is near eps (1e-6), float32
    // differences in g show up amplified. 5e-6 is 1% of the step size lr = 5e-4.
    for (const auto& kv : p.student->named_parameters(true)) {
      if (!kv.value().requires_grad()) continue;
      CHECK_TENSOR_CLOSE("param_after." + kv.key(), kv.value(), io.at(c + ".param_after." + kv.key()), 5e-6, 1e-5);
    }
  }
}

TEST_CASE("distillation: 6 optimizer steps with accumulation 2, warm-up and clipping follow the reference curve",
          "[golden][distill]") {
  const auto io = load_safetensors(golden("golden_distill/case_curve.safetensors"));
  const auto meta = nlohmann::json::parse(std::ifstream(golden("golden_distill/case_curve.json")));
  const auto& o = meta["optimizer"];
  Pair p = load_pair();
  const auto w = weights_from(meta["loss_config"]);
  AdamWSettings s;
  s.lr = o["lr"];
  s.weight_decay = o["weight_decay"];
  auto opt = build_adamw(*p.student, s);
  std::vector<torch::Tensor> params;
  for (const auto& t : p.student->parameters())
    if (t.requires_grad()) params.push_back(t);
  const int64_t accum = o["gradient_accumulation_steps"], total = o["num_train_optimization_steps"];
  const int64_t warmup = warmup_steps(total, o["warmup_prop"]);
  CHECK(warmup == o["warmup_steps"].get<int64_t>());
  const auto expected_loss = io.at("micro_batch_loss");
  const auto expected_lr = io.at("step_lr");
  int64_t opt_step = 0;
  for (int64_t k = 0; k < o["n_micro_batches"].get<int64_t>(); ++k) {
    const std::string mb = "mb." + std::to_string(k) + ".";
    auto parts = step(p, io.at(mb + "input_ids"), io.at(mb + "attention_mask"), io.at(mb + "mlm_labels"), w, false);
    INFO("micro-batch " << k);
    CHECK(parts.total.item<double>() == Approx(expected_loss[k].item<double>()).epsilon(1e-4));
    (parts.total / static_cast<double>(accum)).backward();
    if ((k + 1) % accum == 0) {
      const double lr = s.lr * linear_schedule_factor(opt_step, warmup, total);
      CHECK(lr == Approx(expected_lr[opt_step].item<double>()).margin(1e-12));
      clip_gradients(params, o["max_grad_norm"]);
      set_learning_rate(*opt, lr);
      adamw_step(*opt);
      opt->zero_grad();
      ++opt_step;
    }
  }
  CHECK(opt_step == total);
  for (const auto& kv : p.student->named_parameters(true)) {
    if (!kv.value().requires_grad()) continue;
    CHECK_TENSOR_CLOSE("final." + kv.key(), kv.value(), io.at("final." + kv.key()), 1e-5, 1e-4);
  }
}

TEST_CASE("weight-decay groups follow the reference's substring rule", "[unit][distill]") {
  CHECK(is_no_decay("distilbert.embeddings.LayerNorm.weight"));
  CHECK(is_no_decay("distilbert.transformer.layer.0.ffn.lin1.bias"));
  CHECK_FALSE(is_no_decay("distilbert.transformer.layer.0.sa_layer_norm.weight"));  // decays, as in the original
  CHECK_FALSE(is_no_decay("vocab_layer_norm.weight"));
  // Schedule values by hand: warmup 2 of 6 steps.
  CHECK(linear_schedule_factor(0, 2, 6) == 0.0);
  CHECK(linear_schedule_factor(1, 2, 6) == 0.5);
  CHECK(linear_schedule_factor(2, 2, 6) == 1.0);
  CHECK(linear_schedule_factor(5, 2, 6) == 0.25);
  CHECK(linear_schedule_factor(6, 2, 6) == 0.0);
  CHECK(warmup_steps(100, 0.05) == 5);
  CHECK(warmup_steps(101, 0.05) == 6);  // ceil(5.05)
}
