#pragma once
// The control flow of a generated program, read from its LLVM IR text, for the unit tests
// that check what runs before what (blocks print in the order they were made, not run).

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace ebpfpub::test {

// A program's control flow, from its IR text: a label line starts a block, and its
// `label %name` operands are its successors.
struct control_flow {
  std::map<std::string, std::string> text;
  std::map<std::string, std::vector<std::string>> next;

  explicit control_flow(const std::string& function) {
    std::string current = "entry";
    std::istringstream lines(function.substr(function.find('\n') + 1));
    for (std::string line; std::getline(lines, line);) {
      static const std::regex label(R"(^([A-Za-z0-9_.]+):)");
      static const std::regex successor(R"(label %([A-Za-z0-9_.]+))");
      std::smatch m;
      if (std::regex_search(line, m, label)) {
        current = m[1];
        continue;
      }
      text[current] += line + "\n";
      for (auto it = std::sregex_iterator(line.begin(), line.end(), successor); it != std::sregex_iterator(); ++it)
        next[current].push_back((*it)[1]);
    }
  }

  std::set<std::string> reachable(const std::string& from, const std::set<std::string>& avoid) {
    std::set<std::string> seen{from};
    std::vector<std::string> todo{from};
    while (!todo.empty()) {
      const auto b = todo.back();
      todo.pop_back();
      for (const auto& n : next[b])
        if (!avoid.contains(n) && seen.insert(n).second) todo.push_back(n);
    }
    return seen;
  }

  /// A block whose code has `needle` (the first by name).
  std::string block_with(const std::string& needle) {
    for (const auto& [name, code] : text)
      if (code.find(needle) != std::string::npos) return name;
    FAIL("no block has " << needle);
    return {};
  }

  /// The helper numbers called in `block`: `call ... inttoptr (i64 N to ptr)`.
  void helpers(const std::string& block, std::multiset<int>& out) {
    static const std::regex call(R"(call [^\n]*inttoptr \(i64 (\d+) to ptr\))");
    const auto& t = text[block];
    for (auto it = std::sregex_iterator(t.begin(), t.end(), call); it != std::sregex_iterator(); ++it)
      out.insert(std::stoi((*it)[1]));
  }

  /// The helper numbers called in the blocks on the way from `entry` to `to` (not
  /// through `avoid`), `to` itself excluded.
  std::multiset<int> helpers_before(const std::string& to, const std::set<std::string>& avoid) {
    REQUIRE(text.contains(to));
    std::multiset<int> out;
    for (const auto& b : reachable("entry", avoid))
      if (b != to && reachable(b, avoid).contains(to)) helpers(b, out);
    return out;
  }

  /// The helper numbers called from `from` on, to the program's end.
  std::multiset<int> helpers_after(const std::string& from) {
    std::multiset<int> out;
    for (const auto& b : reachable(from, {})) helpers(b, out);
    return out;
  }
};

}  // namespace ebpfpub::test
