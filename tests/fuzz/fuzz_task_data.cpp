// Fuzz target: the task data readers. Byte 0 picks the reader and its options: one of the GLUE tasks' TSV reader
// (read_glue_file), or the user-data reader (CSV with RFC 4180 quoting, TSV, JSON Lines; classification or
// regression, single or pair), under the Fail or Skip bad-row policy. The rest of the input is the file. Every
// example a reader returns must carry a label consistent with the result's label names, a line inside the file,
// and under Skip nothing may throw for a malformed row.
#include <cmath>
#include <string>

#include "distilbert/tasks/glue.h"
#include "distilbert/tasks/user_data.h"
#include "fuzz_target.h"

namespace {

void check_result(const distilbert::tasks::ReadResult& r, std::size_t lines) {
  using namespace distilbert;
  for (const auto& e : r.examples) {
    fuzz::require(e.line >= 1 && e.line <= lines + 1, "example line inside the file");
    if (r.is_regression) {
      fuzz::require(!r.has_labels || std::isfinite(e.score), "regression score finite");
    } else if (r.has_labels) {
      fuzz::require(e.label >= 0 && static_cast<std::size_t>(e.label) < r.label_names.size(),
                    "class label id inside label_names");
    }
  }
}

}  // namespace

DISTILBERT_FUZZ_TARGET(task_data) {
  using namespace distilbert;
  if (size < 2) return 0;
  const std::uint8_t sel = data[0], opt = data[1];
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::size_t lines = 1;
  for (char c : body) lines += (c == '\n' || c == '\r');
  tasks::ReadOptions ro;
  ro.policy = (opt & 1) ? tasks::BadRowPolicy::Skip : tasks::BadRowPolicy::Fail;
  ro.max_messages = 3;
  const auto& all = tasks::all_glue_tasks();
  if (sel % 2 == 0) {
    const auto task = all[(sel / 2) % all.size()];
    const std::string path = fuzz::scratch_dir() + "/glue.tsv";
    fuzz::write_bytes(path, body.data(), body.size());
    fuzz::guarded("read_glue_file", [&] { check_result(tasks::read_glue_file(task, path, ro), lines); });
    return 0;
  }
  static const char* kExt[] = {".csv", ".tsv", ".jsonl"};
  const std::string path = fuzz::scratch_dir() + "/user" + kExt[(sel / 2) % 3];
  fuzz::write_bytes(path, body.data(), body.size());
  tasks::UserDataOptions uo;
  uo.read = ro;
  uo.text_column = "text";
  if (opt & 2) uo.text_pair_column = "text_pair";
  if (opt & 4) uo.label_column = std::nullopt;
  uo.regression = opt & 8;
  if (opt & 16) uo.id_column = "id";
  if ((opt & 32) && !uo.regression) uo.label_names = std::vector<std::string>{"neg", "pos"};
  fuzz::guarded("read_user_data", [&] { check_result(tasks::read_user_data(path, uo), lines); });
  return 0;
}
