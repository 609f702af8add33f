// Output folders that appear whole or not at all. A command that writes several files (a model folder, an export,
// a tokenizer, the demo data) writes them into a hidden sibling, `.<name>.partial-<pid>`, and commit() moves them
// into place once all are complete. A command that fails before commit() leaves no trace: the sibling is removed
// and an existing output folder is not touched. Into a new or empty folder the sibling is renamed as a whole (one
// atomic step); with --overwrite into a non-empty folder each file replaces its namesake by rename and the folder's
// other files stay, as HF's save_pretrained leaves them.
#pragma once

#include <string>

namespace distilbert {

class StagedFolder {
 public:
  /// Refuses (an Error naming `dir`) a path that is not a folder, or a non-empty folder without `overwrite`, before
  /// anything is written; then creates the sibling.
  StagedFolder(std::string dir, bool overwrite);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  /// Where the command writes its files.
  const std::string& path() const { return staging_; }
  /// The final folder.
  const std::string& dir() const { return dir_; }
  /// Move the files into place; after it, path() is gone.
  void commit();

 private:
  std::string dir_, staging_;
  bool committed_ = false;
};

}  // namespace distilbert
