// Helpers for the files both tokenizer families read: whole files, and Hugging Face's tokenizer_config.json.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace distilbert::tokenizer {

/// The bytes of `path`; an error names `what` ("tokenizer config", "sentencepiece model") and the path when it
/// cannot be opened or read.
std::string read_tokenizer_file(const std::filesystem::path& path, std::string_view what);

/// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}; nullopt when `key` is absent or
/// null. Any other value is an error naming `source` and `key`.
std::optional<std::string> special_token_content(const nlohmann::json& cfg, std::string_view key,
                                                 std::string_view source);

}  // namespace distilbert::tokenizer
