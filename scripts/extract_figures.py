#!/usr/bin/env python3
"""Copies charts out of a `meanfield report` page into standalone SVG files (for docs).

For figures in a paper use `meanfield report DIR --figures OUT` instead: SVG, PNG, PDF and the
plotted data as CSV per figure, with an index (docs/reports.md, "Figures for papers").

    python3 scripts/extract_figures.py REPORT.html OUT_PREFIX [N ...]

Writes OUT_PREFIX-figN.svg for each figure number N (all figures if none is given) and prints the
caption of each, so a Markdown page can show the plot with its caption. Standard library only.
"""
import html
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    page = open(sys.argv[1], encoding="utf-8").read()
    wanted = {int(n) for n in sys.argv[3:]}
    figures = re.findall(r'(<svg [^>]*id="fig-(\d+)".*?</svg>)(.*?)(?=<svg |\Z)', page, flags=re.S)
    if not figures:
        sys.exit(f"{sys.argv[1]}: no figures (is it a meanfield report?)")
    for svg, number, after in figures:
        if wanted and int(number) not in wanted:
            continue
        path = f"{sys.argv[2]}-fig{number}.svg"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n")
        caption = re.search(r"<figcaption>(.*?)</figcaption>", after, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", caption.group(1))).strip() if caption else ""
        print(f"{path}: {text}")


if __name__ == "__main__":
    main()
