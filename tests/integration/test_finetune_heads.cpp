// Fine-tuning end to end for the question-answering, token-classification and multiple-choice families, on small
// files written in the published layouts (SQuAD JSON, CoNLL-2003, SWAG CSV) and tiny models (the golden 2-layer
// DistilBERT / BERT weights with a 128-word vocabulary). Each synthetic task is trivially learnable, so a model that
// trains must clearly beat chance: the answer is the one colour word of the context (QA), a word's tag follows from
// the word (NER), the right ending is the one with a "true" word (SWAG). Also: task-specific distillation of a
// DistilBERT QA student from a BERT QA teacher's start/end logits alone, evaluate on the kept folders, recipes'
// bad_rows policy on malformed rows, every shipped recipe of these families, and the teacher-output cache of
// task-specific distillation for every head.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/train/finetune.h"
#include "distilbert/train/finetune_setup.h"
#include "distilbert/train/teacher_cache.h"
#include "support/run_command.h"
#include "test_paths.h"
#include "support/json_lines.h"

using namespace distilbert;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using distilbert::testing::read_json;

const std::vector<std::string> kFiller = {"the", "a", "of", "and", "to", "in", "was", "is", "it", "on", "at", "by",
                                          "with", "from", "he", "she", "they", "went", "saw", "said", "old", "new",
                                          "house", "road", "day", "man", "woman", "dog", "car", "tree"};
const std::vector<std::string> kColours = {"red", "blue", "green", "yellow", "purple", "orange", "black", "white"};
const std::vector<std::string> kFirst = {"john", "mary", "peter", "anna"};
const std::vector<std::string> kLast = {"smith", "jones", "brown", "taylor"};
const std::vector<std::string> kCities = {"paris", "rome", "berlin", "madrid"};
const std::vector<std::string> kTrue = {"true", "right", "correct"};
const std::vector<std::string> kFalse = {"false", "wrong", "bad"};

/// A folder holding `model/` (golden tiny weights + a word vocabulary of 128 entries, "##son" included).
fs::path make_folder(const std::string& name, const std::string& golden) {
  const fs::path dir = fs::temp_directory_path() / "distilbert_finetune_heads" / name;
  fs::remove_all(dir);
  fs::create_directories(dir / "model");
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "colour", "?", "##son", ","};
  for (const auto* list : {&kFiller, &kColours, &kFirst, &kLast, &kCities, &kTrue, &kFalse})
    v.insert(v.end(), list->begin(), list->end());
  for (int i = 0; v.size() < 128; ++i) v.push_back("[unused" + std::to_string(i) + "]");
  {
    std::ofstream out(dir / "vocab.txt");
    for (const auto& t : v) out << t << "\n";
  }
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(kSource) / "tests/data/golden" / golden / f, dir / "model" / f);
  tokenizer::load_tokenizer(dir / "vocab.txt")->save_pretrained(dir / "model");
  return dir;
}

template <class T>
const T& pick(const std::vector<T>& v, std::mt19937& rng) {
  return v[rng() % v.size()];
}

/// SQuAD JSON: contexts of 14-30 filler words (`words` when > 0) with one colour word (none for a third of the
/// questions when `unanswerable`); the question asks for the colour.
void write_squad(const fs::path& path, int n, std::mt19937& rng, bool unanswerable, int words = 0) {
  json qas = json::array();
  json paragraphs = json::array();
  for (int i = 0; i < n; ++i) {
    const int len = words > 0 ? words : 14 + static_cast<int>(rng() % 17);
    const bool answerable = !unanswerable || rng() % 3 != 0;
    const int at = static_cast<int>(rng() % len);
    std::string context, colour;
    size_t start = 0;
    for (int k = 0; k < len; ++k) {
      if (!context.empty()) context += " ";
      if (answerable && k == at) {
        colour = pick(kColours, rng);
        start = context.size();
        context += colour;
      } else {
        context += pick(kFiller, rng);
      }
    }
    json qa = {{"id", "q" + std::to_string(i)}, {"question", "what colour is it?"}};
    if (answerable) {
      qa["answers"] = json::array({{{"text", colour}, {"answer_start", start}}});
    } else {
      qa["answers"] = json::array();
      qa["is_impossible"] = true;
    }
    paragraphs.push_back({{"context", context}, {"qas", json::array({qa})}});
  }
  std::ofstream(path) << json{{"version", unanswerable ? "v2.0" : "1.1"},
                              {"data", json::array({{{"title", "colours"}, {"paragraphs", paragraphs}}})}}
                             .dump(1);
}

json base_recipe(const fs::path& model, const fs::path& out) {
  json r = json::parse(R"({"seed": 3, "threads": 1,
    "optimizer": {"lr": 3e-3, "warmup_prop": 0.1, "weight_decay": 0.0},
    "trainer": {"epochs": 4, "batch_size": 16, "eval_batch_size": 64, "log_every": 5, "progress": false}})");
  r["model"] = model.string();
  r["output_dir"] = out.string();
  return r;
}

}  // namespace

TEST_CASE("finetune squad: a BERT teacher learns QA over windows, a DistilBERT student learns from its logits alone",
          "[integration][finetune_heads]") {
  const auto dir = make_folder("squad", "bert_mlm");
  const auto student_dir = make_folder("squad_student", "distilbert_mlm");
  std::mt19937 rng(11);
  write_squad(dir / "train-v1.1.json", 240, rng, false);
  write_squad(dir / "dev-v1.1.json", 60, rng, false);
  // max_seq_len 28 - 8 question tokens ([CLS] what colour is it ? [SEP] ... [SEP]): 21 context tokens per window,
  // doc_stride 8, so longer contexts make two windows, one of which may not hold the answer.
  const json task = {{"name", "squad"}, {"data_dir", dir.string()}, {"max_seq_len", 28}, {"doc_stride", 8},
                     {"max_query_len", 10}};
  auto t = base_recipe(dir / "model", dir / "teacher");
  t["task"] = task;
  const auto teacher = FinetuneRecipe::from_tree(t, "test");
  const auto ts = run_finetune(teacher, false);
  INFO("teacher EM " << ts.best_metrics.at("exact_match") << " F1 " << ts.best_metrics.at("f1"));
  // Chance: one of ~22 tokens, and a span must also end right.
  REQUIRE(ts.best_metrics.at("exact_match") > 80.0);
  CHECK(ts.best_metrics.at("f1") >= ts.best_metrics.at("exact_match"));
  const auto results = read_json(dir / "teacher" / "eval_results.json");
  CHECK(results["main_metric"] == "f1");
  CHECK(results["train_examples"].get<int>() > 240);  // windows, not questions
  CHECK(read_json(dir / "teacher" / "best" / "config.json")["architectures"][0] == "BertForQuestionAnswering");
  // evaluate on the kept folder reproduces the kept metrics.
  const auto again = evaluate_model(teacher, (dir / "teacher" / "best").string());
  CHECK(again.at("exact_match") == Approx(ts.best_metrics.at("exact_match")));
  CHECK(again.at("f1") == Approx(ts.best_metrics.at("f1")));

  // The student: a fresh DistilBERT, trained on the teacher's start/end distributions only (alpha_task 0).
  auto st = base_recipe(student_dir / "model", dir / "student");
  st["task"] = task;
  st["distill"] = {{"teacher", (dir / "teacher" / "best").string()}, {"temperature", 2.0}, {"alpha_ce", 1.0},
                   {"alpha_task", 0.0}};
  const auto ss = run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  INFO("student EM " << ss.best_metrics.at("exact_match"));
  CHECK(ss.best_metrics.at("exact_match") > 70.0);
  std::ifstream in(dir / "student" / "metrics.jsonl");
  std::string line;
  int kd_records = 0;
  while (std::getline(in, line)) {
    const auto rec = json::parse(line);
    if (!rec.contains("loss_kd")) continue;
    ++kd_records;
    CHECK(rec["loss"].get<double>() == Approx(rec["loss_kd"].get<double>()));
  }
  CHECK(kd_records > 0);
  CHECK(read_json(dir / "student" / "best" / "config.json")["architectures"][0] == "DistilBertForQuestionAnswering");
}

TEST_CASE("finetune squad_v2: unanswerable questions through the null score", "[integration][finetune_heads]") {
  const auto dir = make_folder("squad_v2", "distilbert_mlm");
  std::mt19937 rng(12);
  write_squad(dir / "train.json", 300, rng, true);
  write_squad(dir / "dev.json", 60, rng, true);
  auto r = base_recipe(dir / "model", dir / "run");
  r["task"] = {{"name", "squad_v2"}, {"train_file", (dir / "train.json").string()},
               {"dev_file", (dir / "dev.json").string()}, {"max_seq_len", 40}, {"doc_stride", 8},
               {"max_query_len", 10}};
  const auto s = run_finetune(FinetuneRecipe::from_tree(r, "test"), false);
  INFO("EM " << s.best_metrics.at("exact_match") << " HasAns " << s.best_metrics.at("HasAns_exact") << " NoAns "
             << s.best_metrics.at("NoAns_exact"));
  // Always answering "" would score the unanswerable third (~33); always a span, the answerable two thirds.
  CHECK(s.best_metrics.at("exact_match") > 80.0);
  CHECK(s.best_metrics.at("HasAns_exact") > 70.0);
  CHECK(s.best_metrics.at("NoAns_exact") > 70.0);
  // A v2 file under task squad (v1.1) is refused: its unanswerable questions cannot be scored.
  r["task"]["name"] = "squad";
  r["output_dir"] = (dir / "run_v1").string();
  CHECK_THROWS_WITH(run_finetune(FinetuneRecipe::from_tree(r, "test"), false), Contains("use task squad_v2"));
}

namespace {

/// CoNLL-2003 lines: names (one or two words, "##son" surnames make two sub-words), cities and filler words.
/// `words` > 0: every sentence has exactly that many words, one token each (the same number of labelled tokens per
/// sentence, so batch means of the token loss split evenly over data-parallel ranks).
void write_conll(const fs::path& path, int n, std::mt19937& rng, int words = 0) {
  std::ofstream out(path);
  out << "-DOCSTART- -X- -X- O\n\n";
  for (int i = 0; i < n; ++i) {
    const int len = words > 0 ? words : 4 + static_cast<int>(rng() % 6);
    for (int k = 0; k < len; ++k) {
      const int kind = static_cast<int>(rng() % 4);
      if (kind == 0) {
        out << pick(kFirst, rng) << " NNP B-NP B-PER\n";
        if (words == 0 && rng() % 2) out << (rng() % 2 ? pick(kFirst, rng) + "son" : pick(kLast, rng)) << " NNP I-NP I-PER\n";
      } else if (kind == 1) {
        out << pick(kCities, rng) << " NNP B-NP B-LOC\n";
      } else {
        out << pick(kFiller, rng) << " DT B-NP O\n";
      }
    }
    out << "\n";
  }
}

}  // namespace

TEST_CASE("finetune conll2003: entity F1 from first sub-word labels, malformed lines by recipe policy",
          "[integration][finetune_heads]") {
  const auto dir = make_folder("conll", "distilbert_mlm");
  std::mt19937 rng(13);
  write_conll(dir / "train.txt", 300, rng);
  write_conll(dir / "valid.txt", 60, rng);
  auto r = base_recipe(dir / "model", dir / "run");
  r["task"] = {{"name", "conll2003"}, {"data_dir", dir.string()}, {"max_seq_len", 32}};
  r["trainer"]["epochs"] = 8;
  const auto recipe = FinetuneRecipe::from_tree(r, "test");
  const auto s = run_finetune(recipe, false);
  INFO("precision " << s.best_metrics.at("precision") << " recall " << s.best_metrics.at("recall") << " f1 "
                    << s.best_metrics.at("f1") << " accuracy " << s.best_metrics.at("accuracy"));
  CHECK(s.best_metrics.at("f1") > 0.9);
  CHECK(s.best_metrics.at("accuracy") > 0.9);
  const auto cfg = read_json(dir / "run" / "best" / "config.json");
  CHECK(cfg["architectures"][0] == "DistilBertForTokenClassification");
  CHECK(cfg["id2label"]["1"] == "B-PER");
  CHECK(evaluate_model(recipe, (dir / "run" / "best").string()).at("f1") == Approx(s.best_metrics.at("f1")));

  // A line with three columns and an unknown tag: bad_rows fail names file:line; skip drops the two sentences.
  {
    std::ofstream out(dir / "valid.txt", std::ios::app);
    out << "paris NNP B-LOC\nrome NNP B-NP B-LOC\n\nberlin NNP B-NP B-CITY\n";
  }
  std::ifstream in(dir / "valid.txt");
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  r["output_dir"] = (dir / "run_fail").string();
  CHECK_THROWS_WITH(run_finetune(FinetuneRecipe::from_tree(r, "test"), false),
                    Contains((dir / "valid.txt").string() + ":" + std::to_string(lines - 3) + ": expected 4 columns"));
  r["task"]["bad_rows"] = "skip";
  r["trainer"]["max_steps"] = 2;
  r["output_dir"] = (dir / "run_skip").string();
  CHECK_NOTHROW(run_finetune(FinetuneRecipe::from_tree(r, "test"), false));
}

namespace {

/// SWAG CSV in the published layout: the right ending holds a "true" word, the three others a "false" word.
void write_swag(const fs::path& path, int n, std::mt19937& rng) {
  std::ofstream out(path);
  out << ",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\n";
  auto phrase = [&](int len) {
    std::string s;
    for (int k = 0; k < len; ++k) s += (k ? " " : "") + pick(kFiller, rng);
    return s;
  };
  for (int i = 0; i < n; ++i) {
    const std::string sent1 = phrase(5), sent2 = phrase(2);
    const int label = static_cast<int>(rng() % 4);
    out << i << ",vid" << i << "," << i << ",\"" << sent1 << ", " << sent2 << "\"," << sent1 << "," << sent2 << ",gold";
    for (int c = 0; c < 4; ++c) {
      const std::string& marker = c == label ? pick(kTrue, rng) : pick(kFalse, rng);
      out << "," << phrase(1) << " " << marker << " " << phrase(1);
    }
    out << "," << label << "\n";
  }
}

}  // namespace

TEST_CASE("finetune swag: four choices encoded together, accuracy well above chance", "[integration][finetune_heads]") {
  const auto dir = make_folder("swag", "distilbert_mlm");
  std::mt19937 rng(14);
  write_swag(dir / "train.csv", 240, rng);
  write_swag(dir / "val.csv", 60, rng);
  auto r = base_recipe(dir / "model", dir / "run");
  r["task"] = {{"name", "swag"}, {"data_dir", dir.string()}, {"max_seq_len", 24}};
  r["trainer"]["batch_size"] = 8;
  const auto recipe = FinetuneRecipe::from_tree(r, "test");
  const auto s = run_finetune(recipe, false);
  INFO("accuracy " << s.best_metrics.at("accuracy"));
  CHECK(s.best_metrics.at("accuracy") > 0.8);  // chance 0.25
  CHECK(read_json(dir / "run" / "best" / "config.json")["architectures"][0] == "DistilBertForMultipleChoice");
  CHECK(evaluate_model(recipe, (dir / "run" / "best").string()).at("accuracy") ==
        Approx(s.best_metrics.at("accuracy")));
}

TEST_CASE("finetune recipes: the QA, NER and multiple-choice recipes parse with HF's hyperparameters",
          "[integration][recipe]") {
  size_t n = 0;
  for (const char* family : {"qa", "ner", "mc"}) {
    for (const auto& e : fs::directory_iterator(fs::path(kSource) / "recipes" / family)) {
      INFO(e.path().string());
      CHECK_NOTHROW(FinetuneRecipe::load(e.path().string(), {}));
      std::ifstream in(e.path());
      std::string first;
      std::getline(in, first);
      CHECK(first.rfind("#", 0) == 0);
      ++n;
    }
  }
  CHECK(n == 6);
  const auto qa = FinetuneRecipe::load(kSource + "/recipes/qa/squad.yaml", {});
  CHECK(qa.task == "squad");
  CHECK(qa.max_seq_len == 384);
  CHECK(qa.doc_stride == 128);
  CHECK(qa.optimizer.lr == 3e-5);
  CHECK(qa.optimizer.beta2 == 0.999);  // HF Trainer's defaults where the recipe is silent
  CHECK(qa.optimizer.eps == 1e-8);
  CHECK(qa.optimizer.max_grad_norm == 1.0);
  CHECK(qa.batch_size == 12);
  CHECK(qa.epochs == 2);
  const auto kd = FinetuneRecipe::load(kSource + "/recipes/qa/squad_distill.yaml", {});
  CHECK_FALSE(kd.kd_teacher.empty());
  CHECK(kd.kd_temperature == 2.0);
  const auto ner = FinetuneRecipe::load(kSource + "/recipes/ner/conll2003.yaml", {});
  CHECK(ner.optimizer.lr == 5e-5);
  CHECK(ner.epochs == 3);
  const auto mc = FinetuneRecipe::load(kSource + "/recipes/mc/swag.yaml", {});
  CHECK(mc.max_seq_len == 128);
  CHECK(mc.epochs == 3);
  // A task-specific distillation recipe per family.
  for (const char* path : {"/recipes/ner/conll2003_distill.yaml", "/recipes/mc/swag_distill.yaml"}) {
    INFO(path);
    const auto d = FinetuneRecipe::load(kSource + path, {});
    CHECK_FALSE(d.kd_teacher.empty());
    CHECK(d.kd_temperature == 2.0);
    CHECK(d.kd_alpha_ce == 0.5);
    CHECK(d.kd_alpha_task == 0.5);
  }
  // A stride that leaves no room is refused up front, naming the key.
  CHECK_THROWS_WITH(FinetuneRecipe::load(kSource + "/recipes/qa/squad.yaml", {"task.doc_stride=320"}),
                    Contains("task.max_seq_len"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(kSource + "/recipes/ner/conll2003.yaml", {"task.name=ner"}),
                    Contains("task.train_file"));
}

TEST_CASE("finetune QA, NER and multiple choice on 2 processes x batch 4 equal 1 process x batch 8",
          "[integration][finetune_heads][dist]") {
  // Every example yields one feature of the same length with the same number of scored positions (QA: one window
  // of a 20-word context, whose start/end softmax runs over every position as in HF, padding included; NER: 6
  // one-token words; SWAG: 4 choices), so the mean over 8 equals the mean of the two ranks' means over 4, and the
  // weights after each AdamW step must agree to fp32 rounding.
  const std::string cli = DISTILBERT_CLI;
  auto weights = [](const fs::path& folder) {
    std::map<std::string, torch::Tensor> out;
    for (auto& [k, v] : load_safetensors((folder / "model.safetensors").string()).tensors) out[k] = v.clone();
    return out;
  };
  for (const std::string family : {"squad", "conll2003", "swag"}) {
    INFO(family);
    const auto dir = make_folder("dp_" + family, "distilbert_mlm");
    std::mt19937 rng(17);
    json task = {{"name", family}, {"data_dir", dir.string()}};
    if (family == "squad") {
      write_squad(dir / "train-v1.1.json", 48, rng, false, 20);
      write_squad(dir / "dev-v1.1.json", 16, rng, false, 20);
      task["max_seq_len"] = 48;  // question (5) + context (20) + 3 specials: one window per example
      task["max_query_len"] = 8;
      task["doc_stride"] = 16;
    } else if (family == "conll2003") {
      write_conll(dir / "train.txt", 48, rng, 6);
      write_conll(dir / "valid.txt", 16, rng, 6);
      task["max_seq_len"] = 16;
    } else {
      write_swag(dir / "train.csv", 48, rng);
      write_swag(dir / "val.csv", 16, rng);
      task["max_seq_len"] = 24;
    }
    json r = base_recipe(dir / "model", dir / "one");
    r["optimizer"] = {{"lr", 1e-2}, {"eps", 1e-6}, {"warmup_prop", 0.0}, {"weight_decay", 0.01}};
    r["trainer"] = {{"max_steps", 6}, {"eval_every", 6}, {"eval_batch_size", 64}, {"log_every", 3},
                    {"progress", false}, {"batch_size", 8}};
    r["task"] = task;
    auto two = r;
    two["output_dir"] = (dir / "two").string();
    two["trainer"]["batch_size"] = 4;
    std::ofstream(dir / "one.json") << r.dump(1);
    std::ofstream(dir / "two.json") << two.dump(1);
    const auto r1 = testing::run_command(cli + " finetune --recipe '" + (dir / "one.json").string() + "'");
    INFO(r1.output);
    REQUIRE(r1.exit_code == 0);
    const auto r2 = testing::run_command(cli + " launch --nproc-per-node 2 -- finetune --recipe '" +
                                         (dir / "two.json").string() + "'");
    INFO(r2.output);
    REQUIRE(r2.exit_code == 0);
    CHECK_THAT(r2.output, Contains("batch 4 per process x 2"));
    const auto a = weights(dir / "one" / "best"), b = weights(dir / "two" / "best"), init = weights(dir / "model");
    REQUIRE(a.size() == b.size());
    double worst = 0, moved = 0;
    std::string worst_key;
    for (const auto& [k, t] : a) {
      REQUIRE(b.count(k));
      // The QA bias adds the same constant to every position's start (end) score, which a softmax over positions
      // ignores: its exact gradient is 0, its computed one rounding noise that Adam's normalisation scales up to lr.
      // The multiple-choice classifier's one bias likewise adds the same constant to every choice's score. Whether
      // that noise happens to agree between the two runs depends on the machine's BLAS kernels (it did on an
      // earlier machine; on an AMD EPYC running OpenBLAS's Haswell kernels it differed by 1.5e-4 after 6 steps).
      if (k == "qa_outputs.bias" || (family == "swag" && k == "classifier.bias")) continue;
      const double d = (t - b.at(k)).abs().max().item<double>();
      if (d > worst) worst = d, worst_key = k;
      if (init.count(k)) moved = std::max(moved, (t - init.at(k)).abs().max().item<double>());
    }
    INFO("max |w1 - w2| = " << worst << " (" << worst_key << "), max |w1 - w0| = " << moved);
    CHECK(moved > 1e-2);  // training changed the weights ...
    CHECK(worst < 2e-5);  // ... identically on 1 and 2 processes
    // Dev metrics (computed on every rank's full dev set) agree too.
    const auto e1 = read_json(dir / "one" / "eval_results.json"), e2 = read_json(dir / "two" / "eval_results.json");
    CHECK(e1["main_metric"] == e2["main_metric"]);
    const std::string metric = e1["main_metric"];
    CHECK(e2[metric].get<double>() == Approx(e1[metric].get<double>()).margin(1e-9));
  }
}

TEST_CASE("teacher cache: for every head, the cached outputs give the soft loss of the teacher's own forward pass",
          "[integration][finetune_heads][teacher_cache]") {
  // The cache is computed in batches of 5 units in order; training asks for shuffled batches of 8, padded to their
  // own longest unit. Real positions must agree to fp32 rounding (a row's arithmetic does not depend on the other
  // rows, only the padded length can change the order of a few additions), and the soft loss must not see padding.
  for (const std::string family : {"custom", "squad", "conll2003", "swag"}) {
    INFO(family);
    const auto dir = make_folder("cache_" + family, family == "squad" ? "bert_mlm" : "distilbert_mlm");
    std::mt19937 rng(23);
    json task = {{"name", family}, {"data_dir", dir.string()}};
    if (family == "custom") {
      std::ofstream out(dir / "train.tsv");
      out << "sentence\tlabel\n";
      for (int i = 0; i < 40; ++i) {
        std::string s;
        for (int k = 0, n = 2 + static_cast<int>(rng() % 11); k < n; ++k) s += (k ? " " : "") + pick(kFiller, rng);
        out << s << "\t" << (rng() % 2 ? "yes" : "no") << "\n";
      }
      out.close();
      fs::copy_file(dir / "train.tsv", dir / "dev.tsv");
      task = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
              {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 32}};
    } else if (family == "squad") {
      write_squad(dir / "train-v1.1.json", 30, rng, false);  // 14-30 words: one or two windows of varied length
      write_squad(dir / "dev-v1.1.json", 4, rng, false);
      task["max_seq_len"] = 28;
      task["doc_stride"] = 8;
      task["max_query_len"] = 10;
    } else if (family == "conll2003") {
      write_conll(dir / "train.txt", 40, rng);
      write_conll(dir / "valid.txt", 4, rng);
      task["max_seq_len"] = 32;
    } else {
      write_swag(dir / "train.csv", 40, rng);
      write_swag(dir / "val.csv", 4, rng);
      task["max_seq_len"] = 24;
    }
    auto r = base_recipe(dir / "model", dir / "run");
    r["task"] = task;
    const auto recipe = FinetuneRecipe::from_tree(r, "test");
    auto ft = make_task(recipe, true);
    auto s = setup(recipe, recipe.model, *ft, true);
    const bool bert = s.model->config().model_type == ModelType::Bert;
    ft->encode(*s.tok, bert, bert);
    s.model->eval();
    TeacherCacheOptions o;
    o.batch_size = 5;
    o.pad_id = s.tok->special_ids().pad;
    const TeacherCache cache(*ft, ft->head(), *s.model, o);
    REQUIRE(cache.units() == ft->train_size());
    CHECK(!cache.from_file());

    std::vector<size_t> idx(static_cast<size_t>(ft->train_size()));
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(8);
    const auto in = ft->train_batch(idx, o.pad_id, torch::kCPU);
    ModelInputs tin = in;
    tin.labels = tin.start_positions = tin.end_positions = torch::Tensor();
    torch::NoGradGuard no_grad;
    const auto direct = s.model->forward(tin);
    const auto cached = cache.outputs(idx, in.input_ids.size(-1), torch::kCPU);
    const bool per_token = family == "squad" || family == "conll2003";
    const auto real = in.attention_mask.to(torch::kBool);
    ModelOutput student = direct;  // a student near the teacher: its outputs plus noise, padding included
    for (auto [d, c, st] : {std::tuple{&direct.logits, &cached.logits, &student.logits},
                            std::tuple{&direct.start_logits, &cached.start_logits, &student.start_logits},
                            std::tuple{&direct.end_logits, &cached.end_logits, &student.end_logits}}) {
      if (!d->defined()) continue;
      REQUIRE(c->defined());
      REQUIRE(c->sizes() == d->sizes());
      *st = *d + 0.5 * torch::randn(d->sizes());
      const auto dr = per_token ? d->index({real}) : *d, cr = per_token ? c->index({real}) : *c;
      const double scale = std::max(1.0, dr.abs().max().item<double>());
      CHECK((dr - cr).abs().max().item<double>() < 1e-5 * scale);
      if (per_token) CHECK(c->index({real.logical_not()}).abs().sum().item<double>() == 0.0);
    }
    const double want = ft->distill_loss(student, direct, in, 2.0).item<double>();
    const double got = ft->distill_loss(student, cached, in, 2.0).item<double>();
    INFO("soft loss with the teacher's forward pass " << want << ", with the cache " << got);
    CHECK(want > 0.01);
    CHECK(got == Approx(want).epsilon(1e-5));
  }
}
