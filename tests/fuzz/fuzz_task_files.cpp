// Fuzz target: the readers of the other heads' data. Byte 0 picks the reader: SQuAD JSON (read_squad_file), CoNLL
// columns (read_conll_file: the file's own tags, or CoNLL-2003's with 4 columns) or SWAG CSV (read_swag_file); byte 1
// the bad-row policy. The rest of the input is the file. Every example a reader returns must keep its promises: a
// SQuAD answer's text sits at its answer_start in the context, a CoNLL sentence has one tag id (inside the label
// names) per word, a SWAG example has num_choices endings and a label in [-1, num_choices).
#include <string>

#include "distilbert/tasks/conll.h"
#include "distilbert/tasks/squad.h"
#include "distilbert/tasks/swag.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(task_files) {
  using namespace distilbert;
  if (size < 2) return 0;
  const std::uint8_t sel = data[0], opt = data[1];
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  tasks::ReadOptions ro;
  ro.policy = (opt & 1) ? tasks::BadRowPolicy::Skip : tasks::BadRowPolicy::Fail;
  ro.max_messages = 3;
  switch (sel % 3) {
    case 0: {
      const std::string path = fuzz::scratch_dir() + "/squad.json";
      fuzz::write_bytes(path, body.data(), body.size());
      fuzz::guarded("read_squad_file", [&] {
        for (const auto& e : tasks::read_squad_file(path, ro).examples) {
          fuzz::require(e.line >= 1, "question line is 1-based");
          for (const auto& a : e.answers)
            fuzz::require(a.start + a.text.size() <= e.context.size() &&
                              e.context.compare(a.start, a.text.size(), a.text) == 0,
                          "answer text at its answer_start");
        }
      });
      break;
    }
    case 1: {
      const std::string path = fuzz::scratch_dir() + "/conll.txt";
      fuzz::write_bytes(path, body.data(), body.size());
      tasks::ConllReadOptions co;
      co.read = ro;
      if (opt & 2) {
        co.label_names = tasks::conll2003_ner_labels();
        co.columns = 4;
      }
      fuzz::guarded("read_conll_file", [&] {
        const auto r = tasks::read_conll_file(path, co);
        for (const auto& s : r.sentences) {
          fuzz::require(s.words.size() == s.tags.size(), "one tag per word");
          for (int t : s.tags)
            fuzz::require(t >= 0 && static_cast<std::size_t>(t) < r.label_names.size(), "tag id inside label_names");
        }
      });
      break;
    }
    default: {
      const std::string path = fuzz::scratch_dir() + "/swag.csv";
      fuzz::write_bytes(path, body.data(), body.size());
      fuzz::guarded("read_swag_file", [&] {
        const auto r = tasks::read_swag_file(path, ro);
        for (const auto& e : r.examples) {
          fuzz::require(e.endings.size() == r.num_choices, "num_choices endings");
          fuzz::require(e.label >= -1 && e.label < static_cast<int>(r.num_choices), "label in [-1, num_choices)");
        }
      });
    }
  }
  return 0;
}
