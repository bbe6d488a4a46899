#!/usr/bin/env python3
"""Write a toy translation corpus: English number words to digits, "three thousand twelve" -> "3012".

Every number 0..9999 appears once, written without "and" or hyphens ("twenty three"). The numbers
are shuffled with a fixed seed and split into disjoint sets, so held-out numbers never occur in
training:
    train.tsv   9000 pairs   source<TAB>target
    valid.tsv    500 pairs   evaluated during training
    test.src     500 sources (one a line) for `seqgrad translate`
    test.tgt     their digits, line by line
Trains character-level (--tokenize char). Standard library only; the output is the same on every
run and machine:
    python3 tools/make_numbers_tsv.py runs/numbers-data
"""
import argparse
import os
import random

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n):
    """English words of 0 <= n <= 9999."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        head = ONES[n // 100] + " hundred"
        return head if n % 100 == 0 else head + " " + words(n % 100)
    head = ONES[n // 1000] + " thousand"
    return head if n % 1000 == 0 else head + " " + words(n % 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write train.tsv, valid.tsv, test.src, test.tgt into")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    numbers = list(range(10000))
    random.Random(a.seed).shuffle(numbers)
    test, valid, train = numbers[:500], numbers[500:1000], numbers[1000:]
    os.makedirs(a.out, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(a.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(line + "\n" for line in lines)

    write("train.tsv", (f"{words(n)}\t{n}" for n in train))
    write("valid.tsv", (f"{words(n)}\t{n}" for n in valid))
    write("test.src", (words(n) for n in test))
    write("test.tgt", (str(n) for n in test))


if __name__ == "__main__":
    main()
