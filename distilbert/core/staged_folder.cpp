// Output folders written whole or not at all; see staged_folder.h.
#include "distilbert/core/staged_folder.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "distilbert/core/error.h"

namespace distilbert {

namespace fs = std::filesystem;

StagedFolder::StagedFolder(std::string dir, bool overwrite) : dir_(std::move(dir)) {
  const fs::path d(dir_);
  if (fs::exists(d)) {
    DISTILBERT_CHECK(fs::is_directory(d), "output '", dir_, "' exists and is not a folder");
    DISTILBERT_CHECK(overwrite || fs::is_empty(d), "output folder '", dir_,
                     "' already exists and is not empty (pass --overwrite to replace its files)");
  }
  const fs::path parent = d.has_parent_path() && !d.filename().empty() ? d.parent_path() : fs::path(".");
  const std::string name = d.filename().empty() ? d.parent_path().filename().string() : d.filename().string();
  std::error_code ec;
  fs::create_directories(parent, ec);
  DISTILBERT_CHECK(!ec, "cannot create the parent folder of '", dir_, "': ", ec.message());
  staging_ = (parent / ("." + name + ".partial-" + std::to_string(::getpid()))).string();
  fs::remove_all(staging_, ec);
  fs::create_directory(staging_, ec);
  DISTILBERT_CHECK(!ec, "cannot create '", staging_, "' (the output is written there first): ", ec.message());
}

StagedFolder::~StagedFolder() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void StagedFolder::commit() {
  std::error_code ec;
  const fs::path d(dir_);
  if (!fs::exists(d) || fs::is_empty(d)) {
    fs::remove(d, ec);  // an empty folder: rename() replaces only what is gone
    fs::rename(staging_, d, ec);
    DISTILBERT_CHECK(!ec, "cannot move '", staging_, "' to '", dir_, "': ", ec.message());
  } else {
    std::vector<fs::directory_entry> entries(fs::recursive_directory_iterator(staging_), {});  // parents first
    for (const auto& e : entries) {
      const fs::path target = d / fs::relative(e.path(), staging_);
      if (e.is_directory()) {
        fs::create_directories(target, ec);
      } else {
        fs::rename(e.path(), target, ec);
      }
      DISTILBERT_CHECK(!ec, "cannot move '", e.path().string(), "' to '", target.string(), "': ", ec.message());
    }
    fs::remove_all(staging_, ec);
  }
  committed_ = true;
}

}  // namespace distilbert
