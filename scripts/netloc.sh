#!/usr/bin/env bash
# Lines of packet-net's networking code (issue #11: "smaller than today's
# transport/ plus server/"). Prints, per file and in total, `wc -l` and the
# code-only count: no blank lines, no comment lines (`//`, `///`, `//!`,
# `/* .. */`), no `#[cfg(test)]` item (a `mod tests { .. }` or a single
# test-only item). Brace counting ignores braces in strings and comments
# well enough for this crate (checked against a manual count).
#
# Usage: scripts/netloc.sh [ROOT]   (ROOT: a checkout, default: this one)
#        NETLOC_FILES="a.rs b.rs" scripts/netloc.sh   (other files)
set -euo pipefail
root=${1:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
cd "$root"
files=${NETLOC_FILES:-$(ls packet-net/src/transport/*.rs packet-net/src/server/*.rs \
    packet-net/src/session.rs 2>/dev/null)}
python3 - $files <<'PY'
import re, sys

def code_lines(text):
    n = 0
    in_block = False          # inside /* */
    skip_depth = None         # brace depth at which a cfg(test) item ends
    pending_test = False      # saw #[cfg(test)], item not started yet
    depth = 0
    for raw in text.splitlines():
        line = raw.strip()
        # strip block comments
        out = ""
        i = 0
        while i < len(line):
            if in_block:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_block = False
                    i = j + 2
            else:
                j = line.find("/*", i)
                k = line.find("//", i)
                if k >= 0 and (j < 0 or k < j):
                    out += line[i:k]
                    break
                if j < 0:
                    out += line[i:]
                    break
                out += line[i:j]
                in_block = True
                i = j + 2
        s = out.strip()
        # braces outside string literals
        body = re.sub(r'"(\\.|[^"\\])*"', '""', s)
        body = re.sub(r"'(\\.|[^'\\])'", "''", body)
        opens, closes = body.count("{"), body.count("}")
        if skip_depth is not None:
            depth += opens - closes
            if depth <= skip_depth:
                skip_depth = None
            continue
        if pending_test:
            if not s or s.startswith("#["):
                continue
            pending_test = False
            if opens > closes:
                skip_depth = depth
                depth += opens - closes
            # else: a one-line item (`use`, `fn f() {}`): skipped
            continue
        if re.match(r'#\[cfg\((all\()?test\b', s):
            pending_test = True
            continue
        depth += opens - closes
        if s:
            n += 1
    return n

tot_wc = tot_code = 0
rows = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    wc = text.count("\n")
    c = code_lines(text)
    tot_wc += wc
    tot_code += c
    rows.append((path, wc, c))
for path, wc, c in rows:
    print(f"{wc:6} {c:6}  {path}")
print(f"{tot_wc:6} {tot_code:6}  total (wc -l, code only)")
PY
