#!/usr/bin/env python3
"""The longest Rust functions under a folder (issue 12 asks for none over ~80 lines).

    python3 tools/check/fnlen.py src [N]     # the N longest (default 12): lines, file, name, first line

A function runs from its `fn` line to the closing brace at the same indentation.
"""
import glob
import re
import sys


def lengths(root):
    out = []
    for f in glob.glob(root + "/**/*.rs", recursive=True):
        lines = open(f).read().split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"\s*(pub(\([^)]*\))? )?(const )?(async )?(unsafe )?fn (\w+)", line)
            if not m or line.rstrip().endswith(";"):
                continue
            ind = len(line) - len(line.lstrip())
            j = i
            while j < len(lines) and not (lines[j].startswith(" " * ind + "}") and len(lines[j]) - len(lines[j].lstrip()) == ind):
                j += 1
            out.append((j - i + 1, f, m.group(6), i + 1))
    return sorted(out, reverse=True)


if __name__ == "__main__":
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    for r in lengths(sys.argv[1] if len(sys.argv) > 1 else "src")[:n]:
        print(*r)
