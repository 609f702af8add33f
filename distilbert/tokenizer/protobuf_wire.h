// A minimal protobuf wire-format walker for the few SentencePiece ModelProto fields the public sentencepiece API
// does not expose (reading the model type; dropping the trainer's temporary input path). Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace distilbert::tokenizer::protobuf_wire {

inline bool read_varint(std::string_view b, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && pos < b.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(b[pos++]);
    out |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

inline void write_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// One top-level field of a message.
struct Field {
  std::uint64_t number = 0;
  int wire = 0;
  std::uint64_t value = 0;  ///< varint fields (wire 0)
  std::string_view bytes;   ///< length-delimited payload (wire 2)
  std::string_view raw;     ///< the whole field as encoded (tag included)
};

/// Calls fn(const Field&) for each top-level field of `msg`; false if the message is malformed.
template <typename Fn>
bool for_each_field(std::string_view msg, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < msg.size()) {
    const std::size_t start = pos;
    std::uint64_t tag = 0;
    Field f;
    if (!read_varint(msg, pos, tag)) return false;
    f.number = tag >> 3;
    f.wire = static_cast<int>(tag & 7);
    switch (f.wire) {
      case 0:
        if (!read_varint(msg, pos, f.value)) return false;
        break;
      case 1:
        if (msg.size() - pos < 8) return false;
        pos += 8;
        break;
      case 2:
        if (!read_varint(msg, pos, f.value) || f.value > msg.size() - pos) return false;
        f.bytes = msg.substr(pos, f.value);
        pos += f.value;
        break;
      case 5:
        if (msg.size() - pos < 4) return false;
        pos += 4;
        break;
      default:
        return false;
    }
    f.raw = msg.substr(start, pos - start);
    fn(f);
  }
  return true;
}

}  // namespace distilbert::tokenizer::protobuf_wire
