#!/usr/bin/env python3
"""tools/locale_corpus.py on catalogs written by the test itself (standard library only).

Each test writes small GNU .mo files into a temporary folder, runs the script on it as a user
would, and checks what it keeps, what it drops, how it cleans and splits, and its errors.
Run by ctest (locale_corpus) or directly: python3 tests/tools/test_locale_corpus.py
"""
import os
import struct
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                      "locale_corpus.py")
HEADER = "Content-Type: text/plain; charset={}\n"


def write_mo(path, entries, charset="UTF-8", big_endian=False):
    """A .mo file of (msgid, msgstr) entries (str, or bytes already encoded), header first."""
    end = ">" if big_endian else "<"
    encoded = [(b"", HEADER.format(charset).encode("ascii"))]
    for orig, trans in entries:
        encoded.append((orig if isinstance(orig, bytes) else orig.encode(charset),
                        trans if isinstance(trans, bytes) else trans.encode(charset)))
    encoded.sort(key=lambda e: e[0])  # .mo files keep msgids sorted
    n = len(encoded)
    orig_at, trans_at = 28, 28 + 8 * n
    data_at = trans_at + 8 * n
    tables, blob = [b"", b""], b""
    for side in (0, 1):
        for entry in encoded:
            s = entry[side]
            tables[side] += struct.pack(end + "2I", len(s), data_at + len(blob))
            blob += s + b"\0"
    head = struct.pack(end + "7I", 0x950412DE, 0, n, orig_at, trans_at, 0, 0)
    with open(path, "wb") as f:
        f.write(head + tables[0] + tables[1] + blob)


def numbered(k, start=0):
    """k plain pairs that every filter keeps."""
    return [(f"Message number {i}", f"Message numero {i}") for i in range(start, start + k)]


class LocaleCorpus(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.locale = os.path.join(self.tmp.name, "LC_MESSAGES")
        os.makedirs(self.locale)

    def tearDown(self):
        self.tmp.cleanup()

    def run_script(self, *args, out="out"):
        out = os.path.join(self.tmp.name, out)
        p = subprocess.run([sys.executable, SCRIPT, out, "--locale-dir", self.locale, *args],
                           capture_output=True, text=True)
        return p, out

    def pairs(self, out):
        lines = []
        for name in ("train.tsv", "valid.tsv", "test.tsv"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                lines += [tuple(line.rstrip("\n").split("\t")) for line in f]
        return lines

    def test_keeps_cleans_and_drops_as_documented(self):
        write_mo(os.path.join(self.locale, "a.mo"), numbered(4) + [
            ("_Open", "_Ouvrir"),                       # GTK mnemonic
            ("&File", "&Fichier"),                      # Qt mnemonic
            ("Save\n  the   file", "Enregistrer\tle fichier"),  # whitespace collapses
            ("Untranslated message", ""),               # empty translation
            ("<b>Bold</b> text", "Texte <b>gras</b>"),  # markup
            ("%s: %d of %d", "%s : %d sur %d"),         # mostly placeholders
            ("Same in both", "Same in both"),           # an untranslated copy
            ("12345", "12345 !"),                       # no letters on one side
            ("menu\x04Quit", "Quitter"),                # a context is dropped
            ("One file\x00%d files", "Un fichier\x00%d fichiers"),  # plural: singular kept
        ])
        p, out = self.run_script("--valid", "1", "--test", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        kept = dict(self.pairs(out))
        self.assertEqual(kept["Open"], "Ouvrir")
        self.assertEqual(kept["File"], "Fichier")
        self.assertEqual(kept["Save the file"], "Enregistrer le fichier")
        self.assertEqual(kept["Quit"], "Quitter")
        self.assertEqual(kept["One file"], "Un fichier")
        for dropped in ("Untranslated message", "<b>Bold</b> text", "%s: %d of %d",
                        "Same in both", "12345", ""):
            self.assertNotIn(dropped, kept)
        self.assertEqual(len(kept), 9)
        for key in ("dropped: untranslated", "dropped: markup", "dropped: mostly placeholders",
                    "dropped: French equals English", "dropped: no letters"):
            self.assertRegex(p.stdout, key + r"\s+1\n")

    def test_one_translation_per_source_the_most_frequent(self):
        write_mo(os.path.join(self.locale, "a.mo"), numbered(3) + [("Close", "Fermer")])
        write_mo(os.path.join(self.locale, "b.mo"), [("Close", "Clore")])
        write_mo(os.path.join(self.locale, "c.mo"), [("Close", "Fermer")])
        p, out = self.run_script("--valid", "1", "--test", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        pairs = self.pairs(out)
        self.assertEqual([t for s, t in pairs if s == "Close"], ["Fermer"])
        self.assertEqual(len(pairs), 4)

    def test_other_charsets_and_byte_orders(self):
        write_mo(os.path.join(self.locale, "latin1.mo"),
                 numbered(2) + [("Error", "Erreur fatale é")], charset="ISO-8859-1")
        write_mo(os.path.join(self.locale, "big.mo"), numbered(2, 10) + [("Cancel", "Annuler")],
                 big_endian=True)
        p, out = self.run_script("--valid", "1", "--test", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        kept = dict(self.pairs(out))
        self.assertEqual(kept["Error"], "Erreur fatale é")
        self.assertEqual(kept["Cancel"], "Annuler")

    def test_split_sizes_and_the_same_files_on_every_run(self):
        write_mo(os.path.join(self.locale, "a.mo"), numbered(50))
        first, out1 = self.run_script("--valid", "5", "--test", "7", out="one")
        second, out2 = self.run_script("--valid", "5", "--test", "7", out="two")
        other, out3 = self.run_script("--valid", "5", "--test", "7", "--seed", "2", out="three")
        for p in (first, second, other):
            self.assertEqual(p.returncode, 0, p.stderr)
        counts = {}
        for name in ("train.tsv", "valid.tsv", "test.tsv", "test.src", "test.ref"):
            with open(os.path.join(out1, name), "rb") as a, open(os.path.join(out2, name),
                                                                  "rb") as b:
                data = a.read()
                self.assertEqual(data, b.read(), name)
                counts[name] = data.count(b"\n")
        self.assertEqual(counts, {"train.tsv": 38, "valid.tsv": 5, "test.tsv": 7, "test.src": 7,
                                  "test.ref": 7})
        with open(os.path.join(out1, "test.tsv"), encoding="utf-8") as f:
            test = [line.rstrip("\n").split("\t") for line in f]
        with open(os.path.join(out1, "test.src"), encoding="utf-8") as f:
            self.assertEqual([s for s, _ in test], f.read().splitlines())
        with open(os.path.join(out1, "test.ref"), encoding="utf-8") as f:
            self.assertEqual([t for _, t in test], f.read().splitlines())
        self.assertEqual(sorted(self.pairs(out1)), sorted(self.pairs(out3)))
        self.assertNotEqual(self.pairs(out1), self.pairs(out3))  # another seed, another order

    def test_max_words(self):
        long = " ".join(["word"] * 6)
        write_mo(os.path.join(self.locale, "a.mo"), numbered(4) + [(long, "Un long message")])
        p, out = self.run_script("--valid", "1", "--test", "1", "--max-words", "5")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(long, dict(self.pairs(out)))
        self.assertRegex(p.stdout, r"dropped: longer than --max-words\s+1\n")

    def test_errors(self):
        p, _ = self.run_script()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no .mo files", p.stderr)
        write_mo(os.path.join(self.locale, "a.mo"), numbered(3))
        p, _ = self.run_script("--valid", "2", "--test", "1")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("only 3 pairs", p.stderr)
        # A damaged catalog is skipped with a message naming it; the others still count.
        with open(os.path.join(self.locale, "bad.mo"), "wb") as f:
            f.write(b"not a catalog at all")
        p, out = self.run_script("--valid", "1", "--test", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("bad.mo", p.stderr)
        self.assertEqual(len(self.pairs(out)), 3)


if __name__ == "__main__":
    unittest.main()
