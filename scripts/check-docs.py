#!/usr/bin/env python3
"""check-docs.py - the commands, files and links of README.md and docs/*.md
still work when copied.

  check-docs.py --alertbridge BIN

Checks, for README.md and every docs/*.md:
  * every relative link [text](path#anchor) names an existing file (and,
    for a Markdown file, an existing heading);
  * every ```sh block runs: offline, in a scratch directory that mirrors the
    repository's top level (so examples/... and integrations/... resolve),
    with `alertbridge` (or any .../cli/alertbridge) being BIN, under
    `bash -eo pipefail`, stdin /dev/null, 60 s at most; it must exit 0;
  * in every ```sh block, run or not, the files named after --integration,
    --config, --input, --compare (and their short forms) or check-config
    that lie under a top-level directory of the repository exist;
  * every ```yaml block of README.md, and each ```yaml block of docs/*.md
    marked for it, passes `alertbridge check-config`.

Markers, an HTML comment on the line just before the opening fence:
  <!-- check-docs: skip REASON -->   do not run this sh block or check this
                                     README yaml block (REASON is required:
                                     "needs Kafka", "installs packages", ...)
  <!-- check-docs: check-config -->  check this docs/*.md yaml block
Exit status 0 when everything holds, 1 otherwise (each failure is printed).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"^<!--\s*check-docs:\s*(skip|check-config)\b\s*(.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)\s*$")
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
BINARY = re.compile(r"(?<![\w/.-])(?:[\w.-]+/)*cli/alertbridge\b")
PATH_OPTS = {"--integration", "-i", "--config", "-c", "--input", "-f",
             "--compare", "-C", "check-config"}
SHELL = {"sh", "bash", "shell"}
SKIP_TOP = {".git", ".cache"}


class Doc:
    def __init__(self, path):
        self.path = path
        self.rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")
        self.blocks = []  # (line, lang, marker, marker_arg, text)
        self.prose = []   # lines outside fences, with their numbers
        i = 0
        while i < len(self.lines):
            m = FENCE.match(self.lines[i])
            if not m:
                self.prose.append((i + 1, self.lines[i]))
                i += 1
                continue
            j = i + 1
            while j < len(self.lines) and not re.match(
                    r"^\s*```\s*$", self.lines[j]):
                j += 1
            prev = self.lines[i - 1].strip() if i > 0 else ""
            mk = MARK.match(prev)
            self.blocks.append((i + 1, m.group(2).lower(),
                                mk.group(1) if mk else None,
                                mk.group(2) if mk else "",
                                "\n".join(self.lines[i + 1:j]) + "\n"))
            i = j + 1


def slug(heading):
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out = set()
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^\s*```", line):
                in_fence = not in_fence
            elif not in_fence and line.startswith("#"):
                out.add(slug(line.lstrip("#")))
    return out


def check_links(doc, fails):
    for n, line in doc.prose:
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = m.group(1) or m.group(2)
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, frag = target.partition("#")
            full = (doc.path if not path else
                    os.path.normpath(os.path.join(os.path.dirname(doc.path),
                                                  path)))
            if not os.path.exists(full):
                fails.append("%s:%d: link to a missing file: %s"
                             % (doc.rel, n, target))
            elif frag and full.endswith(".md") and frag not in anchors(full):
                fails.append("%s:%d: link to a missing heading: %s"
                             % (doc.rel, n, target))


def check_paths(doc, line, text, fails):
    """Files a command names under a top-level directory must exist."""
    words = text.replace("\\\n", " ").split()
    tops = {e for e in os.listdir(ROOT) if e not in SKIP_TOP}
    for k in range(1, len(words)):
        w = words[k]
        if words[k - 1] not in PATH_OPTS or "/" not in w:
            continue
        if w.split("/", 1)[0] in tops and not os.path.exists(
                os.path.join(ROOT, w)):
            fails.append("%s:%d: names a missing file: %s"
                         % (doc.rel, line, w))


def sandbox():
    """A scratch directory whose top level mirrors the repository's."""
    d = tempfile.mkdtemp(prefix="check-docs-")
    for e in os.listdir(ROOT):
        if e not in SKIP_TOP and not e.startswith("build"):
            os.symlink(os.path.join(ROOT, e), os.path.join(d, e))
    return d


def run(cmd, cwd, env):
    """Run \p cmd in its own process group, killed whole after 60 s."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=60)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return -1, "timed out after 60 s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertbridge", required=True)
    args = ap.parse_args()
    binary = os.path.abspath(args.alertbridge)
    docs = [Doc(os.path.join(ROOT, "README.md"))]
    ddir = os.path.join(ROOT, "docs")
    docs += [Doc(os.path.join(ddir, f)) for f in sorted(os.listdir(ddir))
             if f.endswith(".md")]
    box = sandbox()
    bindir = os.path.join(box, ".bin")
    os.mkdir(bindir)
    os.symlink(binary, os.path.join(bindir, "alertbridge"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    fails, ran, checked = [], 0, 0
    try:
        for doc in docs:
            check_links(doc, fails)
            readme = doc.rel == "README.md"
            for n, lang, mark, why, text in doc.blocks:
                where = "%s:%d" % (doc.rel, n)
                if mark == "skip" and not why:
                    fails.append("%s: check-docs: skip needs a reason" % where)
                if lang in SHELL:
                    check_paths(doc, n, text, fails)
                    if mark == "skip":
                        continue
                    rc, out = run(["bash", "-eo", "pipefail", "-c",
                                   BINARY.sub("alertbridge", text)], box, env)
                    ran += 1
                    if rc != 0:
                        fails.append("%s: the sh block exits %d:\n%s%s"
                                     % (where, rc, text, out))
                elif lang in ("yaml", "yml"):
                    if (readme and mark == "skip") or (
                            not readme and mark != "check-config"):
                        continue
                    path = os.path.join(box, "doc-%d.yaml" % n)
                    with open(path, "w") as f:
                        f.write(text)
                    rc, out = run([binary, "check-config", path], box, env)
                    checked += 1
                    if rc != 0:
                        fails.append("%s: the yaml block fails check-config:"
                                     "\n%s" % (where, out))
    finally:
        shutil.rmtree(box, ignore_errors=True)
    for f in fails:
        print("FAIL " + f)
    print("check-docs: %d documents, %d sh blocks run, %d yaml blocks "
          "checked, %d failures" % (len(docs), ran, checked, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
