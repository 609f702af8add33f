// metrics.jsonl and TensorBoard event files; see run_log.h.
#include "distilbert/train/run_log.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "distilbert/core/error.h"

namespace distilbert {

uint32_t crc32c(const void* data, size_t size) {
  static uint32_t table[256];
  static bool init = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)init;
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

namespace {

uint32_t masked_crc(const void* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void length_delimited(std::string& out, int field, const std::string& bytes) {
  varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  varint(out, bytes.size());
  out += bytes;
}

template <typename T>
void fixed(std::string& out, int field, int wire, T value) {
  varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire));
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out.append(buf, sizeof(T));
}

// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
std::string event(int64_t step, const std::string* file_version, const std::string* summary) {
  const double wall = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string e;
  fixed<double>(e, 1, 1, wall);
  varint(e, (2 << 3) | 0);
  varint(e, static_cast<uint64_t>(step));
  if (file_version) length_delimited(e, 3, *file_version);
  if (summary) length_delimited(e, 5, *summary);
  return e;
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  DISTILBERT_CHECK(!ec, "cannot create '", dir, "': ", ec.message());
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  path_ = str_cat(dir, "/events.out.tfevents.", std::chrono::duration_cast<std::chrono::seconds>(now).count(), ".",
                  host, ".", ::getpid());
  out_.open(path_, std::ios::binary | std::ios::app);
  DISTILBERT_CHECK(out_.good(), "cannot write '", path_, "'");
  const std::string version = "brain.Event:2";
  write_record(event(0, &version, nullptr));
}

void TensorBoardWriter::scalar(const std::string& tag, double value, int64_t step) {
  // Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
  std::string v;
  length_delimited(v, 1, tag);
  fixed<float>(v, 2, 5, static_cast<float>(value));
  std::string summary;
  length_delimited(summary, 1, v);
  write_record(event(step, nullptr, &summary));
}

void TensorBoardWriter::write_record(const std::string& data) {
  const uint64_t len = data.size();
  const uint32_t len_crc = masked_crc(&len, 8), data_crc = masked_crc(data.data(), data.size());
  out_.write(reinterpret_cast<const char*>(&len), 8);
  out_.write(reinterpret_cast<const char*>(&len_crc), 4);
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  out_.write(reinterpret_cast<const char*>(&data_crc), 4);
}

void TensorBoardWriter::flush() { out_.flush(); }

RunLog::RunLog(const std::string& dir, bool tensorboard) {
  const std::string path = dir + "/metrics.jsonl";
  jsonl_.open(path, std::ios::app);
  DISTILBERT_CHECK(jsonl_.good(), "cannot write '", path, "'");
  if (tensorboard) tb_ = std::make_unique<TensorBoardWriter>(dir + "/tensorboard");
}

void RunLog::log(int64_t step, const nlohmann::json& values, const std::string& group) {
  nlohmann::json rec = {{"step", step}, {"split", group}};
  for (const auto& [k, v] : values.items()) rec[k] = v;
  jsonl_ << rec.dump() << "\n";
  jsonl_.flush();
  if (tb_) {
    for (const auto& [k, v] : values.items())
      if (v.is_number()) tb_->scalar(group + "/" + k, v.get<double>(), step);
    tb_->flush();
  }
}

double resident_memory_mib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0.0;
  long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0)
                : 0.0;
}

}  // namespace distilbert
