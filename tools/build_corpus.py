"""Rebuild tinygrad_edu/data/corpus/ from the packages its README names (run by hand, needs network to PyPI/Debian).

    python tools/build_corpus.py --names names-0.3.0.tar.gz --austen r-cran-janeaustenr_1.0.0-1_all.deb

Get the inputs with the ordinary clients: `pip download --no-deps names==0.3.0` and
`apt-get download r-cran-janeaustenr` (unpacked here with `dpkg -x`). The census
files are copied unchanged (gzip-compressed); from the R package's lazy-load data
base the character vector of *Pride and Prejudice* is decoded (R's XDR
serialisation: a STRSXP of CHARSXPs) and cut before "Chapter 13".
"""
from __future__ import annotations

import argparse
import gzip
import os
import re
import struct
import subprocess
import tarfile
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tinygrad_edu", "data", "corpus")
RDB = "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"


def write_gzip(path: str, data: bytes) -> None:
    """gzip with no time stamp or file name inside, so rebuilding gives the same bytes."""
    with open(path, "wb") as file, gzip.GzipFile(fileobj=file, mode="wb", mtime=0, filename="") as archive:
        archive.write(data)


def r_character_vectors(rdb: bytes) -> list[list[str]]:
    """Every object of an R lazy-load .rdb that is a character vector (each: 4-byte size + zlib stream)."""
    vectors, position = [], 0
    while position < len(rdb):
        stream = zlib.decompressobj()
        blob = stream.decompress(rdb[position + 4:])
        position = len(rdb) - len(stream.unused_data)
        if blob[:2] != b"X\n":
            continue
        offset = 2
        version = struct.unpack(">i", blob[offset:offset + 4])[0]
        offset += 12
        if version == 3:  # native encoding name follows
            offset += 4 + struct.unpack(">i", blob[offset:offset + 4])[0]
        flags, length = struct.unpack(">ii", blob[offset:offset + 8])
        offset += 8
        if flags & 0xFF != 16:  # STRSXP
            continue
        lines = []
        for _ in range(length):
            size = struct.unpack(">ii", blob[offset:offset + 8])[1]
            offset += 8
            lines.append("" if size < 0 else blob[offset:offset + size].decode("utf-8"))
            offset += max(size, 0)
        vectors.append(lines)
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", required=True, help="names-0.3.0.tar.gz from PyPI")
    parser.add_argument("--austen", required=True, help="r-cran-janeaustenr_*.deb from Debian")
    args = parser.parse_args()
    with tarfile.open(args.names) as archive:
        for sex in ("female", "male"):
            member = archive.extractfile(f"names-0.3.0/names/dist.{sex}.first")
            write_gzip(os.path.join(CORPUS, f"dist.{sex}.first.gz"), member.read())
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["dpkg", "-x", args.austen, folder], check=True)
        with open(os.path.join(folder, RDB), "rb") as file:
            books = r_character_vectors(file.read())
    (pride,) = [lines for lines in books if lines and lines[0] == "PRIDE AND PREJUDICE"]
    text = "\n".join(pride) + "\n"
    cut = re.search(r"^Chapter 13$", text, flags=re.MULTILINE).start()
    write_gzip(os.path.join(CORPUS, "pride_and_prejudice_1-12.txt.gz"), (text[:cut].rstrip() + "\n").encode("ascii"))
    print(f"wrote the corpus files into {CORPUS}")


if __name__ == "__main__":
    main()
