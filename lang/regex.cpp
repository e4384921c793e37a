#include "lang/regex.hpp"

#include <cctype>
#include <memory>

namespace rb::lang {
namespace {

constexpr size_t kMaxDepth = 64;         // group nesting in a pattern
constexpr size_t kMaxRepeat = 100;       // {n,m} bounds
constexpr size_t kMaxProgram = 20000;    // instructions

struct Node {
  enum class Kind { kByte, kAny, kClass, kBol, kEol, kCat, kAlt, kRepeat } kind;
  uint8_t byte = 0;
  std::vector<bool> cls;
  std::vector<std::unique_ptr<Node>> kids;
  size_t min = 0, max = 0;  // kRepeat; max == SIZE_MAX: unbounded
};
using NodePtr = std::unique_ptr<Node>;

struct SyntaxError {
  std::string message;
  size_t at = SIZE_MAX;  // the offending byte of the pattern; SIZE_MAX: the parser's position
};

class Parser {
 public:
  Parser(std::string_view p, bool icase) : p_(p), icase_(icase) {}

  NodePtr Parse() {
    NodePtr n = Alt(0);
    if (i_ < p_.size()) throw SyntaxError{"unbalanced `)`", i_};
    return n;
  }

 private:
  NodePtr Make(Node::Kind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    return n;
  }

  NodePtr Alt(size_t depth) {
    if (depth > kMaxDepth) throw SyntaxError{"groups nest too deeply"};
    NodePtr first = Cat(depth);
    if (i_ >= p_.size() || p_[i_] != '|') return first;
    NodePtr alt = Make(Node::Kind::kAlt);
    alt->kids.push_back(std::move(first));
    while (i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      alt->kids.push_back(Cat(depth));
    }
    return alt;
  }

  NodePtr Cat(size_t depth) {
    NodePtr cat = Make(Node::Kind::kCat);
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') cat->kids.push_back(Repeat(depth));
    return cat;
  }

  size_t Number() {
    size_t n = 0;
    bool any = false;
    while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) {
      n = n * 10 + static_cast<size_t>(p_[i_++] - '0');
      any = true;
      if (n > kMaxRepeat) throw SyntaxError{"repetition count above 100", i_ - 1};
    }
    if (!any) throw SyntaxError{"expected a number in `{}`"};
    return n;
  }

  NodePtr Repeat(size_t depth) {
    NodePtr atom = Atom(depth);
    while (i_ < p_.size()) {
      char c = p_[i_];
      size_t min = 0, max = SIZE_MAX;
      if (c == '*') {
        ++i_;
      } else if (c == '+') {
        ++i_;
        min = 1;
      } else if (c == '?') {
        ++i_;
        max = 1;
      } else if (c == '{') {
        ++i_;
        min = Number();
        max = min;
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          max = i_ < p_.size() && p_[i_] == '}' ? SIZE_MAX : Number();
        }
        if (i_ >= p_.size() || p_[i_] != '}') throw SyntaxError{"expected `}`"};
        ++i_;
        if (max < min) throw SyntaxError{"repetition {n,m} with m < n"};
      } else {
        break;
      }
      if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy quantifiers: same set of matches
      NodePtr r = Make(Node::Kind::kRepeat);
      r->min = min;
      r->max = max;
      r->kids.push_back(std::move(atom));
      atom = std::move(r);
    }
    return atom;
  }

  void AddToClass(std::vector<bool>& cls, unsigned char c) {
    cls[c] = true;
    if (icase_) {
      cls[static_cast<unsigned char>(std::tolower(c))] = true;
      cls[static_cast<unsigned char>(std::toupper(c))] = true;
    }
  }

  // \d \w \s and their negations into `cls`; returns false for other escapes.
  static bool ClassEscape(char e, std::vector<bool>& cls) {
    auto fill = [&](auto pred, bool negate) {
      for (int c = 0; c < 256; ++c) {
        if (pred(c) != negate) cls[static_cast<size_t>(c)] = true;
      }
    };
    switch (e) {
      case 'd': fill([](int c) { return std::isdigit(c) != 0; }, false); return true;
      case 'D': fill([](int c) { return std::isdigit(c) != 0; }, true); return true;
      case 'w': fill([](int c) { return std::isalnum(c) != 0 || c == '_'; }, false); return true;
      case 'W': fill([](int c) { return std::isalnum(c) != 0 || c == '_'; }, true); return true;
      case 's': fill([](int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }, false); return true;
      case 'S': fill([](int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }, true); return true;
      default: return false;
    }
  }

  unsigned char EscapedByte(char e) {
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      default:
        if (std::isalnum(static_cast<unsigned char>(e))) {
          throw SyntaxError{std::string("unknown escape `\\") + e + "`", i_ - 2};
        }
        return static_cast<unsigned char>(e);
    }
  }

  NodePtr Atom(size_t depth) {
    if (i_ >= p_.size()) throw SyntaxError{"pattern ends early"};
    const size_t at = i_;
    char c = p_[i_++];
    switch (c) {
      case '(': {
        if (p_.substr(i_, 2) == "?:") i_ += 2;
        NodePtr inner = Alt(depth + 1);
        if (i_ >= p_.size() || p_[i_] != ')') throw SyntaxError{"missing `)`", at};
        ++i_;
        return inner;
      }
      case ')': throw SyntaxError{"unbalanced `)`", at};
      case '*':
      case '+':
      case '?':
      case '{': throw SyntaxError{std::string("`") + c + "` has nothing to repeat", at};
      case '.': return Make(Node::Kind::kAny);
      case '^': return Make(Node::Kind::kBol);
      case '$': return Make(Node::Kind::kEol);
      case '[': return Class(at);
      case '\\': {
        if (i_ >= p_.size()) throw SyntaxError{"pattern ends with `\\`", at};
        char e = p_[i_++];
        NodePtr n = Make(Node::Kind::kClass);
        n->cls.assign(256, false);
        if (ClassEscape(e, n->cls)) return n;
        AddToClass(n->cls, EscapedByte(e));
        return n;
      }
      default: {
        NodePtr n = Make(Node::Kind::kClass);
        n->cls.assign(256, false);
        AddToClass(n->cls, static_cast<unsigned char>(c));
        return n;
      }
    }
  }

  NodePtr Class(size_t open) {
    NodePtr n = Make(Node::Kind::kClass);
    n->cls.assign(256, false);
    bool negate = i_ < p_.size() && p_[i_] == '^';
    if (negate) ++i_;
    bool first = true;
    while (i_ < p_.size() && (p_[i_] != ']' || first)) {
      first = false;
      unsigned char lo = static_cast<unsigned char>(p_[i_++]);
      if (lo == '\\') {
        if (i_ >= p_.size()) throw SyntaxError{"pattern ends inside `[...]`"};
        char e = p_[i_++];
        if (ClassEscape(e, n->cls)) continue;
        lo = EscapedByte(e);
      }
      unsigned char hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        hi = static_cast<unsigned char>(p_[i_++]);
        if (hi == '\\' && i_ < p_.size()) hi = EscapedByte(p_[i_++]);
        if (hi < lo) throw SyntaxError{"class range out of order", i_ - 1};
      }
      for (unsigned c = lo; c <= hi; ++c) AddToClass(n->cls, static_cast<unsigned char>(c));
    }
    if (i_ >= p_.size()) throw SyntaxError{"missing `]`", open};
    ++i_;
    if (negate) n->cls.flip();
    return n;
  }

  std::string_view p_;
  bool icase_;
  size_t i_ = 0;

 public:
  size_t Position() const { return i_; }
};

using Inst = Regex::Inst;
using IOp = Regex::Inst::Op;

class Emitter {
 public:
  Emitter(std::vector<Inst>& prog, std::vector<std::vector<bool>>& classes) : prog_(prog), classes_(classes) {}

  void Emit(const Node& n) {
    if (prog_.size() > kMaxProgram) throw SyntaxError{"pattern too large"};
    switch (n.kind) {
      case Node::Kind::kByte: Add({IOp::kByte, n.byte}); break;
      case Node::Kind::kAny: Add({IOp::kAny}); break;
      case Node::Kind::kBol: Add({IOp::kBol}); break;
      case Node::Kind::kEol: Add({IOp::kEol}); break;
      case Node::Kind::kClass: {
        Inst in{IOp::kClass};
        in.x = static_cast<uint32_t>(classes_.size());
        classes_.push_back(n.cls);
        Add(in);
        break;
      }
      case Node::Kind::kCat:
        for (const auto& k : n.kids) Emit(*k);
        break;
      case Node::Kind::kAlt: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            size_t split = Add({IOp::kSplit});
            prog_[split].x = Here();
            Emit(*n.kids[i]);
            jumps.push_back(Add({IOp::kJump}));
            prog_[split].y = Here();
          } else {
            Emit(*n.kids[i]);
          }
        }
        for (size_t j : jumps) prog_[j].x = Here();
        break;
      }
      case Node::Kind::kRepeat: {
        const Node& e = *n.kids[0];
        for (size_t i = 0; i < n.min; ++i) Emit(e);
        if (n.max == SIZE_MAX) {  // e*
          size_t loop = Add({IOp::kSplit});
          prog_[loop].x = Here();
          Emit(e);
          size_t back = Add({IOp::kJump});
          prog_[back].x = static_cast<uint32_t>(loop);
          prog_[loop].y = Here();
        } else {
          std::vector<size_t> splits;
          for (size_t i = n.min; i < n.max; ++i) {  // e? nested
            size_t split = Add({IOp::kSplit});
            prog_[split].x = Here();
            splits.push_back(split);
            Emit(e);
          }
          for (size_t s : splits) prog_[s].y = Here();
        }
        break;
      }
    }
  }

  uint32_t Here() const { return static_cast<uint32_t>(prog_.size()); }

 private:
  size_t Add(Inst in) {
    prog_.push_back(in);
    return prog_.size() - 1;
  }
  std::vector<Inst>& prog_;
  std::vector<std::vector<bool>>& classes_;
};

}  // namespace

std::optional<Regex> Regex::Compile(std::string_view pattern, bool icase, std::string& error) {
  size_t at = 0;
  return Compile(pattern, icase, error, at);
}

std::optional<Regex> Regex::Compile(std::string_view pattern, bool icase, std::string& error, size_t& error_at) {
  Parser parser(pattern, icase);
  try {
    NodePtr root = parser.Parse();
    Regex re;
    Emitter(re.prog_, re.classes_).Emit(*root);
    re.prog_.push_back(Inst{IOp::kMatch});
    return re;
  } catch (const SyntaxError& e) {
    error = e.message;
    error_at = e.at != SIZE_MAX ? e.at : parser.Position();
    if (!pattern.empty() && error_at >= pattern.size()) error_at = pattern.size() - 1;
    return std::nullopt;
  }
}

bool Regex::Search(std::string_view text) const {
  const size_t n = prog_.size();
  std::vector<uint32_t> clist, nlist, stack;
  std::vector<size_t> mark(n, SIZE_MAX);  // the step a pc was last added at
  clist.reserve(n);
  nlist.reserve(n);
  // Adds pc and everything reachable from it without consuming a byte, at position `pos`.
  auto add = [&](std::vector<uint32_t>& list, uint32_t start, size_t pos, size_t step) {
    stack.push_back(start);
    while (!stack.empty()) {
      uint32_t pc = stack.back();
      stack.pop_back();
      if (mark[pc] == step) continue;
      mark[pc] = step;
      const Inst& in = prog_[pc];
      switch (in.op) {
        case IOp::kJump: stack.push_back(in.x); break;
        case IOp::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case IOp::kBol:
          if (pos == 0) stack.push_back(pc + 1);
          break;
        case IOp::kEol:
          if (pos == text.size()) stack.push_back(pc + 1);
          break;
        default: list.push_back(pc);
      }
    }
  };
  size_t step = 0;
  for (size_t pos = 0; pos <= text.size(); ++pos) {
    add(clist, 0, pos, step);  // unanchored: a new thread at every position
    if (clist.empty()) {
      ++step;
      continue;
    }
    ++step;
    nlist.clear();
    for (uint32_t pc : clist) {
      const Inst& in = prog_[pc];
      if (in.op == IOp::kMatch) return true;
      if (pos == text.size()) continue;
      unsigned char c = static_cast<unsigned char>(text[pos]);
      bool ok = in.op == IOp::kAny || (in.op == IOp::kByte && in.byte == c) || (in.op == IOp::kClass && classes_[in.x][c]);
      if (ok) add(nlist, pc + 1, pos + 1, step);
    }
    std::swap(clist, nlist);
  }
  for (uint32_t pc : clist) {
    if (prog_[pc].op == IOp::kMatch) return true;
  }
  return false;
}

}  // namespace rb::lang
