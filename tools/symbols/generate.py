#!/usr/bin/env python3
"""Generates ebpfpub's symbol tables from this machine's headers.

Reads tools/symbols/sets.txt (which constants make each set, and from which headers) and
tools/symbols/arguments.txt (which argument of which syscall takes which set, possibly only
when another argument holds given values: fcntl's arg by its cmd), asks the
C++ compiler for every constant's value (a probe program per header group), and writes:

  src/symbols/tables.cpp       the sets and the argument map, as plain numbers
  src/symbols/check_<group>.cpp  static_asserts that each number is still what the
                               headers say, compiled with the library: a value that
                               changed in the headers is a build error

Run from the repository root after editing either list (or on new headers):
    tools/symbols/generate.py
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CXX = os.environ.get("CXX", "g++")


class Set:
    def __init__(self, name, kind, group, line):
        self.name, self.kind, self.group, self.line = name, kind, group, line
        self.fields = []     # [(mask_expr, [names] or "@set")]
        self.names = []      # bits (flags) or values (values)
        self.literals = {}   # NAME -> int, for constants no user-space header exports


def c_number(text):
    """A C integer literal: 0x1f, 0755 (octal), 42."""
    if re.fullmatch(r"0[0-7]+", text):
        return int(text, 8)
    return int(text, 0)


def fail(msg):
    sys.exit(f"tools/symbols/generate.py: {msg}")


def parse_sets(path):
    groups, sets, group = {}, [], None
    for number, raw in enumerate(open(path), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        where = f"{os.path.relpath(path, ROOT)}:{number}"
        words = line.split()
        if not raw[0].isspace():
            if words[0] == "group":
                group = words[1]
                groups[group] = words[2:]
            elif words[0] == "set":
                if group is None or len(words) != 3 or words[2] not in ("flags", "values", "mode"):
                    fail(f"{where}: expected 'set NAME flags|values|mode' after a 'group' line")
                sets.append(Set(words[1], words[2], group, where))
            else:
                fail(f"{where}: expected 'group' or 'set', got {words[0]!r}")
            continue
        if not sets:
            fail(f"{where}: constants before any 'set'")
        s = sets[-1]
        if words[0] == "field":
            if "=" not in words or words.index("=") != 2:
                fail(f"{where}: expected 'field MASK = NAMES...' or 'field MASK = @SET'")
            rest = words[3:]
            if len(rest) == 1 and rest[0].startswith("@"):
                s.fields.append((words[1], rest[0]))
                continue
            names = []
            for w in rest:  # NAME=VALUE: a literal, as among the flags
                name, _, v = w.partition("=")
                if v:
                    s.literals[name] = c_number(v)
                names.append(name)
            s.fields.append((words[1], names))
            continue
        for w in words:
            if "=" in w:
                name, value = w.split("=", 1)
                s.literals[name] = c_number(value)
                s.names.append(name)
            else:
                s.names.append(w)
    return groups, sets


def parse_arguments(path):
    out = []
    for number, raw in enumerate(open(path), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        where = f"arguments.txt:{number}"
        if len(words) == 3:
            out.append((words[0], words[1], words[2], None, [], where))
        elif len(words) == 6 and words[3] == "if":
            # SYSCALL ARGUMENT SET if OTHER NAME[,NAME...]: the set applies only when argument
            # OTHER holds one of the names (read in OTHER's own set).
            out.append((words[0], words[1], words[2], words[4], words[5].split(","), where))
        else:
            fail(f"{where}: expected 'SYSCALL ARGUMENT SET' or 'SYSCALL ARGUMENT SET if OTHER NAME[,NAME...]'")
    return out


def probe(headers, expressions):
    """Values of C++ constant expressions under `headers`, or the names the compiler lacks."""
    src = "".join(f"#include <{h}>\n" for h in headers)
    src += "#include <cstdio>\nint main() {\n"
    for i, e in enumerate(expressions):
        src += f'  std::printf("%d %lld\\n", {i}, static_cast<long long>({e}));\n'
    src += "}\n"
    with tempfile.TemporaryDirectory() as tmp:
        cpp, exe = os.path.join(tmp, "probe.cpp"), os.path.join(tmp, "probe")
        open(cpp, "w").write(src)
        r = subprocess.run([CXX, "-std=c++20", "-w", cpp, "-o", exe], capture_output=True, text=True)
        if r.returncode != 0:
            missing = sorted(set(re.findall(r"['\u2018](\w+)['\u2019] was not declared", r.stderr)))
            if missing:
                return None, missing
            fail(f"the probe for {' '.join(headers)} does not compile:\n{r.stderr[:3000]}")
        values = {}
        for line in subprocess.run([exe], capture_output=True, text=True, check=True).stdout.splitlines():
            i, v = line.split()
            values[expressions[int(i)]] = int(v)
        return values, []


def mask_expression(m):
    return m if re.fullmatch(r"\w+", m) and not m[0].isdigit() else None


def main():
    groups, sets = parse_sets(os.path.join(ROOT, "tools/symbols/sets.txt"))
    arguments = parse_arguments(os.path.join(ROOT, "tools/symbols/arguments.txt"))
    by_name = {s.name: s for s in sets}
    if len(by_name) != len(sets):
        fail("a set is defined twice")

    values = {}  # (group, expression) -> int
    for group, headers in groups.items():
        exprs = []
        for s in (s for s in sets if s.group == group):
            for mask, names in s.fields:
                if mask_expression(mask):
                    exprs.append(mask)
                if isinstance(names, list):
                    exprs += [n for n in names if n not in s.literals]
            exprs += [n for n in s.names if n not in s.literals]
        exprs = list(dict.fromkeys(exprs))
        got, missing = probe(headers, exprs)
        if missing:
            fail(f"group {group} ({' '.join(headers)}): not in this machine's headers: {' '.join(missing)}")
        for e, v in got.items():
            values[(group, e)] = v

    def value(s, name):
        if name in s.literals:
            return s.literals[name]
        if not mask_expression(name):
            return c_number(name)
        return values[(s.group, name)]

    # tables.cpp
    out = [
        "// Generated by tools/symbols/generate.py from tools/symbols/sets.txt and arguments.txt",
        "// with this machine's headers. Do not edit: change the lists and run the script again.",
        "// src/symbols/check_*.cpp assert at build time that every value is still the headers'.",
        "#include \"symbols/tables.hpp\"",
        "",
        "namespace ebpfpub::symbols::detail {",
        "namespace {",
        "",
    ]

    def u64(v):
        return f"0x{v & 0xFFFFFFFFFFFFFFFF:x}ULL"

    def array(ident, s, names):
        rows = ", ".join(f'{{"{n}", {u64(value(s, n))}}}' for n in names)
        return f"constexpr symbol {ident}[] = {{{rows}}};"

    for s in sets:
        for i, (mask, names) in enumerate(s.fields):
            if isinstance(names, list):
                out.append(array(f"{s.name}_field{i}", s, names))
        if s.names:
            out.append(array(f"{s.name}_names", s, s.names))
        fields = []
        for i, (mask, names) in enumerate(s.fields):
            target = f"{names[1:]}_names" if isinstance(names, str) else f"{s.name}_field{i}"
            if isinstance(names, str) and names[1:] not in by_name:
                fail(f"{s.line}: field refers to unknown set {names}")
            fields.append(f"{{{u64(value(s, mask))}, {target}}}")
        if fields:
            out.append(f"constexpr symbol_field {s.name}_fields[] = {{{', '.join(fields)}}};")
    out += ["", "}  // namespace", "", "std::span<const symbol_set> sets() noexcept {",
            "  static constexpr symbol_set all[] = {"]
    for s in sorted(sets, key=lambda s: s.name):
        fields = f"{s.name}_fields" if s.fields else "{}"
        names = f"{s.name}_names" if s.names else "{}"
        out.append(f'      {{"{s.name}", symbol_kind::{s.kind}, {fields}, {names}}},')
    out += ["  };", "  return all;", "}", ""]
    out += ["std::span<const argument_symbols> arguments() noexcept {",
            "  static constexpr argument_symbols all[] = {"]
    plain = {(a[0], a[1]): a[2] for a in arguments if a[3] is None}
    rows = {}
    for syscall, arg, set_name, other, names, where in arguments:
        if set_name not in by_name:
            fail(f"{where}: unknown set {set_name}")
        if other is None:
            if (syscall, arg, "", 0) in rows:
                fail(f"{where}: {syscall}.{arg} is mapped twice")
            rows[(syscall, arg, "", 0)] = set_name
            continue
        if (syscall, other) not in plain:
            fail(f"{where}: the condition's argument {syscall}.{other} takes no set to read {','.join(names)} in")
        condition_set = by_name[plain[(syscall, other)]]
        for n in names:
            if n not in condition_set.names:
                fail(f"{where}: {n} is not in set {condition_set.name} ({syscall}.{other}'s)")
            v = value(condition_set, n) & 0xFFFFFFFFFFFFFFFF
            if (syscall, arg, other, v) in rows:
                fail(f"{where}: {syscall}.{arg} is mapped twice when {other} is {n}")
            rows[(syscall, arg, other, v)] = set_name
    for (syscall, arg, other, v), set_name in sorted(rows.items()):
        out.append(f'      {{"{syscall}", "{arg}", "{set_name}", "{other}", {u64(v)}}},')
    out += ["  };", "  return all;", "}", "", "}  // namespace ebpfpub::symbols::detail", ""]
    write("src/symbols/tables.cpp", "\n".join(out))

    # check_<group>.cpp: one translation unit per header group (some groups' headers clash).
    for group, headers in groups.items():
        lines = [
            "// Generated by tools/symbols/generate.py. Do not edit. Each value in tables.cpp is",
            "// checked against the headers it came from: if one changes, the build stops here and",
            "// tools/symbols/generate.py regenerates the tables.",
        ] + [f"#include <{h}>" for h in headers] + [""]
        for s in (s for s in sets if s.group == group):
            checked = [n for n in s.names if n not in s.literals]
            for mask, names in s.fields:
                if mask_expression(mask):
                    checked.append(mask)
                if isinstance(names, list):
                    checked += [n for n in names if n not in s.literals]
            for n in dict.fromkeys(checked):
                v = values[(group, n)]
                lines.append(f'static_assert(static_cast<long long>({n}) == {v}LL, '
                             f'"{n} changed in the headers: run tools/symbols/generate.py");')
        write(f"src/symbols/check_{group}.cpp", "\n".join(lines) + "\n")
    write("src/symbols/checks.cmake",
          "# Generated by tools/symbols/generate.py: the build-time checks, one per header group.\n"
          "set(EBPFPUB_SYMBOL_CHECKS\n" + "".join(f"  symbols/check_{g}.cpp\n" for g in groups) + ")\n")
    print(f"tools/symbols/generate.py: {len(sets)} sets, {len(arguments)} arguments, "
          f"{sum(len(s.names) for s in sets)} names, {len(groups)} header groups")


def write(relative, text):
    path = os.path.join(ROOT, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
