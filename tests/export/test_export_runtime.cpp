// Exported ONNX run in ONNX Runtime (its Python package, tests/py/run_onnx.py) against our LibTorch forward on
// real SST-2 sentences, for every DistilBERT head and BERT base/MLM/seq-cls (fp32 within 1e-4; fp16 and dynamic
// int8 measured); the golden folders against the Python reference's outputs; and transformers.js'
// pipeline('text-classification') on the exported folder against our labels and scores.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iomanip>

#include <nlohmann/json.hpp>

#include "distilbert/export/export.h"
#include "distilbert/export/onnx_export.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "export_test_support.h"

using namespace distilbert;
using namespace distilbert::export_test;

namespace {

struct Job {
  std::string label;     // for messages
  std::string variant;   // fp32 | fp16 | quantized | opset14
  std::string model;     // .onnx
  std::string inputs, outputs;
  std::map<std::string, torch::Tensor> expected;
};

void write_inputs(const std::string& path, const ModelInputs& in, bool bert) {
  std::vector<std::pair<std::string, torch::Tensor>> t = {{"input_ids", in.input_ids},
                                                          {"attention_mask", in.attention_mask}};
  if (bert)
    t.emplace_back("token_type_ids",
                   in.token_type_ids.defined() ? in.token_type_ids : torch::zeros_like(in.input_ids));
  save_safetensors(path, t);
}

/// Run every job in one ONNX Runtime process (tests/py/run_onnx.py).
void run_jobs(const std::vector<Job>& jobs, const std::string& manifest_path) {
  nlohmann::json m = {{"threads", 1}, {"jobs", nlohmann::json::array()}};
  for (const auto& j : jobs) m["jobs"].push_back({{"model", j.model}, {"inputs", j.inputs}, {"outputs", j.outputs}});
  std::ofstream(manifest_path) << m.dump(1);
  auto r = run_py("run_onnx.py", manifest_path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

/// Max |ORT - LibTorch| per output of a job (shapes must match).
std::map<std::string, std::pair<double, double>> compare(const Job& j) {
  const auto got = load_safetensors(j.outputs);
  std::map<std::string, std::pair<double, double>> out;
  for (const auto& [name, ref] : j.expected) {
    INFO(j.label << " " << j.variant << " output " << name);
    REQUIRE(got.contains(name));
    const auto& t = got.at(name);
    REQUIRE(t.sizes() == ref.sizes());
    out[name] = {max_abs_diff(t, ref), ref.abs().max().item<double>()};
  }
  return out;
}

void report(const Job& j, const std::string& name, double diff, double scale) {
  std::cout << "[export] ORT vs LibTorch  " << std::left << std::setw(38) << j.label << std::setw(10) << j.variant
            << std::setw(18) << name << " max|diff| " << std::scientific << std::setprecision(2) << diff
            << "  (max|ref| " << std::fixed << std::setprecision(3) << scale << ")\n"
            << std::defaultfloat;
}

}  // namespace

TEST_CASE("ONNX Runtime runs the exported graphs of every head like LibTorch on real sentences", "[export][ort]") {
  if (!have_real_data() || !require_ort()) return;
  TempDir tmp("ort_heads");
  auto tok = tokenizer::load_tokenizer(tokenizer_dir());
  const auto s = sst2_sentences(16);
  REQUIRE(s.size() == 16);
  const std::vector<std::string> first(s.begin(), s.begin() + 8), second(s.begin() + 8, s.begin() + 16);

  struct Case {
    ModelType type;
    Head head;
    int64_t labels;
    bool tied = true;  // MLM heads: false gives the decoder its own weight (tie_word_embeddings: false)
  };
  const Case cases[] = {{ModelType::DistilBert, Head::None, 2},
                        {ModelType::DistilBert, Head::MaskedLM, 2},
                        {ModelType::DistilBert, Head::MaskedLM, 2, false},
                        {ModelType::DistilBert, Head::SequenceClassification, 3},
                        {ModelType::DistilBert, Head::TokenClassification, 5},
                        {ModelType::DistilBert, Head::QuestionAnswering, 2},
                        {ModelType::DistilBert, Head::MultipleChoice, 2},
                        {ModelType::Bert, Head::None, 2},
                        {ModelType::Bert, Head::MaskedLM, 2},
                        {ModelType::Bert, Head::MaskedLM, 2, false},
                        {ModelType::Bert, Head::SequenceClassification, 2},
                        {ModelType::Bert, Head::TokenClassification, 5},
                        {ModelType::Bert, Head::QuestionAnswering, 2},
                        {ModelType::Bert, Head::MultipleChoice, 2}};
  std::vector<Job> jobs;
  uint64_t seed = 100;
  for (const auto& cs : cases) {
    ModelConfig c = small_config(cs.type);
    c.num_labels = cs.labels;
    c.tie_word_embeddings = cs.tied;
    auto model = random_model(c, cs.head, seed += 10);
    const std::string arch = model->architecture() + (cs.tied ? "" : "_untied"), src = tmp.str(arch + "_src"), out = tmp.str(arch);
    save_model_folder(*model, src);  // the CLI's path: a model folder with its tokenizer, exported from disk
    tok->save_pretrained(src);
    ExportOptions o;
    o.format = ExportFormat::ONNX;
    o.dtype = torch::kHalf;
    o.quantize = true;
    export_model_folder(src, out, o);
    const bool mlm_like = cs.head == Head::MaskedLM;  // (B, T, 30522) outputs: keep the batch small
    const bool bert = cs.type == ModelType::Bert;
    ModelInputs in;
    if (cs.head == Head::MultipleChoice) {  // (3 examples, 2 choices, T): sentence pairs
      std::vector<std::string> a, b;
      for (int i = 0; i < 6; ++i) a.push_back(first[i]), b.push_back(second[i]);
      in = encode(*tok, a, b, bert);
      const int64_t T = in.input_ids.size(1);
      in.input_ids = in.input_ids.view({3, 2, T});
      in.attention_mask = in.attention_mask.view({3, 2, T});
      if (bert) in.token_type_ids = in.token_type_ids.view({3, 2, T});
    } else if (bert || cs.head == Head::QuestionAnswering) {  // pairs: token types (BERT), question + context (QA)
      const size_t n = mlm_like ? 4 : 8;
      in = encode(*tok, std::vector<std::string>(first.begin(), first.begin() + n),
                  std::vector<std::string>(second.begin(), second.begin() + n), bert);
    } else {
      const size_t n = mlm_like ? 4 : 8;
      in = encode(*tok, std::vector<std::string>(s.begin(), s.begin() + n), {}, false);
    }
    CHECK(in.attention_mask.eq(0).any().item<bool>());  // padding present: the mask matters
    const std::string inputs = tmp.str(arch + "_inputs.safetensors");
    write_inputs(inputs, in, bert);
    const auto expected = torch_outputs(*model, in);
    for (const char* v : {"fp32", "fp16", "quantized"}) {
      const std::string file = std::string(v) == "fp32" ? "model.onnx" : std::string("model_") + v + ".onnx";
      jobs.push_back({arch, v, out + "/onnx/" + file, inputs, tmp.str(arch + "_" + v + "_out.safetensors"), expected});
    }
    if (cs.head == Head::SequenceClassification || cs.head == Head::MaskedLM) {  // the decomposed LayerNorm
      o = ExportOptions();
      o.format = ExportFormat::ONNX;
      o.opset = 14;
      export_model_folder(src, out + "_opset14", o);
      jobs.push_back({arch, "opset14", out + "_opset14/onnx/model.onnx", inputs,
                      tmp.str(arch + "_opset14_out.safetensors"), expected});
    }
  }
  run_jobs(jobs, tmp.str("manifest.json"));

  double worst_fp32 = 0;
  for (const auto& j : jobs) {
    for (const auto& [name, ds] : compare(j)) {
      const auto [diff, scale] = ds;
      report(j, name, diff, scale);
      INFO(j.label << " " << j.variant << " " << name << ": max |ORT - LibTorch| = " << diff << " (max |ref| "
                   << scale << ")");
      if (j.variant == "fp32" || j.variant == "opset14") {
        CHECK(diff <= 1e-4);
        worst_fp32 = std::max(worst_fp32, diff);
      } else if (j.variant == "fp16") {
        CHECK(diff <= 2e-2 * std::max(1.0, scale));
      } else {  // dynamic int8: a few percent of the output range on these random models
        CHECK(diff <= 0.1 * std::max(1.0, scale));
      }
    }
  }
  std::cout << "[export] worst fp32 |ORT - LibTorch| over every head: " << worst_fp32 << "\n";
}

TEST_CASE("Golden folders run in ONNX Runtime give the Python reference's outputs", "[export][ort]") {
  if (!require_ort()) return;
  TempDir tmp("ort_golden");
  std::vector<Job> jobs;
  for (const char* name : {"bert_mlm", "bert_seqcls", "distilbert_mlm", "distilbert_qa", "distilbert_mc",
                           "distilbert_tokcls", "distilbert_sinusoidal", "distilbert_seqcls_single",
                           "distilbert_seqcls_regression", "distilbert_seqcls_multilabel", "bert_mlm_bin"}) {
    const std::string dir = golden_dir(name), out = tmp.str(name);
    ExportOptions o;
    o.format = ExportFormat::ONNX;
    export_model_folder(dir, out, o);
    LoadOptions lo;
    lo.verbose = false;
    auto loaded = load_model_folder(dir, lo);
    const bool bert = loaded.model->config().model_type == ModelType::Bert;
    ModelInputs in;
    std::map<std::string, torch::Tensor> expected;
    if (fs::exists(dir + "/io.safetensors")) {  // inputs and outputs of the independent Python reference
      const auto io = load_safetensors(dir + "/io.safetensors");
      in.input_ids = io.at("input_ids");
      in.attention_mask = io.at("attention_mask");
      if (io.contains("token_type_ids")) in.token_type_ids = io.at("token_type_ids");
      for (const char* k : {"logits", "start_logits", "end_logits"})
        if (io.contains(k)) expected[k] = io.at(k);
    } else {  // pytorch_model.bin folder: our LibTorch forward on random ids
      torch::manual_seed(5);
      in.input_ids = torch::randint(1, loaded.model->config().vocab_size, {3, 10}, torch::kLong);
      in.attention_mask = torch::ones({3, 10}, torch::kLong);
      in.attention_mask[2].narrow(0, 4, 6).fill_(0);
      expected = torch_outputs(*loaded.model, in);
    }
    REQUIRE_FALSE(expected.empty());
    write_inputs(tmp.str(std::string(name) + "_in.safetensors"), in, bert);
    jobs.push_back({name, "fp32", out + "/onnx/model.onnx", tmp.str(std::string(name) + "_in.safetensors"),
                    tmp.str(std::string(name) + "_out.safetensors"), expected});
  }
  run_jobs(jobs, tmp.str("manifest.json"));
  for (const auto& j : jobs)
    for (const auto& [name, ds] : compare(j)) {
      report(j, name, ds.first, ds.second);
      INFO(j.label << " " << name << ": max |ORT - reference| = " << ds.first);
      CHECK(ds.first <= 1e-4);
    }
}

TEST_CASE("transformers.js pipeline('text-classification') on the exported folder gives our labels and scores",
          "[export][transformersjs]") {
  if (!have_real_data() || !require_js()) return;
  TempDir tmp("transformersjs");
  auto tok = tokenizer::load_tokenizer(tokenizer_dir());
  const auto texts = sst2_sentences(6);
  struct Case {
    ModelType type;
    std::map<int64_t, std::string> labels;
  };
  for (const auto& cs : {Case{ModelType::DistilBert, {{0, "NEGATIVE"}, {1, "POSITIVE"}}},
                         Case{ModelType::Bert, {{0, "negative"}, {1, "neutral"}, {2, "positive"}}}}) {
    ModelConfig c = small_config(cs.type);
    c.id2label = cs.labels;
    c.num_labels = static_cast<int64_t>(cs.labels.size());
    auto model = random_model(c, Head::SequenceClassification, 77);
    const std::string arch = model->architecture(), src = tmp.str(arch + "_src"), out = tmp.str(arch);
    save_model_folder(*model, src);
    tok->save_pretrained(src);
    ExportOptions o;  // all: the HF folder and the transformers.js layout side by side
    o.quantize = true;
    export_model_folder(src, out, o);
    REQUIRE(fs::is_regular_file(out + "/onnx/model.onnx"));
    REQUIRE(fs::is_regular_file(out + "/tokenizer.json"));

    // Ours: each text alone (as the pipeline runs them), softmax over the logits.
    std::vector<std::vector<std::pair<std::string, double>>> ours;
    for (const auto& t : texts) {
      ModelInputs in = encode(*tok, {t}, {}, cs.type == ModelType::Bert);
      auto p = torch::softmax(torch_outputs(*model, in)["logits"][0].to(torch::kDouble), 0);
      std::vector<std::pair<std::string, double>> row;
      for (int64_t i = 0; i < c.num_labels; ++i) row.emplace_back(c.label_name(i), p[i].item<double>());
      std::stable_sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      ours.push_back(row);
    }
    for (const char* dtype : {"fp32", "q8"}) {
      INFO(arch << " transformers.js dtype " << dtype);
      nlohmann::json job = {{"model_dir", out}, {"task", "text-classification"}, {"texts", texts},
                            {"dtype", dtype}, {"top_k", nullptr}};
      const std::string job_path = tmp.str(arch + "_" + dtype + "_job.json");
      std::ofstream(job_path) << job.dump();
      auto r = run_js("pipeline.mjs", job_path);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      const auto line = r.output.substr(r.output.rfind("{\"results\""));
      const auto results = nlohmann::json::parse(line)["results"];
      REQUIRE(results.size() == texts.size());
      double worst = 0;
      int top1_agree = 0;
      for (size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << i << ": " << texts[i]);
        REQUIRE(results[i].size() == ours[i].size());
        top1_agree += results[i][0]["label"] == ours[i][0].first;
        for (size_t k = 0; k < ours[i].size(); ++k) {
          if (std::string(dtype) == "fp32") CHECK(results[i][k]["label"] == ours[i][k].first);
          // Scores by label name.
          for (const auto& rk : results[i])
            if (rk["label"] == ours[i][k].first)
              worst = std::max(worst, std::abs(rk["score"].get<double>() - ours[i][k].second));
        }
      }
      std::cout << "[export] transformers.js " << arch << " " << dtype << ": max |score - ours| " << worst
                << ", top-1 label agreement " << top1_agree << "/" << texts.size() << "\n";
      if (std::string(dtype) == "fp32") {
        CHECK(worst <= 1e-4);
        CHECK(top1_agree == static_cast<int>(texts.size()));
      } else {
        CHECK(worst <= 0.1);
      }
    }
  }
}
