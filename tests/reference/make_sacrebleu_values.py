#!/usr/bin/env python3
"""Reference values for tests/train/decode/test_text_metrics.cpp: BLEU and chrF on text, as
sacreBLEU computes them with its defaults (BLEU: 13a tokenization, exp smoothing, n-grams up
to 4; chrF: character order 6, word order 0, beta 2, whitespace removed), corpus-level.

sacreBLEU itself computes every figure here (it is on PyPI, not in Debian 12). Install it in a
throw-away virtual environment; the C++ tests read only the JSON file this writes:

    python3 -m venv /tmp/sacrebleu-venv
    /tmp/sacrebleu-venv/bin/pip install sacrebleu==2.6.0
    /tmp/sacrebleu-venv/bin/python tests/reference/make_sacrebleu_values.py          # rewrite
    /tmp/sacrebleu-venv/bin/python tests/reference/make_sacrebleu_values.py --check  # compare

The corpora are small on purpose: hand-picked lines that exercise each rule of the 13a
tokenizer (punctuation, periods and commas beside digits, a dash after a digit, HTML entities,
"<skipped>", Unicode whitespace, trailing whitespace, "<unk>" in a hypothesis), chrF's effective
order (lines shorter than 6 characters) and empty lines, plus seeded random corpora.
"""
import argparse
import json
import os
import random
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sacrebleu_values.json")

# Lines for the tokenizer alone, each with what 13a makes of it.
TOKENIZER_LINES = [
    "Hello, world!",
    "It costs $3.50, or 3,50 EUR (about 4.1%).",
    "The 2026-11-25 meeting: 10-20 people; see e.g. U.S.A. and a.,b...",
    "don't stop -- it's 5- or 6-fold",
    "&quot;quoted&quot; &amp; &lt;tag&gt; &#39; & plain",
    "Size <skipped> changed <unk> here",
    "  leading and trailing spaces \t ",
    "Größe ändern: naïve café — «ok» 東京です。",
    "no\u00a0break\u2009thin\u3000ideographic\u2028line",
    "a/b\\c{d}e[f]g^h_i`j|k~l@m?n=o>p<q;r:s+t*u)v(w'x\"y#z",
    "trailing period. and comma,",
    "1.000,5 and .5 and 5. and ,5",
    "line-\nbreak and\nnewline",
    "",
    "   ",
]

# (name, hypotheses, references): one reference per segment.
HAND_CORPORA = [
    ("punctuation",
     ["Hello, world!", "The cat sat on the mat.", "It costs $3.50 (about 4%)."],
     ["Hello world!", "The cat is on the mat.", "It costs $3.50, about 4%."]),
    ("unk_never_matches",
     ["Open the <unk> file .", "<unk> <unk> <unk>"],
     ["Open the settings file.", "<unk> is not a word here"]),
    ("entities_and_digits",
     ["&quot;a&quot; &amp; b 2026-11-25", "10-20 people, e.g. U.S.A."],
     ["\"a\" & b 2026-11-25", "10 - 20 people, e.g. USA"]),
    ("unicode",
     ["Größe ändern", "naïve café — «ok»", "東京です。"],
     ["Die Größe ändern", "naive café - «ok»", "東京です"]),
    ("whitespace",
     ["  spaced   out\ttext  ", "no\u00a0break here", "trailing\u3000"],
     ["spaced out text", "no break here", "trailing"]),
    ("short_lines_effective_order",
     ["ab", "a", "xyz"],
     ["ab", "b", "xy"]),
    ("empty_hypothesis",
     ["", "the same words"],
     ["something else", "the same words"]),
    ("empty_reference",
     ["words", "more words here"],
     ["   ", "more words here"]),
    ("no_match",
     ["aaa bbb", "ccc"],
     ["xxx yyy", "zzz"]),
    ("identical",
     ["Exactly the same line, with punctuation.", "And a second one"],
     ["Exactly the same line, with punctuation.", "And a second one"]),
]


def random_corpus(rng, n_seg, vocab, max_len):
    """Noisy copies of random references over words, digits and punctuation."""
    words = [f"w{k}" for k in range(vocab)] + ["3.5", "1,000", "x-y", "7-", "(a)", "b.", "c,",
                                               "don't", "é", "Ü"]
    refs, hyps = [], []
    for _ in range(n_seg):
        r = [rng.choice(words) for _ in range(rng.randint(1, max_len))]
        h = [w for w in r if rng.random() > 0.15]
        h = [rng.choice(words) if rng.random() < 0.2 else w for w in h]
        if rng.random() < 0.3:
            h.insert(rng.randint(0, len(h)), rng.choice(words))
        refs.append(" ".join(r) + rng.choice(["", ".", "!", " ?"]))
        hyps.append(" ".join(h))
    return hyps, refs


SIGNATURES = {}


def score(hyps, refs):
    bleu_metric, chrf_metric = BLEU(), CHRF()
    bleu = bleu_metric.corpus_score(hyps, [refs])
    chrf = chrf_metric.corpus_score(hyps, [refs])
    SIGNATURES["bleu"] = str(bleu_metric.get_signature())
    SIGNATURES["chrf"] = str(chrf_metric.get_signature())
    return {
        "bleu": {"score": bleu.score, "counts": list(bleu.counts), "totals": list(bleu.totals),
                 "sys_len": bleu.sys_len, "ref_len": bleu.ref_len, "bp": bleu.bp},
        "chrf": {"score": chrf.score},
    }


def build():
    tok = BLEU().tokenizer  # 13a, what corpus_score applies after rstrip()
    corpora = []
    for name, hyps, refs in HAND_CORPORA:
        corpora.append({"name": name, "hyps": hyps, "refs": refs, **score(hyps, refs)})
    rng = random.Random(20261125)
    for k, (n_seg, vocab, max_len) in enumerate([(10, 6, 12), (25, 40, 30), (40, 8, 6)]):
        hyps, refs = random_corpus(rng, n_seg, vocab, max_len)
        corpora.append({"name": f"random_{k}", "hyps": hyps, "refs": refs, **score(hyps, refs)})
    return {
        "sacrebleu_version": sacrebleu.__version__,
        "bleu_signature": SIGNATURES["bleu"],
        "chrf_signature": SIGNATURES["chrf"],
        "tokenize_13a": [[line, tok(line)] for line in TOKENIZER_LINES],
        "corpora": corpora,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    a = ap.parse_args()
    data = build()
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if a.check:
        with open(OUT, encoding="utf-8") as f:
            same = f.read() == text
        print("make_sacrebleu_values: " + ("the file matches" if same else "the file DIFFERS"))
        sys.exit(0 if same else 1)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}: {len(data['corpora'])} corpora, {len(data['tokenize_13a'])} lines")


if __name__ == "__main__":
    main()
