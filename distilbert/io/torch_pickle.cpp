// A minimal, safe unpickler for torch.save state dicts; see torch_pickle.h.
#include "distilbert/io/torch_pickle.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"

namespace distilbert {
namespace {

struct Obj;
using ObjPtr = std::shared_ptr<Obj>;

struct Storage {
  torch::ScalarType dtype;
  std::string key;
  int64_t numel;
};

// The Python values a state-dict pickle can hold.
struct Obj {
  enum Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, StorageRef, TensorVal, Mark } kind = None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                               // Str; Global: "module.name"
  std::vector<ObjPtr> items;                   // Tuple, List
  std::vector<std::pair<ObjPtr, ObjPtr>> dict; // Dict, in insertion order
  Storage storage{};
  torch::Tensor tensor;
};

ObjPtr make(Obj::Kind k) {
  auto o = std::make_shared<Obj>();
  o->kind = k;
  return o;
}

const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> m = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool},
  };
  return m;
}

class Unpickler {
 public:
  // `load_storage(key, dtype, numel)` returns the bytes of a storage as a 1-D tensor.
  Unpickler(const char* data, size_t size, std::string origin,
            std::function<torch::Tensor(const Storage&)> load_storage)
      : p_(data), end_(data + size), origin_(std::move(origin)), load_storage_(std::move(load_storage)) {}

  ObjPtr run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                         // PROTO
        case 0x95: bytes(8); break;                     // FRAME
        case '.': return pop();                         // STOP
        case '(': stack_.push_back(make(Obj::Mark)); break;
        case 'N': stack_.push_back(make(Obj::None)); break;
        case 0x88: case 0x89: {                         // NEWTRUE / NEWFALSE
          auto o = make(Obj::Bool);
          o->b = op == 0x88;
          stack_.push_back(o);
          break;
        }
        case 'K': push_int(u8()); break;                // BININT1
        case 'M': push_int(le(2)); break;               // BININT2
        case 'J': push_int(static_cast<int32_t>(le(4))); break;  // BININT
        case 0x8a: {                                    // LONG1
          const size_t n = u8();
          check_avail(n);
          int64_t v = 0;
          for (size_t k = 0; k < n && k < 8; ++k) v |= static_cast<int64_t>(static_cast<uint8_t>(p_[k])) << (8 * k);
          if (n > 0 && n < 8 && (static_cast<uint8_t>(p_[n - 1]) & 0x80)) v -= int64_t(1) << (8 * n);
          // Wider integers (the legacy format's 10-byte magic number) keep their low 64 bits; none is a size.
          p_ += n;
          push_int(v);
          break;
        }
        case 'G': {                                     // BINFLOAT (big-endian)
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | u8();
          auto o = make(Obj::Float);
          std::memcpy(&o->f, &bits, 8);
          stack_.push_back(o);
          break;
        }
        case 'X': push_str(bytes(le(4))); break;        // BINUNICODE
        case 0x8c: push_str(bytes(u8())); break;        // SHORT_BINUNICODE
        case 0x8d: push_str(bytes(le(8))); break;       // BINUNICODE8
        case 'T': push_str(bytes(le(4))); break;        // BINSTRING
        case 'U': push_str(bytes(u8())); break;         // SHORT_BINSTRING
        case 'C': push_str(bytes(u8())); break;         // SHORT_BINBYTES
        case 'B': push_str(bytes(le(4))); break;        // BINBYTES
        case ')': stack_.push_back(make(Obj::Tuple)); break;
        case ']': stack_.push_back(make(Obj::List)); break;
        case '}': stack_.push_back(make(Obj::Dict)); break;
        case 't': { auto o = make(Obj::Tuple); o->items = pop_mark(); stack_.push_back(o); break; }
        case 'l': { auto o = make(Obj::List); o->items = pop_mark(); stack_.push_back(o); break; }
        case 0x85: case 0x86: case 0x87: {              // TUPLE1..3
          auto o = make(Obj::Tuple);
          o->items.resize(op - 0x84);
          for (size_t k = o->items.size(); k-- > 0;) o->items[k] = pop();
          stack_.push_back(o);
          break;
        }
        case 'a': { auto v = pop(); top(Obj::List)->items.push_back(v); break; }  // APPEND
        case 'e': { auto vs = pop_mark(); auto l = top(Obj::List); l->items.insert(l->items.end(), vs.begin(), vs.end()); break; }
        case 's': { auto v = pop(); auto k = pop(); top(Obj::Dict)->dict.emplace_back(k, v); break; }  // SETITEM
        case 'u': {                                     // SETITEMS
          auto vs = pop_mark();
          DISTILBERT_CHECK(vs.size() % 2 == 0, where(), "SETITEMS with an odd number of items");
          auto d = top(Obj::Dict);
          for (size_t k = 0; k < vs.size(); k += 2) d->dict.emplace_back(vs[k], vs[k + 1]);
          break;
        }
        case 'q': memo_[u8()] = top(); break;           // BINPUT
        case 'r': memo_[le(4)] = top(); break;          // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
        case 'h': stack_.push_back(memo(u8())); break;  // BINGET
        case 'j': stack_.push_back(memo(le(4))); break; // LONG_BINGET
        case '0': pop(); break;                         // POP
        case '1': pop_mark(); break;                    // POP_MARK
        case 'c': {                                     // GLOBAL
          std::string module = line(), name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {                                    // STACK_GLOBAL
          auto name = pop(), module = pop();
          push_global(module->s + "." + name->s);
          break;
        }
        case 'Q': stack_.push_back(persistent(pop())); break;  // BINPERSID
        case 'R': {                                     // REDUCE
          auto args = pop(), fn = pop();
          stack_.push_back(reduce(fn, args));
          break;
        }
        case 'b': pop(); break;                         // BUILD: object state (e.g. _metadata) is not needed
        default:
          fail(where(), "unsupported pickle opcode 0x", std::hex, static_cast<int>(op),
               " (this reader handles state dicts of tensors only)");
      }
    }
  }

  const char* position() const { return p_; }

 private:
  std::string where() const { return str_cat("'", origin_, "': "); }
  void check_avail(size_t n) { DISTILBERT_CHECK(static_cast<size_t>(end_ - p_) >= n, where(), "truncated pickle"); }
  uint8_t u8() {
    check_avail(1);
    return static_cast<uint8_t>(*p_++);
  }
  uint64_t le(int n) {
    check_avail(static_cast<size_t>(n));
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(p_[k])) << (8 * k);
    p_ += n;
    return v;
  }
  std::string bytes(uint64_t n) {
    DISTILBERT_CHECK(n <= static_cast<uint64_t>(end_ - p_), where(), "truncated pickle (string of ", n, " bytes)");
    std::string s(p_, p_ + n);
    p_ += n;
    return s;
  }
  std::string line() {
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    DISTILBERT_CHECK(nl != nullptr, where(), "truncated pickle (GLOBAL)");
    std::string s(p_, nl);
    p_ = nl + 1;
    return s;
  }
  void push_int(int64_t v) {
    auto o = make(Obj::Int);
    o->i = v;
    stack_.push_back(o);
  }
  void push_str(std::string s) {
    auto o = make(Obj::Str);
    o->s = std::move(s);
    stack_.push_back(o);
  }
  ObjPtr pop() {
    DISTILBERT_CHECK(!stack_.empty(), where(), "malformed pickle (stack underflow)");
    auto o = stack_.back();
    stack_.pop_back();
    return o;
  }
  ObjPtr top(std::optional<Obj::Kind> kind = std::nullopt) {
    DISTILBERT_CHECK(!stack_.empty(), where(), "malformed pickle (empty stack)");
    if (kind) DISTILBERT_CHECK(stack_.back()->kind == *kind, where(), "malformed pickle (unexpected object kind)");
    return stack_.back();
  }
  std::vector<ObjPtr> pop_mark() {
    std::vector<ObjPtr> out;
    while (true) {
      auto o = pop();
      if (o->kind == Obj::Mark) break;
      out.push_back(o);
    }
    return {out.rbegin(), out.rend()};
  }
  ObjPtr memo(uint64_t k) {
    auto it = memo_.find(k);
    DISTILBERT_CHECK(it != memo_.end(), where(), "malformed pickle (memo ", k, " unset)");
    return it->second;
  }
  void push_global(const std::string& name) {
    static const std::set<std::string> allowed = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                                  "torch._utils._rebuild_parameter", "builtins.dict"};
    DISTILBERT_CHECK(
        allowed.count(name) || storage_types().count(name), where(), "refusing to load Python object '", name,
        "': only state dicts of tensors are supported (save with model.state_dict(), or convert to safetensors)");
    auto o = make(Obj::Global);
    o->s = name;
    stack_.push_back(o);
  }
  ObjPtr persistent(const ObjPtr& pid) {
    // ('storage', storage_type, key, location, numel[, view_metadata])
    DISTILBERT_CHECK(pid->kind == Obj::Tuple && pid->items.size() >= 5 && pid->items[0]->s == "storage" &&
                         pid->items[1]->kind == Obj::Global,
                     where(), "unsupported persistent id in pickle");
    auto o = make(Obj::StorageRef);
    o->storage.dtype = storage_types().at(pid->items[1]->s);
    o->storage.key = pid->items[2]->s;
    o->storage.numel = pid->items[4]->i;
    DISTILBERT_CHECK(o->storage.numel >= 0, where(), "storage '", o->storage.key, "' has a negative size");
    return o;
  }
  static std::vector<int64_t> ints(const ObjPtr& t) {
    std::vector<int64_t> v;
    for (const auto& x : t->items) v.push_back(x->i);
    return v;
  }
  ObjPtr reduce(const ObjPtr& fn, const ObjPtr& args) {
    DISTILBERT_CHECK(fn->kind == Obj::Global && args->kind == Obj::Tuple, where(), "malformed REDUCE in pickle");
    if (fn->s == "collections.OrderedDict" || fn->s == "builtins.dict") return make(Obj::Dict);
    if (fn->s == "torch._utils._rebuild_parameter") {
      DISTILBERT_CHECK(!args->items.empty() && args->items[0]->kind == Obj::TensorVal, where(), "malformed parameter");
      return args->items[0];
    }
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    DISTILBERT_CHECK(args->items.size() >= 4 && args->items[0]->kind == Obj::StorageRef, where(),
                     "malformed tensor record");
    const Storage& st = args->items[0]->storage;
    auto it = storages_.find(st.key);
    if (it == storages_.end()) it = storages_.emplace(st.key, load_storage_(st)).first;
    const int64_t offset = args->items[1]->i;
    const auto size = ints(args->items[2]), stride = ints(args->items[3]);
    DISTILBERT_CHECK(size.size() == stride.size(), where(), "tensor with ", size.size(), " sizes and ", stride.size(),
                     " strides");
    int64_t last = offset;  // highest element index touched must lie inside the storage
    bool empty = false;
    for (size_t d = 0; d < size.size(); ++d) {
      DISTILBERT_CHECK(size[d] >= 0 && stride[d] >= 0, where(), "negative size or stride in a tensor record");
      if (size[d] == 0) empty = true;
      last += (size[d] - 1) * stride[d];
    }
    DISTILBERT_CHECK(offset >= 0 && (empty || last < it->second.numel()), where(),
                     "tensor view runs past its storage '", st.key, "' (", it->second.numel(), " elements)");
    auto o = make(Obj::TensorVal);
    o->tensor = empty ? torch::empty(size, it->second.options()) : it->second.as_strided(size, stride, offset).clone();
    return o;
  }

  const char* p_;
  const char* end_;
  std::string origin_;
  std::function<torch::Tensor(const Storage&)> load_storage_;
  std::vector<ObjPtr> stack_;
  std::map<uint64_t, ObjPtr> memo_;
  std::map<std::string, torch::Tensor> storages_;
};

std::vector<std::pair<std::string, torch::Tensor>> to_state_dict(const ObjPtr& root, const std::string& path) {
  DISTILBERT_CHECK(root && root->kind == Obj::Dict, "'", path,
                   "' does not hold a state dict (a dict of name -> tensor)");
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [k, v] : root->dict) {
    DISTILBERT_CHECK(k->kind == Obj::Str, "'", path, "': state dict keys must be strings");
    if (v->kind != Obj::TensorVal) continue;  // e.g. nested metadata entries
    out.emplace_back(k->s, v->tensor);
  }
  return out;
}

torch::Tensor storage_from_bytes(const char* data, size_t size, const Storage& st, const std::string& origin) {
  const size_t elem = c10::elementSize(st.dtype);
  DISTILBERT_CHECK(size >= static_cast<size_t>(st.numel) * elem, "'", origin, "': storage '", st.key, "' holds ", size,
                   " bytes, expected ", st.numel * static_cast<int64_t>(elem));
  auto t = torch::empty({st.numel}, torch::TensorOptions().dtype(st.dtype));
  if (st.numel) std::memcpy(t.data_ptr(), data, static_cast<size_t>(st.numel) * elem);
  return t;
}

std::vector<std::pair<std::string, torch::Tensor>> load_zip(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const std::exception& e) {
    fail("cannot open '", path, "' as a torch.save zip archive: ", e.what());
  }
  // LibTorch's zip reader throws c10::Error for a damaged archive (bad headers, CRC, truncated records); say which
  // file and what, like every other reader, instead of letting the raw exception through (found by fuzzing).
  try {
    DISTILBERT_CHECK(reader->hasRecord("data.pkl"), "'", path, "' has no data.pkl record: not a torch.save file");
    auto [pkl, pkl_size] = reader->getRecord("data.pkl");
    Unpickler u(static_cast<const char*>(pkl.get()), pkl_size, path, [&](const Storage& st) {
      const std::string rec = "data/" + st.key;
      DISTILBERT_CHECK(reader->hasRecord(rec), "'", path, "': storage record '", rec, "' is missing");
      auto [ptr, size] = reader->getRecord(rec);
      return storage_from_bytes(static_cast<const char*>(ptr.get()), size, st, path);
    });
    return to_state_dict(u.run(), path);
  } catch (const c10::Error& e) {
    fail("'", path, "': damaged torch.save zip archive: ", e.what_without_backtrace());
  }
}

// Legacy format: pickles of (magic, protocol, sys_info, object, storage keys), then each storage as
// u64 numel + raw bytes, in the order of the keys list.
std::vector<std::pair<std::string, torch::Tensor>> load_legacy(const std::string& path, const std::string& bytes) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  auto next = [&](std::function<torch::Tensor(const Storage&)> loader) {
    Unpickler u(p, static_cast<size_t>(end - p), path, std::move(loader));
    auto o = u.run();
    p = u.position();
    return o;
  };
  auto no_storage = [&](const Storage&) -> torch::Tensor { fail("'", path, "': unexpected storage"); };
  next(no_storage);  // magic number
  next(no_storage);  // protocol version
  next(no_storage);  // sys info
  // The object refers to storages that come after it: record what it needs, build tensors afterwards.
  std::map<std::string, Storage> wanted;
  std::map<std::string, torch::Tensor> lazy;
  auto placeholder = [&](const Storage& st) {
    wanted[st.key] = st;
    auto t = torch::empty({st.numel}, torch::TensorOptions().dtype(st.dtype));
    lazy[st.key] = t;
    return t;
  };
  // Tensors are views of their storage made by as_strided().clone(), so fill the storages first: parse the
  // object once to learn the storages, read them, then parse it again with real data.
  const char* object_start = p;
  next(placeholder);
  auto keys = next(no_storage);
  DISTILBERT_CHECK(keys->kind == Obj::List, "'", path, "': legacy checkpoint without a storage key list");
  for (const auto& k : keys->items) {
    DISTILBERT_CHECK(static_cast<size_t>(end - p) >= 8, "'", path, "': truncated storage data");
    uint64_t numel = 0;
    std::memcpy(&numel, p, 8);
    p += 8;
    auto it = wanted.find(k->s);
    DISTILBERT_CHECK(it != wanted.end(), "'", path, "': storage '", k->s, "' is not used by any tensor");
    const size_t nbytes = numel * c10::elementSize(it->second.dtype);
    DISTILBERT_CHECK(numel == static_cast<uint64_t>(it->second.numel) && static_cast<size_t>(end - p) >= nbytes, "'",
                     path, "': storage '", k->s, "' is truncated or has the wrong size");
    lazy[k->s] = storage_from_bytes(p, nbytes, it->second, path);
    p += nbytes;
  }
  Unpickler again(object_start, bytes.size() - static_cast<size_t>(object_start - bytes.data()), path,
                  [&](const Storage& st) { return lazy.at(st.key); });
  return to_state_dict(again.run(), path);
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> load_torch_state_dict(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) return load_zip(path);
  DISTILBERT_CHECK(bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x80, "'", path,
                   "' is neither a torch.save zip archive nor a legacy torch.save pickle");
  return load_legacy(path, bytes);
}

}  // namespace distilbert
