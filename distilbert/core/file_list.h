// The files a message names when a command read several: the first three and how many more.
#pragma once

#include <string>
#include <vector>

namespace distilbert {

template <typename Path>
std::string file_list(const std::vector<Path>& files) {
  std::string out;
  for (size_t i = 0; i < files.size() && i < 3; ++i)
    out += (i ? ", '" : "'") + std::string(files[i]) + "'";
  if (files.size() > 3) out += " and " + std::to_string(files.size() - 3) + " more";
  return out;
}

}  // namespace distilbert
