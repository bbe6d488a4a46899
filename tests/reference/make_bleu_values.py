#!/usr/bin/env python3
"""Reference values for tests/train/decode/test_metrics.cpp (corpus BLEU).

sacreBLEU is not packaged for Debian 12 and PyPI is out of reach here, so this script is an
independent, line-by-line Python port of sacrebleu 2.x `BLEU.corpus_score` with its defaults
for already-tokenized text: tokenize='none' (whitespace split), smooth_method='exp',
effective_order=False, max_ngram_order=4. The C++ tests also check values published in
sacreBLEU's own test suite (test/test_bleu.py), which anchor this port.

Run: python3 tests/reference/make_bleu_values.py   (prints C++ test cases)
"""
import math
import random
from collections import Counter


def my_log(x):
    return math.log(x) if x > 0.0 else -9999999999


def ngrams(tokens, max_order=4):
    c = Counter()
    for n in range(1, max_order + 1):
        for i in range(0, len(tokens) - n + 1):
            c[tuple(tokens[i:i + n])] += 1
    return c


def compute_bleu(correct, total, sys_len, ref_len):
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * 4
    if not any(correct):
        return 0.0
    smooth_mteval = 1.0
    for n in range(1, 5):
        if total[n - 1] == 0:
            break
        if correct[n - 1] == 0:
            smooth_mteval *= 2
            precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    return bp * math.exp(sum(my_log(p) for p in precisions) / 4)


def corpus_bleu(hyps, ref_streams):
    correct, total = [0] * 4, [0] * 4
    sys_len = ref_len = 0
    for i, hyp in enumerate(hyps):
        h = hyp.split()
        refs = [s[i].split() for s in ref_streams if s[i] != ""]
        closest_diff = closest_len = -1
        ref_max = Counter()
        for r in refs:
            diff = abs(len(h) - len(r))
            if closest_diff == -1 or diff < closest_diff:
                closest_diff, closest_len = diff, len(r)
            elif diff == closest_diff and len(r) < closest_len:
                closest_len = len(r)
            for g, n in ngrams(r).items():
                ref_max[g] = max(ref_max[g], n)
        sys_len += len(h)
        ref_len += closest_len
        for g, n in ngrams(h).items():
            correct[len(g) - 1] += min(n, ref_max.get(g, 0))
            total[len(g) - 1] += n
    return compute_bleu(correct, total, sys_len, ref_len)


def random_corpus(rng, n_seg, n_refs, vocab, max_len):
    words = [f"w{k}" for k in range(vocab)]
    refs = [[" ".join(rng.choice(words) for _ in range(rng.randint(1, max_len)))
             for _ in range(n_seg)] for _ in range(n_refs)]
    hyps = []
    for i in range(n_seg):
        r = refs[0][i].split()
        # a noisy copy of the first reference: drop, replace and insert words
        h = [w for w in r if rng.random() > 0.15]
        h = [rng.choice(words) if rng.random() < 0.2 else w for w in h]
        if rng.random() < 0.3:
            h.insert(rng.randint(0, len(h)), rng.choice(words))
        hyps.append(" ".join(h))
    return hyps, refs


def cpp_strings(xs):
    return "{" + ", ".join('"' + x + '"' for x in xs) + "}"


def main():
    rng = random.Random(20260101)
    for case, (n_seg, n_refs, vocab, max_len) in enumerate(
            [(8, 1, 6, 12), (20, 1, 30, 25), (12, 2, 8, 15), (30, 3, 5, 6)]):
        hyps, refs = random_corpus(rng, n_seg, n_refs, vocab, max_len)
        score = corpus_bleu(hyps, refs)
        print(f"  // case {case}: {n_seg} segments, {n_refs} reference(s)")
        print(f"  {{{cpp_strings(hyps)},")
        print(f"   {{{', '.join(cpp_strings(r) for r in refs)}}},")
        print(f"   {score!r}}},")


if __name__ == "__main__":
    main()
