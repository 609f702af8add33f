// `distilbert predict`: run a model folder on inputs and write one JSON line of head outputs per input.
// Inputs: JSONL lines with {"input_ids": [...], "attention_mask": [...]} (optionally "token_type_ids" and
// "position_ids", docs/MODELS.md §2.2) or {"text": ..., "text_pair": ...}, or a
// plain text file (one text per line; with --pairs, "A<TAB>B"). Text needs a tokenizer: the model folder's own
// files (tokenizer.json / vocab.txt) or --tokenizer DIR. --dump-tensors writes the padded batch's inputs, logits
// and every hidden state to a safetensors file for inspection (and for scripts/check_dump.py).
// GLUE test sets: --recipe R --submission DIR runs the fine-tuned model on the recipe task's test split(s) and writes
// the gluebenchmark.com files (SST-2.tsv, MNLI-m.tsv + MNLI-mm.tsv, ...) and per-example predictions
// (predict/glue_test.h).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <torch/torch.h>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/predict/glue_test.h"
#include "distilbert/predict/predict_input.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::cli {

namespace {

using json = nlohmann::json;

std::vector<double> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

json describe(const PretrainedModel& model, const ModelOutput& out, const ModelInputs& in, int64_t i, int top_k,
              int64_t mask_id, int max_answer_length, const tokenizer::Tokenizer* tok) {
  const auto& c = model.config();
  const std::string arch = model.architecture();
  json j;
  auto mask_row = in.attention_mask.dim() == 2 ? in.attention_mask[i] : torch::Tensor();
  if (arch.find("ForSequenceClassification") != std::string::npos) {
    auto logits = out.logits[i];
    j["logits"] = to_vec(logits);
    const bool regression = c.problem_type == "regression" || (c.problem_type.empty() && c.num_labels == 1);
    if (regression) {
      j["score"] = logits[0].item<double>();
    } else if (c.problem_type == "multi_label_classification") {
      auto p = torch::sigmoid(logits);
      j["probs"] = to_vec(p);
      json labels = json::array();
      for (int64_t k = 0; k < c.num_labels; ++k)
        if (p[k].item<double>() > 0.5) labels.push_back(c.label_name(k));
      j["labels"] = labels;
    } else {
      auto p = torch::softmax(logits, -1);
      const int64_t best = p.argmax().item<int64_t>();
      j["probs"] = to_vec(p);
      j["label_id"] = best;
      j["label"] = c.label_name(best);
    }
  } else if (arch.find("ForMultipleChoice") != std::string::npos) {
    auto p = torch::softmax(out.logits[i], -1);
    j["logits"] = to_vec(out.logits[i]);
    j["probs"] = to_vec(p);
    j["choice"] = p.argmax().item<int64_t>();
  } else if (arch.find("ForMaskedLM") != std::string::npos) {
    json masked = json::array();
    auto ids = in.input_ids[i];
    for (int64_t t = 0; t < ids.size(0); ++t) {
      if (ids[t].item<int64_t>() != mask_id) continue;
      auto p = torch::softmax(out.logits[i][t].to(torch::kFloat32), -1);
      auto top = p.topk(std::min<int64_t>(top_k, p.size(0)));
      json cands = json::array();
      for (int64_t k = 0; k < std::get<0>(top).size(0); ++k) {
        const int64_t id = std::get<1>(top)[k].item<int64_t>();
        json cand = {{"id", id}, {"score", std::get<0>(top)[k].item<double>()}};
        if (tok)
          if (auto t = tok->id_to_token(id)) cand["token"] = *t;
        cands.push_back(cand);
      }
      masked.push_back({{"position", t}, {"top_k", cands}});
    }
    j["masked"] = masked;
  } else if (arch.find("ForTokenClassification") != std::string::npos) {
    auto pred = out.logits[i].argmax(-1);
    json ids = json::array(), names = json::array();
    for (int64_t t = 0; t < pred.size(0); ++t) {
      if (mask_row.defined() && mask_row[t].item<int64_t>() == 0) continue;
      ids.push_back(pred[t].item<int64_t>());
      names.push_back(c.label_name(pred[t].item<int64_t>()));
    }
    j["label_ids"] = ids;
    j["labels"] = names;
  } else if (arch.find("ForQuestionAnswering") != std::string::npos) {
    auto s = out.start_logits[i].to(torch::kFloat64), e = out.end_logits[i].to(torch::kFloat64);
    const int64_t T = s.size(0);
    double best = -std::numeric_limits<double>::infinity();
    int64_t bs = 0, be = 0;
    auto sa = s.accessor<double, 1>(), ea = e.accessor<double, 1>();
    for (int64_t a = 0; a < T; ++a) {
      if (mask_row.defined() && mask_row[a].item<int64_t>() == 0) continue;
      for (int64_t b = a; b < std::min<int64_t>(T, a + max_answer_length); ++b) {
        if (mask_row.defined() && mask_row[b].item<int64_t>() == 0) break;
        if (sa[a] + ea[b] > best) best = sa[a] + ea[b], bs = a, be = b;
      }
    }
    j["start"] = bs;
    j["end"] = be;
    j["score"] = best;
    if (tok) {
      std::vector<int64_t> span;
      for (int64_t t = bs; t <= be; ++t) span.push_back(in.input_ids[i][t].item<int64_t>());
      j["answer"] = tok->decode(span, /*skip_special_tokens=*/true);
    }
  } else {
    // Base model: the mean of the last hidden states over real tokens, a common sentence embedding.
    auto h = out.last_hidden_state[i];
    auto m = mask_row.defined() ? mask_row.to(h.scalar_type()).unsqueeze(-1) : torch::ones({h.size(0), 1});
    j["embedding"] = to_vec((h * m).sum(0) / m.sum());
  }
  return j;
}

}  // namespace

namespace {
Command add_predict_command(CLI::App& app) {
  struct Opts {
    std::string model, input, output, dump, tokenizer, recipe, submission;
    std::vector<std::string> overrides;
    int batch_size = 32, top_k = 5, max_answer_length = 30;
    int64_t mask_id = -1;
    size_t max_length = 0;
    bool pairs = false, fresh_head = false;
    RuntimeOptions rt;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("predict", "Run a model folder on JSONL inputs and print its head's outputs");
  cmd->add_option("--model", o->model, "Model folder (config.json + weights)")->required();
  cmd->add_option("--input", o->input,
                  "JSONL ({\"input_ids\": [...]} or {\"text\": ..., \"text_pair\": ...} per line) or a plain text "
                  "file (one text per line)")
      ->check(CLI::ExistingFile);
  auto* recipe = cmd->add_option("--recipe", o->recipe,
                                 "GLUE test-set mode: a fine-tuning recipe naming the task and data_dir (instead of "
                                 "--input); writes the submission files to --submission")
                     ->check(CLI::ExistingFile)
                     ->excludes("--input");
  cmd->add_option("--submission", o->submission,
                  "With --recipe: folder for SST-2.tsv (...) and predictions-<split>.jsonl")
      ->needs(recipe);
  cmd->add_option("--set", o->overrides, "With --recipe: key.path=value recipe override (repeatable)");
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer folder for text inputs (default: the model folder's)");
  cmd->add_flag("--pairs", o->pairs, "Plain text input holds 'text<TAB>text_pair' per line");
  cmd->add_flag("--fresh-head", o->fresh_head,
                "Run even when the folder lacks its head's trained weights (they are then random)");
  cmd->add_option("--max-length", o->max_length, "Truncate text inputs to this many tokens (default: max positions)");
  cmd->add_option("--output", o->output, "Write JSONL here instead of stdout");
  cmd->add_option("--dump-tensors", o->dump,
                  "Write input_ids, attention_mask, logits and every hidden state (one padded batch) to this "
                  "safetensors file");
  cmd->add_option("--batch-size", o->batch_size, "Examples per forward pass")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "MLM: candidates per [MASK] position")->capture_default_str();
  cmd->add_option("--mask-id", o->mask_id, "MLM: the [MASK] id (default: the tokenizer's, else 103)");
  cmd->add_option("--max-answer-length", o->max_answer_length, "QA: longest span in tokens")->capture_default_str();
  add_runtime_options(cmd, o->rt);
  return {cmd, [o] {
            if (!o->recipe.empty()) {  // GLUE test set -> submission files
              DISTILBERT_CHECK(!o->submission.empty(),
                               "predict --recipe: give --submission DIR for the submission files");
              auto r = FinetuneRecipe::load(o->recipe, o->overrides);
              if (o->rt.threads > 0) r.threads = o->rt.threads;
              if (o->rt.device != "cpu") r.device = o->rt.device;
              predict_glue_test(r, o->model, o->submission, o->fresh_head);
              return 0;
            }
            DISTILBERT_CHECK(!o->input.empty(),
                             "predict: give --input FILE (or --recipe with --submission for GLUE test sets)");
            const torch::Device device = apply_runtime_options(o->rt);
            DISTILBERT_CHECK(o->batch_size > 0, "--batch-size must be > 0");
            LoadedModel loaded = load_model_folder(o->model);
            // A head the folder lacks would answer with random weights: refused, as HF's pipelines refuse.
            if (!loaded.report.newly_initialized.empty() && !o->fresh_head)
              fail("predict: model folder '", o->model, "' has no trained weights for its ",
                   loaded.model->architecture(), " head (missing: ", join(loaded.report.newly_initialized, ", "),
                   "): fine-tune it first, or pass --fresh-head to run a randomly initialised head");
            auto& model = *loaded.model;
            model.to(device);
            model.eval();
            torch::NoGradGuard no_grad;
            const bool mc = model.architecture().find("ForMultipleChoice") != std::string::npos;
            const bool bert = model.config().model_type == ModelType::Bert;
            // The tokenizer: --tokenizer, else the model folder's own files when present.
            std::shared_ptr<tokenizer::Tokenizer> tok;
            if (!o->tokenizer.empty())
              tok = tokenizer::load_tokenizer(o->tokenizer);
            else if (tokenizer::has_tokenizer(o->model))
              tok = tokenizer::load_tokenizer(o->model);
            if (tok)
              check_tokenizer_fits(tok->vocab_size(), model.config(), o->tokenizer.empty() ? o->model : o->tokenizer,
                                   o->model);
            PredictInputOptions src;
            src.multiple_choice = mc;
            src.pairs = o->pairs;
            src.tok = tok.get();
            src.max_length = o->max_length ? o->max_length
                                           : static_cast<size_t>(model.config().max_position_embeddings);
            int64_t mask_id = o->mask_id;
            if (mask_id < 0) mask_id = tok && tok->special_ids().mask >= 0 ? tok->special_ids().mask : 103;
            const auto t0 = std::chrono::steady_clock::now();
            auto examples = read_predict_inputs(o->input, model.config(), src);
            const auto t1 = std::chrono::steady_clock::now();

            std::ofstream file;
            if (!o->output.empty()) {
              file.open(o->output);
              DISTILBERT_CHECK(file.good(), "cannot write '", o->output, "'");
            }
            std::ostream& out = o->output.empty() ? std::cout : file;
            const size_t bs = o->dump.empty() ? static_cast<size_t>(o->batch_size) : examples.size();
            for (size_t begin = 0; begin < examples.size(); begin += bs) {
              const size_t end = std::min(examples.size(), begin + bs);
              ModelInputs in = collate_predict_inputs(examples, begin, end, mc, model.config().pad_token_id, bert);
              ModelInputs dev = in;
              dev.input_ids = in.input_ids.to(device);
              dev.attention_mask = in.attention_mask.to(device);
              if (in.token_type_ids.defined()) dev.token_type_ids = in.token_type_ids.to(device);
              if (in.position_ids.defined()) dev.position_ids = in.position_ids.to(device);
              dev.output_hidden_states = !o->dump.empty();
              ModelOutput res = model.forward(dev);
              auto cpu = [](const torch::Tensor& t) { return t.defined() ? t.to(torch::kCPU) : t; };
              res.logits = cpu(res.logits), res.start_logits = cpu(res.start_logits);
              res.end_logits = cpu(res.end_logits), res.last_hidden_state = cpu(res.last_hidden_state);
              for (int64_t i = 0; i < static_cast<int64_t>(end - begin); ++i)
                out << describe(model, res, in, i, o->top_k, mask_id, o->max_answer_length, src.tok).dump() << "\n";
              if (!o->dump.empty()) {
                NamedTensors dump = {{"input_ids", in.input_ids}, {"attention_mask", in.attention_mask}};
                if (in.token_type_ids.defined()) dump.emplace_back("token_type_ids", in.token_type_ids);
                if (in.position_ids.defined()) dump.emplace_back("position_ids", in.position_ids);
                for (auto [name, t] : {std::pair<const char*, torch::Tensor>{"logits", res.logits},
                                       {"start_logits", res.start_logits},
                                       {"end_logits", res.end_logits},
                                       {"last_hidden_state", res.last_hidden_state}})
                  if (t.defined()) dump.emplace_back(name, t);
                for (size_t h = 0; h < res.hidden_states.size(); ++h)
                  dump.emplace_back(str_cat("hidden_states.", h), cpu(res.hidden_states[h]));
                save_safetensors(o->dump, dump, {{"format", "pt"}, {"model", o->model}});
                std::cerr << "[predict] wrote " << dump.size() << " tensors to " << o->dump << "\n";
              }
            }
            const auto t2 = std::chrono::steady_clock::now();
            const double enc_s = std::chrono::duration<double>(t1 - t0).count();
            const double run_s = std::chrono::duration<double>(t2 - t1).count();
            std::cerr << "[predict] " << examples.size() << " examples: reading/tokenizing " << enc_s << " s, model "
                      << run_s << " s (" << examples.size() / std::max(run_s, 1e-9) << " examples/s, batch size "
                      << bs << ", " << torch::get_num_threads() << " thread(s))\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("predict", add_predict_command);

}  // namespace distilbert::cli
