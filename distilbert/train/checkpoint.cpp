// Training checkpoints; see checkpoint.h.
#include "distilbert/train/checkpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fault.h"
#include "distilbert/core/fs.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/train/trainer_state.h"

namespace distilbert {

namespace fs = std::filesystem;

namespace {

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step-%08lld", static_cast<long long>(step));
  return buf;
}

torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Remove the temporary folders of saves that died half-way (`step-N.tmp-<pid>` of a process that no longer
// exists), so a crash loop cannot fill the disk with them.
void remove_stale_temporaries(const fs::path& root) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    const auto pos = name.find(".tmp-");
    if (name.rfind("step-", 0) != 0 || pos == std::string::npos) continue;
    const long pid = std::strtol(name.c_str() + pos + 5, nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) continue;  // alive elsewhere
    std::cerr << "[checkpoint] removing the unfinished save " << e.path().string() << "\n";
    fs::remove_all(e.path(), ec);
  }
}

}  // namespace

std::string save_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& d, int64_t keep_last) {
  DISTILBERT_CHECK(d.model && d.optimizer, "save_checkpoint: model and optimizer are required");
  const fs::path root = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  fs::create_directories(root, ec);
  DISTILBERT_CHECK(!ec, "cannot create '", root.string(), "': ", ec.message());
  remove_stale_temporaries(root);
  const fs::path final_dir = root / step_name(step);
  const fs::path tmp = root / (step_name(step) + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fault::point("checkpoint.begin");
  try {
    save_model_folder(*d.model, tmp.string());
    fault::point("checkpoint.weights_written");
    if (d.tokenizer) d.tokenizer->save_pretrained(tmp);
    {
      torch::serialize::OutputArchive archive;
      d.optimizer->save(archive);
      archive.save_to((tmp / "optimizer.pt").string());
    }
    if (d.with_grads) {
      NamedTensors grads;
      for (const auto& p : d.model->named_parameters(true))
        if (p.value().grad().defined()) grads.emplace_back(p.key(), p.value().grad());
      save_safetensors((tmp / "grads.safetensors").string(), grads);
    }
    save_safetensors((tmp / "rng.safetensors").string(), {{"cpu", cpu_rng_state()}});
    nlohmann::json state = d.state;
    state["format_version"] = kTrainerStateVersion;
    state["step"] = step;
    state["has_grads"] = d.with_grads;
    // Written last: its presence marks a complete checkpoint even before the rename.
    write_file_atomic((tmp / "trainer_state.json").string(), state.dump(2) + "\n");
    fsync_dir(tmp);
    fault::point("checkpoint.before_rename");
    if (fs::exists(final_dir)) fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    fsync_dir(root);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    fail("cannot write checkpoint '", final_dir.string(), "': ", e.what());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < all.size(); ++i) fs::remove_all(all[i], ec);
  return final_dir.string();
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  const fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("step-", 0) == 0 && name.find(".tmp") == std::string::npos)
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());  // zero-padded step numbers sort in order
  return out;
}

nlohmann::json load_checkpoint(const std::string& dir, PretrainedModel& model, torch::optim::Optimizer& optimizer) {
  const fs::path d(dir);
  for (const char* f : {"trainer_state.json", "model.safetensors", "config.json", "optimizer.pt", "rng.safetensors"})
    DISTILBERT_CHECK(fs::exists(d / f), "checkpoint '", dir, "' is incomplete: no ", f);
  const nlohmann::json state = parse_trainer_state(read_file((d / "trainer_state.json").string()),
                                                  "checkpoint " + (d / "trainer_state.json").string());
  auto report = load_state_dict(model, read_weights((d / "model.safetensors").string()), dir, /*allow_new_head=*/false);
  {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from((d / "optimizer.pt").string());
      optimizer.load(archive);
    } catch (const c10::Error& e) {
      fail("checkpoint '", dir, "': cannot read optimizer.pt: ", e.what_without_backtrace());
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  const auto has_grads = state.find("has_grads");
  DISTILBERT_CHECK(has_grads == state.end() || has_grads->is_boolean(), "checkpoint ", dir,
                   "/trainer_state.json: 'has_grads' must be true or false, found ", has_grads->dump());
  if (has_grads != state.end() && has_grads->get<bool>()) {
    const auto grads = load_safetensors((d / "grads.safetensors").string());
    for (auto& p : model.named_parameters(true))
      if (grads.contains(p.key())) p.value().mutable_grad() = grads.at(p.key()).clone().to(p.value().device());
  }
  set_cpu_rng_state(load_safetensors((d / "rng.safetensors").string()).at("cpu").clone());
  return state;
}

std::optional<nlohmann::json> resume_from(const std::string& resume, const std::string& run_dir,
                                          PretrainedModel& model, torch::optim::Optimizer& optimizer,
                                          std::string* loaded_dir) {
  if (resume == "never") return std::nullopt;
  if (resume != "auto") {
    auto s = load_checkpoint(resume, model, optimizer);
    if (loaded_dir) *loaded_dir = resume;
    return s;
  }
  auto all = list_checkpoints(run_dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      auto s = load_checkpoint(*it, model, optimizer);
      if (it != all.rbegin())
        std::cerr << "[resume] warning: the newest checkpoint(s) could not be loaded; resuming from " << *it << "\n";
      if (loaded_dir) *loaded_dir = *it;
      return s;
    } catch (const std::exception& e) {
      std::cerr << "[resume] warning: skipping checkpoint " << *it << ": " << e.what() << "\n";
    }
  }
  DISTILBERT_CHECK(all.empty(), "resume: none of the ", all.size(), " checkpoints in '", run_dir,
                   "/checkpoints' could be loaded");
  return std::nullopt;
}

}  // namespace distilbert
