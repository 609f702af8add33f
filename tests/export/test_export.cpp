// Export without a runtime: ONNX graphs of every model/head pass onnx::checker and strict shape inference with the
// inputs/outputs HF's exports use; the HF folder has HF's key names, config and tokenizer files and reloads to the
// same numbers (fp32/fp16/bf16); folders HF wrote (safetensors, pytorch_model.bin, legacy gamma/beta) export;
// the CLI's options and error paths.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <tuple>
#include <sstream>

#include <nlohmann/json.hpp>

#include "distilbert/export/export.h"
#include "distilbert/export/onnx_export.h"
#include "distilbert/export/onnx_graph.h"
#include "distilbert/export/onnx_quantize.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "export_test_support.h"

using namespace distilbert;
using namespace distilbert::export_test;
using Catch::Matchers::Contains;

namespace {

struct HeadCase {
  ModelType type;
  Head head;
};
const HeadCase kAllHeads[] = {
    {ModelType::DistilBert, Head::None},          {ModelType::DistilBert, Head::MaskedLM},
    {ModelType::DistilBert, Head::SequenceClassification}, {ModelType::DistilBert, Head::TokenClassification},
    {ModelType::DistilBert, Head::QuestionAnswering},      {ModelType::DistilBert, Head::MultipleChoice},
    {ModelType::Bert, Head::None},                {ModelType::Bert, Head::MaskedLM},
    {ModelType::Bert, Head::SequenceClassification},      {ModelType::Bert, Head::TokenClassification},
    {ModelType::Bert, Head::QuestionAnswering},           {ModelType::Bert, Head::MultipleChoice},
};

std::vector<std::string> io_names(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.name());
  return out;
}

std::vector<std::string> dims_of(const onnx::ValueInfoProto& v) {
  std::vector<std::string> out;
  for (const auto& d : v.type().tensor_type().shape().dim())
    out.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  return out;
}

std::multiset<std::string> op_types(const onnx::ModelProto& m) {
  std::multiset<std::string> s;
  for (const auto& n : m.graph().node()) s.insert(n.op_type());
  return s;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("ONNX graphs of every model and head pass the ONNX checker and strict shape inference", "[export]") {
  for (const auto& hc : kAllHeads) {
    ModelConfig c = small_config(hc.type, /*vocab=*/200);
    c.num_labels = hc.head == Head::TokenClassification ? 5 : (hc.head == Head::SequenceClassification ? 3 : 2);
    auto model = random_model(c, hc.head, 7);
    INFO(model->architecture());
    for (int opset : {14, 17}) {
      for (bool fp16 : {false, true}) {
        INFO("opset " << opset << (fp16 ? " fp16" : " fp32"));
        onnx_export::OnnxExportOptions o;
        o.opset = opset;
        o.fp16 = fp16;
        const onnx::ModelProto m = onnx_export::build_onnx_model(*model, o);
        const onnx::ModelProto inferred = onnx_export::check_onnx_model(m, model->architecture());
        CHECK(m.opset_import(0).version() == opset);
        CHECK(m.ir_version() == onnx::IR_VERSION);
        const auto ops = op_types(m);
        CHECK((ops.count("LayerNormalization") > 0) == (opset >= 17));
        CHECK(ops.count("Erf") > 0);  // exact GELU
        CHECK(ops.count("Softmax") == static_cast<size_t>(c.num_layers));
        // Inputs as HF's optimum exports them.
        const auto ins = io_names(m.graph().input());
        CHECK(ins == onnx_export::onnx_input_names(*model));
        for (const auto& in : m.graph().input()) {
          CHECK(in.type().tensor_type().elem_type() == onnx::TensorProto::INT64);
          const auto d = dims_of(in);
          if (hc.head == Head::MultipleChoice)
            CHECK(d == std::vector<std::string>{"batch_size", "num_choices", "sequence_length"});
          else
            CHECK(d == std::vector<std::string>{"batch_size", "sequence_length"});
        }
        CHECK(io_names(m.graph().output()) == onnx_export::onnx_output_names(*model));
        // Output shapes as declared, and as shape inference derives them (float32 even for the fp16 graph).
        for (const auto& out : inferred.graph().output()) {
          CHECK(out.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT);
          const auto d = dims_of(out);
          switch (hc.head) {
            case Head::None: CHECK(d == std::vector<std::string>{"batch_size", "sequence_length", "64"}); break;
            case Head::MaskedLM: CHECK(d == std::vector<std::string>{"batch_size", "sequence_length", "200"}); break;
            case Head::SequenceClassification: CHECK(d == std::vector<std::string>{"batch_size", "3"}); break;
            case Head::TokenClassification:
              CHECK(d == std::vector<std::string>{"batch_size", "sequence_length", "5"});
              break;
            case Head::QuestionAnswering: CHECK(d == std::vector<std::string>{"batch_size", "sequence_length"}); break;
            case Head::MultipleChoice: CHECK(d == std::vector<std::string>{"batch_size", "num_choices"}); break;
          }
        }
      }
    }
    // Dynamic int8: every weight MatMul becomes MatMulInteger; activation products stay float.
    const onnx::ModelProto fp32 = onnx_export::build_onnx_model(*model);
    onnx_export::QuantizeReport rep;
    const onnx::ModelProto q = onnx_export::quantize_dynamic(fp32, {}, &rep);
    onnx_export::check_onnx_model(q, model->architecture() + " quantized");
    const auto ops = op_types(q);
    const int extra = hc.head == Head::None ? 0
                      : (hc.head == Head::TokenClassification || hc.head == Head::QuestionAnswering) ? 1
                                                                                                    : 2;
    CHECK(rep.matmuls == 6 * static_cast<int>(c.num_layers) + extra);
    CHECK(ops.count("MatMulInteger") == static_cast<size_t>(rep.matmuls));
    CHECK(ops.count("MatMul") == static_cast<size_t>(2 * c.num_layers));  // q k^T and w v per layer
    CHECK(ops.count("DequantizeLinear") >= 1);                            // the embedding tables
    // (fp32 position tables stay: they dominate these tiny models)
    CHECK(rep.weight_bytes_after < rep.weight_bytes_before * 3 / 4);
  }
}

TEST_CASE("int8 weights are 7-bit by default, 8-bit with reduce_range off (docs/EXPORT.md)", "[export]") {
  // ONNX Runtime's AVX2 kernel adds two u8 x s8 products in a saturating int16: |w_q| <= 63 keeps
  // 2 x 255 x 63 = 32130 below 32767; 127 would reach 64770.
  auto model = random_model(small_config(ModelType::DistilBert, 100), Head::SequenceClassification, 3);
  const onnx::ModelProto fp32 = onnx_export::build_onnx_model(*model);
  auto extreme = [](const onnx::ModelProto& m) {
    int lo = 0, hi = 0, tensors = 0;
    for (const auto& t : m.graph().initializer()) {
      if (t.data_type() != onnx::TensorProto::INT8 || t.name().find("_quantized") == std::string::npos) continue;
      ++tensors;
      for (const char c : t.raw_data()) lo = std::min(lo, int(int8_t(c))), hi = std::max(hi, int(int8_t(c)));
    }
    return std::make_tuple(lo, hi, tensors);
  };
  const auto [lo7, hi7, n7] = extreme(onnx_export::quantize_dynamic(fp32));
  CHECK(n7 > 0);
  CHECK(lo7 >= -63);
  CHECK(hi7 <= 63);
  CHECK(std::max(-lo7, hi7) == 63);  // the scale maps each column's largest |w| to the top of the range
  CHECK(2 * 255 * std::max(-lo7, hi7) <= 32767);
  onnx_export::QuantizeOptions full;
  full.reduce_range = false;
  const auto [lo8, hi8, n8] = extreme(onnx_export::quantize_dynamic(fp32, full));
  CHECK(n8 == n7);
  CHECK(std::max(-lo8, hi8) == 127);
}

TEST_CASE("ONNX export refuses what it cannot express, naming it", "[export]") {
  auto model = random_model(small_config(ModelType::DistilBert, 100), Head::SequenceClassification, 1);
  onnx_export::OnnxExportOptions o;
  o.opset = 13;
  CHECK_THROWS_WITH(onnx_export::build_onnx_model(*model, o), Contains("opset 13") && Contains("14-17"));
  o.opset = 18;
  CHECK_THROWS_WITH(onnx_export::build_onnx_model(*model, o), Contains("opset 18"));
  ModelConfig c = small_config(ModelType::DistilBert, 100);
  c.activation = "quick_gelu";
  CHECK_THROWS(build_model(c, Head::None));  // our model refuses it too: nothing to export
  o.fp16 = true;
  o.opset = 17;
  CHECK_THROWS_WITH(onnx_export::quantize_dynamic(onnx_export::build_onnx_model(*model, o)), Contains("float16"));
}

TEST_CASE("HF export: config, HF key names with tied weights stored once, tokenizer files, fp16/bf16", "[export]") {
  TempDir tmp("hf_export");
  const bool real = have_real_data();
  struct Case {
    HeadCase hc;
    bool tied;
  };
  // The MLM heads twice: tied to the word embeddings (every released checkpoint) and with their own decoder weight
  // (tie_word_embeddings: false), which HF stores under the decoder's key.
  for (const auto& [hc, tied] : {Case{{ModelType::DistilBert, Head::MaskedLM}, true},
                                 Case{{ModelType::DistilBert, Head::MaskedLM}, false},
                                 Case{{ModelType::Bert, Head::MaskedLM}, true},
                                 Case{{ModelType::Bert, Head::MaskedLM}, false},
                                 Case{{ModelType::DistilBert, Head::SequenceClassification}, true}}) {
    ModelConfig c = small_config(hc.type, real ? 30522 : 300);
    c.tie_word_embeddings = tied;
    if (hc.head == Head::SequenceClassification) c.id2label = {{0, "NEGATIVE"}, {1, "POSITIVE"}};
    auto model = random_model(c, hc.head, 11);
    const std::string name = model->architecture() + (tied ? "" : "_untied");
    INFO(name);
    const std::string src = tmp.str(name);
    save_model_folder(*model, src);
    if (real) tokenizer::load_tokenizer(tokenizer_dir())->save_pretrained(src);
    for (const char* dt : {"fp32", "fp16", "bf16"}) {
      INFO("dtype " << dt);
      const std::string out = tmp.str(name + "_" + dt);
      ExportOptions o;
      o.format = ExportFormat::HF;
      o.dtype = parse_export_dtype(dt);
      ExportResult r = export_model_folder(src, out, o);
      CHECK(fs::is_regular_file(out + "/model.safetensors"));
      CHECK_FALSE(fs::exists(out + "/onnx"));
      // config.json
      const auto j = nlohmann::json::parse(read_text(out + "/config.json"));
      CHECK(j["architectures"] == nlohmann::json::array({model->architecture()}));
      CHECK(j["model_type"] == c.model_type_name());
      CHECK(j["torch_dtype"] == (std::string(dt) == "fp32" ? "float32" : std::string(dt) == "fp16" ? "float16" : "bfloat16"));
      // HF's PretrainedConfig defaults tie_word_embeddings to true: an untied model must say so, or HF re-ties it.
      if (tied) CHECK_FALSE(j.contains("tie_word_embeddings"));
      else CHECK(j["tie_word_embeddings"] == false);
      if (hc.head == Head::SequenceClassification) {
        CHECK(j["id2label"] == nlohmann::json({{"0", "NEGATIVE"}, {"1", "POSITIVE"}}));
        CHECK(j["label2id"] == nlohmann::json({{"NEGATIVE", 0}, {"POSITIVE", 1}}));
      }
      // Exactly HF's keys: the state dict without the tied decoder aliases (save_pretrained's safetensors).
      const auto st = load_safetensors(out + "/model.safetensors");
      CHECK(st.metadata.at("format") == "pt");
      std::set<std::string> keys, expected;
      for (const auto& [k, t] : st.tensors) {
        keys.insert(k);
        CHECK(t.scalar_type() == parse_export_dtype(dt));
      }
      for (const auto& [k, t] : state_dict(*model)) expected.insert(k);
      CHECK(keys == expected);
      if (hc.type == ModelType::DistilBert) {
        CHECK(keys.count("distilbert.embeddings.word_embeddings.weight"));
        CHECK(keys.count("distilbert.transformer.layer.1.ffn.lin2.bias"));
        if (hc.head == Head::MaskedLM) {
          CHECK(keys.count("vocab_projector.bias"));
          // tied: HF stores it once, as the word embeddings; untied: its own tensor, not equal to the embeddings
          CHECK(keys.count("vocab_projector.weight") == (tied ? 0u : 1u));
          if (!tied)
            CHECK(max_abs_diff(st.at("vocab_projector.weight").to(torch::kFloat),
                               st.at("distilbert.embeddings.word_embeddings.weight").to(torch::kFloat)) > 0.1);
        } else {
          CHECK(keys.count("pre_classifier.weight"));
          CHECK(keys.count("classifier.bias"));
        }
      } else {
        CHECK(keys.count("bert.encoder.layer.1.attention.self.query.weight"));
        CHECK(keys.count("cls.predictions.bias"));
        CHECK(keys.count("cls.predictions.transform.LayerNorm.weight"));
        CHECK(keys.count("cls.predictions.decoder.weight") == (tied ? 0u : 1u));
        if (!tied)
          CHECK(max_abs_diff(st.at("cls.predictions.decoder.weight").to(torch::kFloat),
                             st.at("bert.embeddings.word_embeddings.weight").to(torch::kFloat)) > 0.1);
        CHECK_FALSE(keys.count("cls.predictions.decoder.bias"));  // an alias of cls.predictions.bias either way
      }
      // Reloads to the same numbers (up to the dtype's rounding).
      LoadOptions lo;
      lo.allow_new_head = false;
      lo.verbose = false;
      auto back = load_model_folder(out, lo);
      torch::manual_seed(3);
      ModelInputs in;
      in.input_ids = torch::randint(1, c.vocab_size, {2, 9}, torch::kLong);
      in.attention_mask = torch::ones({2, 9}, torch::kLong);
      in.attention_mask[1].narrow(0, 6, 3).fill_(0);
      auto a = torch_outputs(*model, in)["logits"], b = torch_outputs(*back.model, in)["logits"];
      const double tol = std::string(dt) == "fp32" ? 0.0 : std::string(dt) == "fp16" ? 2e-2 : 1.5e-1;
      CHECK(max_abs_diff(a, b) <= tol);
      // Tokenizer files: copied verbatim.
      if (real) {
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.txt"}) {
          INFO(f);
          REQUIRE(fs::is_regular_file(out + "/" + f));
          CHECK(read_text(out + "/" + f) == read_text(src + "/" + f));
        }
        CHECK(tokenizer::load_tokenizer(out)->fingerprint() == tokenizer::load_tokenizer(src)->fingerprint());
      } else {
        CHECK_FALSE(r.notes.empty());
      }
    }
  }
}

TEST_CASE("Folders HF wrote (safetensors, pytorch_model.bin, legacy gamma/beta) export to HF and ONNX", "[export]") {
  TempDir tmp("golden_export");
  for (const char* name : {"bert_mlm_bin", "bert_mlm_bin_legacy", "bert_mlm", "bert_seqcls", "distilbert_mlm",
                           "distilbert_qa", "distilbert_mc", "distilbert_tokcls", "distilbert_sinusoidal",
                           "distilbert_seqcls_regression"}) {
    INFO("golden folder " << name);
    const std::string out = tmp.str(name);
    ExportOptions o;  // all: HF folder + transformers.js layout
    o.quantize = true;
    ExportResult r = export_model_folder(golden_dir(name), out, o);
    for (const char* f : {"config.json", "model.safetensors", "onnx/model.onnx", "onnx/model_quantized.onnx"})
      CHECK(fs::is_regular_file(out + "/" + f));
    // The exported HF folder holds the same tensors as the source (renamed gamma/beta, tied keys dropped).
    LoadOptions lo;
    lo.allow_new_head = false;
    lo.verbose = false;
    auto orig = load_model_folder(golden_dir(name), lo);
    auto back = load_model_folder(out, lo);
    CHECK(back.model->architecture() == orig.model->architecture());
    const auto a = state_dict(*orig.model), b = state_dict(*back.model);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].first == b[i].first);
      CHECK(torch::equal(a[i].second, b[i].second));
    }
    const auto st = load_safetensors(out + "/model.safetensors");
    for (const auto& [k, t] : st.tensors) {
      CHECK(k.find("gamma") == std::string::npos);
      CHECK(k.find("beta") == std::string::npos);
    }
  }
}

TEST_CASE("An old-style HF folder (pytorch_model.bin + vocab.txt only) exports with generated tokenizer files",
          "[export]") {
  if (!have_real_data()) return;
  TempDir tmp("old_style");
  const std::string src = tmp.str("bert_mlm_bin"), out = tmp.str("out");
  fs::create_directories(src);
  for (const char* f : {"config.json", "pytorch_model.bin"}) fs::copy_file(golden_dir("bert_mlm_bin") + "/" + f, src + "/" + f);
  fs::copy_file(tokenizer_dir() + "/vocab.txt", src + "/vocab.txt");
  ExportOptions o;
  ExportResult r = export_model_folder(src, out, o);
  CHECK(read_text(out + "/vocab.txt") == read_text(src + "/vocab.txt"));  // verbatim
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    INFO(f);
    CHECK(fs::is_regular_file(out + "/" + f));
    CHECK(std::any_of(r.notes.begin(), r.notes.end(), [&](const std::string& n) { return n == std::string("generated ") + f + " from the loaded tokenizer"; }));
  }
  CHECK(tokenizer::load_tokenizer(out + "/tokenizer.json")->encode("Hello, world!").ids ==
        tokenizer::load_tokenizer(src)->encode("Hello, world!").ids);
  // The golden model has a 128-token vocabulary: the export says the tokenizer does not fit it.
  CHECK(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) { return n.find("vocab_size is 128") != std::string::npos; }));
}

TEST_CASE("distilbert export CLI: formats, dtypes, quantization, opset and error paths", "[export]") {
  TempDir tmp("cli");
  const std::string cli = DISTILBERT_CLI, model = golden_dir("distilbert_seqcls_single");
  auto r = run_command(cli + " export --model " + model + " --output " + tmp.str("all") +
                       " --format all --dtype fp16 --quantize --opset 14");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"config.json", "model.safetensors", "onnx/model.onnx", "onnx/model_fp16.onnx",
                        "onnx/model_quantized.onnx"})
    CHECK(fs::is_regular_file(tmp.str("all") + "/" + f));
  CHECK_THAT(r.output, Contains("quantized") && Contains("MatMul"));
  auto m = onnx_export::load_onnx_model(tmp.str("all") + "/onnx/model.onnx");
  CHECK(m.opset_import(0).version() == 14);
  CHECK(load_safetensors(tmp.str("all") + "/model.safetensors").tensors.front().second.scalar_type() == torch::kHalf);

  r = run_command(cli + " export --model " + model + " --output " + tmp.str("onnx") + " --format onnx");
  REQUIRE(r.exit_code == 0);
  CHECK(fs::is_regular_file(tmp.str("onnx") + "/onnx/model.onnx"));
  CHECK_FALSE(fs::exists(tmp.str("onnx") + "/model.safetensors"));
  CHECK(fs::is_regular_file(tmp.str("onnx") + "/config.json"));

  // Errors: non-empty output without --overwrite, bf16 ONNX, bad opset, missing folder.
  r = run_command(cli + " export --model " + model + " --output " + tmp.str("onnx") + " --format onnx");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("--overwrite"));
  r = run_command(cli + " export --model " + model + " --output " + tmp.str("onnx") + " --format onnx --overwrite");
  CHECK(r.exit_code == 0);
  r = run_command(cli + " export --model " + model + " --output " + tmp.str("bf16") + " --format onnx --dtype bf16");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("bf16"));
  r = run_command(cli + " export --model " + model + " --output " + tmp.str("o13") + " --opset 13");
  CHECK(r.exit_code != 0);
  r = run_command(cli + " export --model " + tmp.str("nope") + " --output " + tmp.str("x"));
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("nope"));
}
