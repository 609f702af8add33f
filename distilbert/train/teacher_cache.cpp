// The teacher's outputs over the training set, computed once; see teacher_cache.h.
#include "distilbert/train/teacher_cache.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/data/token_store.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/train/precision.h"

namespace distilbert {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "distilbert-teacher-cache-1";

// The outputs the soft loss of each head reads.
std::vector<std::string> output_names(Head head) {
  if (head == Head::QuestionAnswering) return {"start_logits", "end_logits"};
  return {"logits"};
}

torch::Tensor& output_field(ModelOutput& out, const std::string& name) {
  return name == "start_logits" ? out.start_logits : name == "end_logits" ? out.end_logits : out.logits;
}

void hash_tensor(data::Sha256& h, const std::string& name, const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU).contiguous();
  std::ostringstream head;
  head << name << ' ' << c10::toString(c.scalar_type()) << ' ' << c.sizes() << '\n';
  const std::string s = head.str();
  h.update(s.data(), s.size());
  h.update(c.data_ptr(), c.nbytes());
}

// The training batches of the pass, without labels: what the teacher reads.
ModelInputs teacher_inputs(const FinetuneTask& task, const std::vector<size_t>& idx, int64_t pad_id,
                           torch::Device device) {
  return without_targets(task.train_batch(idx, pad_id, device));
}

// What the outputs depend on: the teacher's weights as it runs, every batch of the pass, the head and precision.
std::string cache_fingerprint(const FinetuneTask& task, Head head, PretrainedModel& teacher, const TeacherCacheOptions& o) {
  data::Sha256 h;
  std::ostringstream run;
  run << kFormat << " head " << head_name(head) << " precision " << o.precision << " batch " << o.batch_size
      << " units " << task.train_size() << '\n';
  const std::string s = run.str();
  h.update(s.data(), s.size());
  for (const auto& p : teacher.named_parameters(true)) hash_tensor(h, p.key(), p.value());
  for (const auto& idx : eval_batches(static_cast<size_t>(task.train_size()), o.batch_size)) {
    const auto in = teacher_inputs(task, idx, o.pad_id, torch::kCPU);
    hash_tensor(h, "input_ids", in.input_ids);
    if (in.attention_mask.defined()) hash_tensor(h, "attention_mask", in.attention_mask);
    if (in.token_type_ids.defined()) hash_tensor(h, "token_type_ids", in.token_type_ids);
  }
  return h.hex_digest();
}

}  // namespace

TeacherCache::TeacherCache(const FinetuneTask& task, Head head, PretrainedModel& teacher,
                           const TeacherCacheOptions& o)
    : per_token_(head == Head::QuestionAnswering || head == Head::TokenClassification) {
  DISTILBERT_CHECK(o.batch_size > 0, "teacher cache: batch size must be > 0, got ", o.batch_size);
  for (const auto& name : output_names(head)) fields_.emplace_back(name, torch::Tensor());
  const auto t0 = std::chrono::steady_clock::now();
  if (!o.file.empty()) {
    // The fingerprint reads every batch before the teacher runs, so that a matching file costs no teacher pass; on a
    // miss compute() builds the batches again (CPU padding only), since keeping them would hold the whole padded
    // training set in memory.
    fingerprint_ = cache_fingerprint(task, head, teacher, o);
    from_file_ = read(o.file, o.tag);
  }
  if (!from_file_) {
    compute(task, teacher, o);
    if (!o.file.empty() && o.write) write(o.file);
  }
  DISTILBERT_CHECK(units() == task.train_size(), "teacher cache: ", units(), " units but the task has ",
                   task.train_size());
  if (!o.tag.empty())
    std::cerr << o.tag << "teacher outputs for " << units() << " training units "
              << (from_file_ ? "read from '" + o.file + "'" : "computed once") << " ("
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s"
              << (!from_file_ && !o.file.empty() && o.write ? ", written to '" + o.file + "'" : "") << ")\n";
}

void TeacherCache::compute(const FinetuneTask& task, PretrainedModel& teacher, const TeacherCacheOptions& o) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<torch::Tensor>> parts(fields_.size());
  offsets_.assign(1, 0);
  for (const auto& idx : eval_batches(static_cast<size_t>(task.train_size()), o.batch_size)) {
    const auto in = teacher_inputs(task, idx, o.pad_id, o.device);
    ModelOutput out;
    {
      AutocastScope autocast(o.precision, o.device);
      out = teacher.forward(in);
    }
    // Per-token outputs keep their real tokens (right padding: each row's first `length` positions), row-major.
    const auto real = (in.attention_mask.defined() ? in.attention_mask : torch::ones_like(in.input_ids))
                          .to(torch::kCPU)
                          .to(torch::kBool);
    for (size_t f = 0; f < fields_.size(); ++f) {
      const auto v = output_field(out, fields_[f].first).detach().to(torch::kCPU).to(torch::kFloat);
      parts[f].push_back(per_token_ ? v.index({real}) : v);
    }
    const auto lengths = real.sum(-1);
    for (size_t b = 0; b < idx.size(); ++b)
      offsets_.push_back(offsets_.back() + (per_token_ ? lengths[static_cast<int64_t>(b)].item<int64_t>() : 1));
  }
  for (size_t f = 0; f < fields_.size(); ++f)
    fields_[f].second = parts[f].empty() ? torch::zeros({0}) : torch::cat(parts[f]);
}

// A file that holds these outputs: true. Absent, unreadable, or made for other inputs: false (the caller recomputes),
// with a line saying why in the last two cases.
bool TeacherCache::read(const std::string& file, const std::string& tag) {
  if (!fs::exists(file)) return false;
  auto why_not = [&](const std::string& why) {
    if (!tag.empty()) std::cerr << tag << "teacher cache '" << file << "' " << why << "; recomputing it\n";
    return false;
  };
  SafetensorsFile st;
  try {
    st = load_safetensors(file);
  } catch (const std::exception& e) {
    return why_not(std::string("cannot be read (") + e.what() + ")");
  }
  const auto fp = st.metadata.find("fingerprint");
  if (st.metadata.count("format") == 0 || st.metadata.at("format") != kFormat || fp == st.metadata.end())
    return why_not(std::string("is not a teacher cache of this version (expected format '") + kFormat + "')");
  if (fp->second != fingerprint_)
    return why_not("was made for another teacher, other training data, batching or precision");
  if (!st.contains("offsets")) return why_not("has no 'offsets' tensor");
  const auto off = st.at("offsets");
  if (off.scalar_type() != torch::kLong || off.dim() != 1 || off.numel() < 1)
    return why_not("has an 'offsets' tensor that is not a 1-D int64 tensor");
  std::vector<int64_t> offsets(off.data_ptr<int64_t>(), off.data_ptr<int64_t>() + off.numel());
  for (size_t i = 0; i + 1 < offsets.size(); ++i)
    if (offsets[i + 1] < offsets[i]) return why_not("has decreasing offsets");
  if (offsets.front() != 0) return why_not("has offsets that do not start at 0");
  for (auto& [name, tensor] : fields_) {
    if (!st.contains(name)) return why_not("has no '" + name + "' tensor");
    const auto& t = st.at(name);
    if (t.scalar_type() != torch::kFloat || t.dim() < 1 || t.size(0) != offsets.back())
      return why_not("has a '" + name + "' tensor that is not F32 with " + std::to_string(offsets.back()) + " rows");
    tensor = t.clone();  // own the memory: the file may be replaced while this run goes on
  }
  offsets_ = std::move(offsets);
  return true;
}

void TeacherCache::write(const std::string& file) const {
  const auto parent = fs::path(file).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  auto tensors = fields_;
  tensors.emplace_back("offsets", torch::tensor(offsets_, torch::kLong));
  save_safetensors(file, tensors, {{"format", kFormat}, {"fingerprint", fingerprint_}});
}

ModelOutput TeacherCache::outputs(const std::vector<size_t>& idx, int64_t seq_len, torch::Device device) const {
  ModelOutput out;
  const auto B = static_cast<int64_t>(idx.size());
  std::vector<int64_t> first(idx.size());
  for (size_t b = 0; b < idx.size(); ++b) {
    DISTILBERT_CHECK(static_cast<int64_t>(idx[b]) < units(), "teacher cache: unit ", idx[b], " of ", units());
    first[b] = offsets_[idx[b]];
  }
  for (const auto& [name, rows] : fields_) {
    torch::Tensor v;
    if (!per_token_) {
      v = rows.index_select(0, torch::tensor(first, torch::kLong));
    } else {
      auto shape = rows.sizes().vec();
      shape[0] = seq_len;
      shape.insert(shape.begin(), B);
      v = torch::zeros(shape);
      for (size_t b = 0; b < idx.size(); ++b) {
        const int64_t n = offsets_[idx[b] + 1] - first[b];
        DISTILBERT_CHECK(n <= seq_len, "teacher cache: unit ", idx[b], " has ", n, " tokens, more than the batch's ",
                         seq_len);
        v[static_cast<int64_t>(b)].narrow(0, 0, n).copy_(rows.narrow(0, first[b], n));
      }
    }
    output_field(out, name) = v.to(device);
  }
  return out;
}

}  // namespace distilbert
