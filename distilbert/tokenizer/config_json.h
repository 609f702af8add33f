// Helpers for the Hugging Face tokenizer_config.json that both tokenizer families read.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace distilbert::tokenizer {

/// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}; nullopt when `key` is absent or
/// null. Any other value is an error naming `source` and `key`.
std::optional<std::string> special_token_content(const nlohmann::json& cfg, std::string_view key,
                                                 std::string_view source);

}  // namespace distilbert::tokenizer
