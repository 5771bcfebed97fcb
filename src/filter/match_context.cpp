// The data flattener: a single pass over the JSON bytes that records scalar leaves
// with their dotted paths, without building a DOM. It validates JSON syntax (so a
// malformed document yields no leaves rather than half of them) but, unlike nlohmann,
// does not validate UTF-8 inside strings. Strings without escapes are views into the
// event's data buffer; unescaped strings and paths go to the context's arena, which
// is addressed by offset while it grows and turned into views at the end.
#include "evmesh/filter/match_context.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <functional>

#include <nlohmann/json.hpp>

namespace evmesh::filter {
namespace {

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// A leaf while flattening: offsets, because the arena may still move.
struct RawField {
  std::uint64_t path_hash;
  std::uint32_t path_off, path_len;
  Scalar::Type type;
  bool boolean;
  bool in_arena;
  double number;
  std::uint32_t str_off, str_len;
};

class Flattener {
 public:
  Flattener(std::string_view text, std::string& arena, std::vector<RawField>& out, std::string& path)
      : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()), arena_(arena),
        out_(out), path_(path) {}

  bool run() {
    ws();
    if (!value(0)) return false;
    ws();
    return p_ == end_;
  }

 private:
  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': {
        RawField f = leaf(Scalar::Type::string);
        if (!string(f.in_arena, f.str_off, f.str_len)) return false;
        out_.push_back(f);
        return true;
      }
      case 't': return word("true", Scalar::Type::boolean, true);
      case 'f': return word("false", Scalar::Type::boolean, false);
      case 'n': return word("null", Scalar::Type::null, false);
      default: return number();
    }
  }

  bool object(int depth) {
    if (depth > kMaxDataDepth) return false;
    ++p_;
    ws();
    if (p_ != end_ && *p_ == '}') return ++p_, true;
    const std::size_t saved = path_.size();
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      bool in_arena;
      std::uint32_t off, len;
      if (!string(in_arena, off, len)) return false;
      if (saved != 0) path_ += '.';
      path_.append(in_arena ? arena_.data() + off : begin_ + off, len);
      ++path_version_;
      if (in_arena) arena_.resize(off);  // the key now lives in path_
      ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      ws();
      if (!value(depth)) return false;
      path_.resize(saved);
      ++path_version_;
      ws();
      if (p_ == end_) return false;
      if (*p_ == '}') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      ws();
    }
  }

  bool array(int depth) {
    if (depth > kMaxDataDepth) return false;
    ++p_;
    ws();
    if (p_ != end_ && *p_ == ']') return ++p_, true;
    for (;;) {
      if (!value(depth)) return false;
      ws();
      if (p_ == end_) return false;
      if (*p_ == ']') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      ws();
    }
  }

  RawField leaf(Scalar::Type type) {
    RawField f{};
    f.type = type;
    // Consecutive leaves at one path (array elements) share the arena copy.
    if (!out_.empty() && last_version_ == path_version_) {
      f.path_off = out_.back().path_off;
      f.path_hash = out_.back().path_hash;
    } else {
      f.path_off = static_cast<std::uint32_t>(arena_.size());
      f.path_hash = path_hash(path_);
      arena_ += path_;
      last_version_ = path_version_;
    }
    f.path_len = static_cast<std::uint32_t>(path_.size());
    return f;
  }

  bool word(std::string_view w, Scalar::Type type, bool b) {
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w)
      return false;
    p_ += w.size();
    RawField f = leaf(type);
    f.boolean = b;
    out_.push_back(f);
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (digit(*p_)) {
      while (p_ != end_ && digit(*p_)) ++p_;
    } else {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    RawField f = leaf(Scalar::Type::number);
    auto [ptr, ec] = std::from_chars(start, p_, f.number);
    if (ec == std::errc::result_out_of_range) {
      // Like nlohmann: overflow is +-infinity, underflow zero.
      bool neg = *start == '-';
      bool tiny = false;
      for (const char* q = start; q != p_; ++q)
        if (*q == 'e' || *q == 'E') tiny = q + 1 != p_ && q[1] == '-';
      f.number = tiny ? (neg ? -0.0 : 0.0)
                      : (neg ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity());
    } else if (ec != std::errc() || ptr != p_) {
      return false;
    }
    if (f.number == 0) f.number = 0;  // -0 is 0
    out_.push_back(f);
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(std::uint32_t& cp) {
    if (end_ - p_ < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<std::uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  void utf8(std::uint32_t cp) {
    if (cp < 0x80) {
      arena_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      arena_ += static_cast<char>(0xC0 | (cp >> 6));
      arena_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      arena_ += static_cast<char>(0xE0 | (cp >> 12));
      arena_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      arena_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      arena_ += static_cast<char>(0xF0 | (cp >> 18));
      arena_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      arena_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      arena_ += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // At the opening quote. A string without escapes stays a view into the data.
  bool string(bool& in_arena, std::uint32_t& off, std::uint32_t& len) {
    ++p_;
    const char* start = p_;
    while (p_ != end_ && *p_ != '"' && *p_ != '\\') {
      if (static_cast<unsigned char>(*p_) < 0x20) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    if (*p_ == '"') {
      in_arena = false;
      off = static_cast<std::uint32_t>(start - begin_);
      len = static_cast<std::uint32_t>(p_ - start);
      ++p_;
      return true;
    }
    in_arena = true;
    off = static_cast<std::uint32_t>(arena_.size());
    arena_.append(start, p_);
    while (p_ != end_ && *p_ != '"') {
      const char c = *p_;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        arena_ += c;
        ++p_;
        continue;
      }
      if (++p_ == end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"': arena_ += '"'; break;
        case '\\': arena_ += '\\'; break;
        case '/': arena_ += '/'; break;
        case 'b': arena_ += '\b'; break;
        case 'f': arena_ += '\f'; break;
        case 'n': arena_ += '\n'; break;
        case 'r': arena_ += '\r'; break;
        case 't': arena_ += '\t'; break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          utf8(cp);
          break;
        }
        default: return false;
      }
    }
    if (p_ == end_) return false;
    ++p_;
    len = static_cast<std::uint32_t>(arena_.size() - off);
    return true;
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  std::string& arena_;
  std::vector<RawField>& out_;
  std::string& path_;  // the current path, keys joined by '.'
  std::uint64_t path_version_ = 0;  // bumped whenever path_ changes
  std::uint64_t last_version_ = ~std::uint64_t{0};
};

}  // namespace

std::uint64_t path_hash(std::string_view path) { return std::hash<std::string_view>{}(path); }

std::uint64_t field_hash(std::uint64_t path_hash, const Scalar& value) {
  std::uint64_t h = path_hash * 31 + static_cast<std::uint64_t>(value.type);
  switch (value.type) {
    case Scalar::Type::null: break;
    case Scalar::Type::boolean: h += value.boolean ? 1 : 2; break;
    case Scalar::Type::number: {
      double n = value.number == 0 ? 0.0 : value.number;
      h ^= mix(std::bit_cast<std::uint64_t>(n));
      break;
    }
    case Scalar::Type::string: h ^= mix(std::hash<std::string_view>{}(value.string)); break;
  }
  return mix(h);
}

bool data_is_json(const Event& ev) {
  const auto& ct = ev.datacontenttype();
  if (!ct) return true;
  std::string_view t = *ct;
  t = t.substr(0, t.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  if (iequals(t, "application/json") || iequals(t, "text/json")) return true;
  auto slash = t.find('/');
  return slash != std::string_view::npos && t.size() - slash > 6 &&
         iequals(t.substr(t.size() - 5), "+json");
}

struct MatchContext::Scratch {
  std::string arena;  // paths and unescaped strings
  std::vector<RawField> raw;
  std::string path;
  std::vector<DataField> fields;
  std::vector<std::uint64_t> hashes;
};

namespace {
// Bounded so a thread that once held many contexts does not keep them all.
constexpr std::size_t kPooledScratch = 4;
thread_local std::vector<std::unique_ptr<MatchContext::Scratch>> scratch_pool;
}  // namespace

MatchContext::MatchContext(const Event& ev) : ev_(ev) {}

MatchContext::~MatchContext() {
  if (!scratch_ || scratch_pool.size() >= kPooledScratch) return;
  scratch_->arena.clear();
  scratch_->raw.clear();
  scratch_->fields.clear();
  scratch_->hashes.clear();
  scratch_pool.push_back(std::move(scratch_));
}

void MatchContext::flatten() {
  flattened_ = true;
  if (!ev_.has_data() || !data_is_json(ev_)) return;
  if (scratch_pool.empty()) {
    scratch_ = std::make_unique<Scratch>();
    scratch_pool.reserve(kPooledScratch);
  } else {
    scratch_ = std::move(scratch_pool.back());
    scratch_pool.pop_back();
  }
  const std::string& bytes = *ev_.data();
  std::string& arena_ = scratch_->arena;
  std::vector<RawField>& raw = scratch_->raw;
  std::vector<DataField>& fields = scratch_->fields;
  scratch_->path.clear();
  Flattener f(bytes, arena_, raw, scratch_->path);
  if (!f.run()) return;
  fields.reserve(raw.size());
  for (const RawField& r : raw) {
    DataField d;
    d.path = std::string_view(arena_.data() + r.path_off, r.path_len);
    d.path_hash = r.path_hash;
    d.value.type = r.type;
    d.value.boolean = r.boolean;
    d.value.number = r.number;
    if (r.type == Scalar::Type::string)
      d.value.string = std::string_view((r.in_arena ? arena_.data() : bytes.data()) + r.str_off, r.str_len);
    fields.push_back(d);
  }
  // Group equal paths: by hash first, so the path bytes are compared only on a tie.
  std::sort(fields.begin(), fields.end(), [](const DataField& a, const DataField& b) {
    if (a.path_hash != b.path_hash) return a.path_hash < b.path_hash;
    return a.path < b.path;
  });
  fields_ = fields;
}

std::span<const DataField> MatchContext::fields() {
  if (!flattened_) flatten();
  return fields_;
}

std::span<const DataField> MatchContext::fields_at(std::string_view path) {
  if (!flattened_) flatten();
  const std::uint64_t h = path_hash(path);
  auto lo = std::lower_bound(fields_.begin(), fields_.end(), std::pair(h, path),
                             [](const DataField& f, const std::pair<std::uint64_t, std::string_view>& k) {
                               if (f.path_hash != k.first) return f.path_hash < k.first;
                               return f.path < k.second;
                             });
  auto hi = lo;
  while (hi != fields_.end() && hi->path_hash == h && hi->path == path) ++hi;
  return {lo, hi};
}

std::span<const std::uint64_t> MatchContext::field_hashes() {
  if (!hashed_) {
    hashed_ = true;
    fields();
    if (!scratch_) return hashes_;
    auto& hashes = scratch_->hashes;
    for (const DataField& f : fields_) hashes.push_back(field_hash(f.path_hash, f.value));
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    hashes_ = hashes;
  }
  return hashes_;
}

const nlohmann::json* MatchContext::json() {
  if (!dom_done_) {
    dom_done_ = true;
    if (ev_.has_data() && data_is_json(ev_)) {
      auto doc = nlohmann::json::parse(*ev_.data(), nullptr, false);
      if (!doc.is_discarded()) dom_ = std::make_unique<nlohmann::json>(std::move(doc));
    }
  }
  return dom_.get();
}

}  // namespace evmesh::filter
