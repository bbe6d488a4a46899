#!/usr/bin/env python3
"""Build an English-French corpus from the gettext catalogs a Debian machine ships.

Every package that speaks French installs /usr/share/locale/fr/LC_MESSAGES/<domain>.mo: the
English messages of its program (msgid) with their French translations (msgstr), written by
people. This script reads them all (a small .mo parser, standard library only) and writes

    train.tsv   source<TAB>target, English<TAB>French
    valid.tsv   --valid pairs, evaluated during training
    test.tsv    --test pairs, for `seqgrad eval --data`
    test.src    the test sources, one a line (for `seqgrad translate`)
    test.ref    their French references, line by line

Kept: messages of 1 to --max-words words a side whose two sides differ. Dropped (and counted):
the header entry, empty translations, messages whose text is mostly printf/format placeholders,
markup, messages without letters, and an untranslated copy of the English. Each kept message is
cleaned the same way on both sides: a mnemonic marker of GTK ('_File') or Qt ('&File') is
removed, runs of whitespace (newlines and tabs included) become one space. Of a plural entry the
singular and its first French form are kept; a message context is dropped. A source that occurs
in several catalogs is kept once, with its most frequent translation (ties: the first in sorted
order). The pairs are sorted, shuffled with --seed and split, so the output is the same on every
run for the same catalogs:

    python3 tools/locale_corpus.py runs/locale-fr
"""
import argparse
import collections
import glob
import os
import random
import re
import struct
import sys

# printf conversions (%s, %3$d, %-10.3lf, %%), Python's %(name)s, {0} / {name}, ${VAR}, $VAR.
FORMAT = re.compile(
    r"%(\d+\$)?[-+ #0']*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|L|q|j|z|t|I64)?[diouxXeEfFgGaAcspnm]"
    r"|%\(\w+\)[sdifr]|\{\w*\}|\$\{\w+\}|\$[A-Z_]{2,}")
MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
LETTER = re.compile(r"[^\W\d_]")
# A mnemonic marker: '_' or '&' at the start of a word, directly before a letter or digit.
MNEMONIC = {ch: re.compile(r"(^|(?<=[\s(]))" + re.escape(ch) + r"(?=\w)") for ch in "_&"}
WORD = re.compile(r"\S+")


def read_mo(path):
    """The (msgid, msgstr) byte-string pairs of a GNU .mo file, in file order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 20:
        raise ValueError("too short for a .mo file")
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if end is None:
        raise ValueError("not a .mo file (bad magic number)")
    _, n, orig_at, trans_at = struct.unpack(end + "4I", data[4:20])
    pairs = []
    for i in range(n):
        olen, ooff = struct.unpack(end + "2I", data[orig_at + 8 * i:orig_at + 8 * i + 8])
        tlen, toff = struct.unpack(end + "2I", data[trans_at + 8 * i:trans_at + 8 * i + 8])
        pairs.append((data[ooff:ooff + olen], data[toff:toff + tlen]))
    return pairs


def charset_of(header):
    m = re.search(rb"charset=([-\w]+)", header)
    return m.group(1).decode("ascii") if m else "utf-8"


def strip_mnemonic(text):
    """'_Open' -> 'Open', 'Save _As' -> 'Save As', '&File' -> 'File': one marker a message."""
    for ch, pattern in MNEMONIC.items():
        if text.count(ch) == 1:
            text = pattern.sub("", text)
    return text


def clean(text):
    return " ".join(WORD.findall(strip_mnemonic(text)))


def is_format_heavy(text):
    """True when placeholders make up a third or more of the message's words, or it has 4+."""
    specs = len(FORMAT.findall(text.replace("%%", "")))
    return specs >= 4 or specs * 3 >= max(1, len(text.split()))


def catalog_pairs(path, counts):
    """The kept (English, French) pairs of one catalog; `counts` tallies what was dropped."""
    raw = read_mo(path)
    header = next((t for o, t in raw if o == b""), b"")
    charset = charset_of(header)
    out = []
    for orig, trans in raw:
        if orig == b"":
            continue
        counts["messages"] += 1
        orig = orig.split(b"\x04", 1)[-1]  # drop a message context
        try:
            src = orig.split(b"\x00")[0].decode(charset)
            tgt = trans.split(b"\x00")[0].decode(charset)
        except (UnicodeDecodeError, LookupError):
            counts["dropped: undecodable"] += 1
            continue
        if not tgt.strip():
            counts["dropped: untranslated"] += 1
            continue
        if MARKUP.search(src) or MARKUP.search(tgt):
            counts["dropped: markup"] += 1
            continue
        if is_format_heavy(src) or is_format_heavy(tgt):
            counts["dropped: mostly placeholders"] += 1
            continue
        src, tgt = clean(src), clean(tgt)
        if not LETTER.search(src) or not LETTER.search(tgt):
            counts["dropped: no letters"] += 1
            continue
        if src == tgt:
            counts["dropped: French equals English"] += 1
            continue
        out.append((src, tgt))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write train.tsv, valid.tsv, test.tsv, test.src, test.ref")
    ap.add_argument("--locale-dir", default="/usr/share/locale/fr/LC_MESSAGES",
                    help="folder of the .mo catalogs (default %(default)s)")
    ap.add_argument("--max-words", type=int, default=40,
                    help="longest message kept, in words on either side (default %(default)s)")
    ap.add_argument("--valid", type=int, default=1000, help="held-out pairs (default %(default)s)")
    ap.add_argument("--test", type=int, default=1000, help="test pairs (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="shuffle seed (default %(default)s)")
    args = ap.parse_args()

    files = sorted(glob.glob(os.path.join(args.locale_dir, "*.mo")))
    if not files:
        sys.exit(f"locale_corpus.py: error: no .mo files in {args.locale_dir}")
    counts = collections.Counter()
    translations = collections.defaultdict(collections.Counter)  # English -> French -> count
    first_seen = {}
    for path in files:
        try:
            pairs = catalog_pairs(path, counts)
        except (OSError, ValueError, struct.error) as e:
            print(f"locale_corpus.py: skipping {path}: {e}", file=sys.stderr)
            continue
        counts["catalogs"] += 1
        for src, tgt in pairs:
            translations[src][tgt] += 1
            first_seen.setdefault((src, tgt), len(first_seen))
    pairs = []
    for src, tgts in translations.items():
        tgt = min(tgts, key=lambda t: (-tgts[t], first_seen[(src, t)]))
        if max(len(src.split()), len(tgt.split())) > args.max_words:
            counts["dropped: longer than --max-words"] += 1
            continue
        pairs.append((src, tgt))
    counts["dropped: duplicate source"] = sum(sum(t.values()) for t in translations.values()) - len(
        translations)
    pairs.sort()
    random.Random(args.seed).shuffle(pairs)
    if len(pairs) <= args.valid + args.test:
        sys.exit(f"locale_corpus.py: error: only {len(pairs)} pairs, fewer than --valid + --test")
    test, valid, train = (pairs[:args.test], pairs[args.test:args.test + args.valid],
                          pairs[args.test + args.valid:])

    os.makedirs(args.out, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(line + "\n" for line in lines)

    write("train.tsv", (f"{s}\t{t}" for s, t in train))
    write("valid.tsv", (f"{s}\t{t}" for s, t in valid))
    write("test.tsv", (f"{s}\t{t}" for s, t in test))
    write("test.src", (s for s, _ in test))
    write("test.ref", (t for _, t in test))
    for key in sorted(counts):
        print(f"{key:36} {counts[key]:8}")
    words = sum(len(s.split()) + len(t.split()) for s, t in train)
    print(f"{'pairs kept':36} {len(pairs):8}")
    print(f"train {len(train)}  valid {len(valid)}  test {len(test)} pairs "
          f"({words} words in train) -> {args.out}")


if __name__ == "__main__":
    main()
