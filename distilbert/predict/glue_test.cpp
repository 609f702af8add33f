// GLUE test-set predictions and submission files; see glue_test.h.
#include "distilbert/predict/glue_test.h"

#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/tasks/glue.h"
#include "distilbert/tasks/submission.h"
#include "distilbert/train/finetune_task.h"
#include "distilbert/train/finetuned_classifier.h"

namespace distilbert {

namespace {

/// One split's predictions in example order: class ids (STS-B: scores) and the predictions-<split>.jsonl text.
struct SplitPredictions {
  std::vector<int> ids;
  std::vector<double> scores;
  std::string jsonl;
};

SplitPredictions predict_examples(const FinetunedClassifier& c, const FinetuneRecipe& r, tasks::GlueTask task,
                                  const std::vector<tasks::Example>& ex) {
  const bool regression = tasks::glue_is_regression(task);
  const auto& names = tasks::glue_label_names(task);
  SplitPredictions out;
  classify_examples(c, r, ex, [&](size_t begin, const torch::Tensor& logits) {
    auto probs = regression ? logits : torch::softmax(logits, -1);
    for (int64_t i = 0; i < logits.size(0); ++i) {
      nlohmann::json line = {{"index", begin + static_cast<size_t>(i)}};
      if (regression) {
        out.scores.push_back(logits[i][0].item<double>());
        line["score"] = out.scores.back();
      } else {
        out.ids.push_back(static_cast<int>(logits[i].argmax().item<int64_t>()));
        line["label"] = names.at(static_cast<size_t>(out.ids.back()));
        line["label_id"] = out.ids.back();
        std::vector<double> p(static_cast<size_t>(probs.size(1)));
        for (int64_t k = 0; k < probs.size(1); ++k) p[static_cast<size_t>(k)] = probs[i][k].item<double>();
        line["probabilities"] = p;
      }
      out.jsonl += line.dump() + "\n";
    }
  });
  return out;
}

/// Predict one test split; writes its submission file and predictions-<split>.jsonl and returns both paths.
std::vector<std::string> predict_split(const FinetunedClassifier& c, const FinetuneRecipe& r, tasks::GlueTask task,
                                       const std::string& split, const std::string& out_dir) {
  tasks::ReadOptions ro;
  ro.policy = r.bad_rows == "skip" ? tasks::BadRowPolicy::Skip : tasks::BadRowPolicy::Fail;
  auto res = tasks::read_glue_split(task, r.data_dir, split, ro);
  if (res.skipped) std::cerr << "[predict] " << split << ": skipped " << res.skipped << " malformed row(s)\n";
  const auto& ex = res.examples;
  DISTILBERT_CHECK(!ex.empty(), r.data_dir, ": the ", split, " split of ", r.task, " has no examples");
  const SplitPredictions p = predict_examples(c, r, task, ex);
  const auto file = tasks::submission_file_for(task, split == "test_mismatched");
  const std::string path = tasks::glue_is_regression(task) ? tasks::write_score_submission(out_dir, p.scores)
                                                           : tasks::write_class_submission(out_dir, file, p.ids);
  const std::string preds = (std::filesystem::path(out_dir) / ("predictions-" + split + ".jsonl")).string();
  write_file_atomic(preds, p.jsonl);
  if (ex.size() != tasks::submission_expected_rows(file))
    std::cerr << "[predict] note: " << path << " has " << ex.size() << " rows; the GLUE server expects "
              << tasks::submission_expected_rows(file) << " for " << tasks::submission_file_name(file) << "\n";
  std::cerr << "[predict] " << split << ": " << ex.size() << " examples -> " << path << " and " << preds << "\n";
  return {path, preds};
}

}  // namespace

std::vector<std::string> predict_glue_test(const FinetuneRecipe& r, const std::string& model_dir,
                                           const std::string& out_dir, bool fresh_head) {
  DISTILBERT_CHECK(
      r.task != "custom" && !is_heads_task(r.task), r.origin, ": task '", r.task,
      "': submission files exist for the nine GLUE tasks only (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli)");
  const auto task = tasks::parse_glue_task(r.task);
  const FinetunedClassifier classifier = load_finetuned_classifier(r, model_dir, fresh_head);
  std::filesystem::create_directories(out_dir);
  std::vector<std::string> written;
  for (const auto& split : tasks::glue_splits(task)) {
    if (split.rfind("test", 0) != 0) continue;
    for (auto& path : predict_split(classifier, r, task, split, out_dir)) written.push_back(std::move(path));
  }
  return written;
}

}  // namespace distilbert
