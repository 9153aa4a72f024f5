#!/usr/bin/env python3
"""Coverage of ebpfpub's symbol map against strace's.

tools/symbols/strace_arguments.tsv lists every by-value argument of a syscall in our
table that strace (commit 3e4d70a5e497, read from its decoders) prints symbolically: flag
sets, enums, signals, modes, dirfds, clock ids, ioctl requests. This script reports how
many of them tools/symbols/arguments.txt maps, and lists the rest by kind.

    tools/symbols/coverage.py [--missing]
"""
import csv
import os
import re
import sys
from collections import Counter

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "strace_arguments.tsv")), delimiter="\t"))
mapped = set()
for line in open(os.path.join(here, "arguments.txt")):
    words = line.split("#", 1)[0].split()
    # "SYSCALL ARGUMENT SET" or "SYSCALL ARGUMENT SET if OTHER NAMES": a conditional row
    # maps the argument for the values of OTHER strace decodes it for.
    if len(words) == 3 or (len(words) == 6 and words[3] == "if"):
        mapped.add((words[0], words[1]))

# A sigset argument is a pointer to memory (strace reads it). The generic serializer
# captures and names it when its C type is a sigset_t pointer, the rule of
# signal_mask_of (src/signature/classify.cpp); the types are the generated signatures'.
types = {}
syscall = None
for line in open(os.path.join(here, "..", "..", "include", "ebpfpub", "syscalls", "x86_64.hpp")):
    m = re.search(r'static constexpr std::string_view name = "(\w+)";', line)
    if m:
        syscall = m.group(1)
    m = re.match(r'\s*\{"(\w+)", "([^"]*)", \d+, \d+, ::ebpfpub::arg_kind::', line)
    if m and syscall:
        types[(syscall, m.group(1))] = m.group(2)
for r in rows:
    if r["kind"] == "sigset" and re.fullmatch(r"(const )?sigset_t ?\*",
                                               types.get((r["syscall"], r["kernel_field_name"]), "")):
        mapped.add((r["syscall"], r["kernel_field_name"]))

done = [r for r in rows if (r["syscall"], r["kernel_field_name"]) in mapped]
missing = [r for r in rows if (r["syscall"], r["kernel_field_name"]) not in mapped]
masks = sum(1 for r in done if r["kind"] == "sigset")
print(f"strace decodes {len(rows)} by-value arguments symbolically; ebpfpub maps {len(done)} "
      f"({100 * len(done) / len(rows):.0f}%), {masks} of them signal masks captured by type")
by_kind = Counter(r["kind"] for r in missing)
print("not mapped, by kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
if "--missing" in sys.argv:
    for r in missing:
        print(f"  {r['syscall']}.{r['kernel_field_name']}: {r['kind']} ({r['strace_xlat'][:60]})")
