#!/usr/bin/env python3
"""Derives the built-in engine's lexicon from WordNet 3.0 (Debian's `wordnet-base`).

For every single-word noun and verb, the most common sense's hypernyms are walked upwards,
breadth first, until a synset that the engine can draw is reached ("astronaut" -> traveler ->
person). The anchors below name those synsets by lemma and sense number. WordNet's irregular
forms (men, geese, flew) are kept as `form -> lemma` lines so the reader can lemmatise them.

Output (crates/kinora-render/src/lexicon.tsv), one line each, sorted:
    word<TAB>label        label is `subject:dog`, `setting:lunar`, `weather:rain`, `motion:fly`
    form<TAB>=lemma       an irregular inflection and its lemma

Usage: python3 scripts/lexicon.py [/usr/share/wordnet] > crates/kinora-render/src/lexicon.tsv
"""

import sys
from collections import deque

WORDNET = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"

# (pos, lemma, sense number) -> label. Nearer anchors win, so specific ones (puppy -> dog)
# beat broad ones (animal).
ANCHORS = {
    ("n", "person", 1): "subject:person",
    ("n", "child", 1): "subject:child",
    ("n", "child", 2): "subject:child",
    ("n", "automaton", 2): "subject:robot",
    ("n", "dog", 1): "subject:dog",
    ("n", "canine", 2): "subject:dog",
    ("n", "fox", 1): "subject:fox",
    ("n", "wolf", 1): "subject:fox",
    ("n", "feline", 1): "subject:cat",
    ("n", "horse", 1): "subject:horse",
    ("n", "equine", 1): "subject:horse",
    ("n", "bovine", 1): "subject:cow",
    ("n", "ruminant", 1): "subject:cow",
    ("n", "leporid", 1): "subject:rabbit",
    ("n", "rodent", 1): "subject:rabbit",
    ("n", "elephant", 1): "subject:elephant",
    ("n", "proboscidean", 1): "subject:elephant",
    ("n", "bird", 1): "subject:bird",
    ("n", "fish", 1): "subject:fish",
    ("n", "aquatic mammal", 1): "subject:fish",
    ("n", "lepidopterous insect", 1): "subject:butterfly",
    ("n", "insect", 1): "subject:butterfly",
    ("n", "dragon", 2): "subject:dragon",
    ("n", "car", 1): "subject:car",
    ("n", "motor vehicle", 1): "subject:car",
    ("n", "bus", 1): "subject:bus",
    ("n", "truck", 1): "subject:truck",
    ("n", "bicycle", 1): "subject:bicycle",
    ("n", "wheeled vehicle", 1): "subject:bicycle",
    ("n", "boat", 1): "subject:boat",
    ("n", "ship", 1): "subject:boat",
    ("n", "vessel", 2): "subject:boat",
    ("n", "aircraft", 1): "subject:plane",
    ("n", "train", 1): "subject:train",
    ("n", "spacecraft", 1): "subject:rocket",
    ("n", "rocket", 2): "subject:rocket",
    ("n", "balloon", 1): "subject:balloon",
    ("n", "pot", 1): "subject:teapot",
    ("n", "ball", 1): "subject:ball",
    ("n", "umbrella", 1): "subject:umbrella",
    ("n", "kite", 3): "subject:kite",
    ("n", "house", 1): "subject:house",
    ("n", "dwelling", 1): "subject:house",
    ("n", "tree", 1): "subject:tree",
    ("n", "flower", 1): "subject:flower",
    ("n", "flower", 2): "subject:flower",
    ("n", "cactus", 1): "subject:cactus",
    ("n", "lighthouse", 1): "subject:lighthouse",
    ("n", "tower", 1): "subject:lighthouse",
    ("n", "beach", 1): "setting:beach",
    ("n", "shore", 1): "setting:beach",
    ("n", "forest", 1): "setting:forest",
    ("n", "city", 1): "setting:city",
    ("n", "municipality", 1): "setting:city",
    ("n", "thoroughfare", 1): "setting:city",
    ("n", "desert", 1): "setting:desert",
    ("n", "mountain", 1): "setting:mountains",
    ("n", "ocean", 1): "setting:ocean",
    ("n", "sea", 1): "setting:ocean",
    ("n", "outer space", 1): "setting:space",
    ("n", "celestial body", 1): "setting:space",
    ("n", "tundra", 1): "setting:snowfield",
    ("n", "field", 1): "setting:meadow",
    ("n", "grassland", 1): "setting:meadow",
    ("n", "garden", 1): "setting:meadow",
    ("n", "park", 2): "setting:meadow",
    ("n", "kitchen", 1): "setting:kitchen",
    ("n", "restaurant", 1): "setting:kitchen",
    ("n", "office", 1): "setting:office",
    ("n", "farm", 1): "setting:farm",
    ("n", "lake", 1): "setting:lake",
    ("n", "stream", 1): "setting:lake",
    ("n", "room", 1): "setting:room",
    ("n", "theater", 1): "setting:stage",
    ("n", "stage", 3): "setting:stage",
    ("n", "rain", 1): "weather:rain",
    ("n", "snow", 2): "weather:snow",
    ("n", "fog", 1): "weather:fog",
    ("n", "storm", 1): "weather:storm",
    ("n", "wind", 1): "weather:wind",
    ("n", "cloud", 2): "weather:cloudy",
    ("v", "walk", 1): "motion:walk",
    ("v", "run", 1): "motion:run",
    ("v", "jump", 1): "motion:jump",
    ("v", "fly", 1): "motion:fly",
    ("v", "swim", 1): "motion:swim",
    ("v", "drive", 1): "motion:drive",
    ("v", "ride", 2): "motion:drive",
    ("v", "dance", 1): "motion:dance",
    ("v", "rotate", 3): "motion:spin",
    ("v", "wave", 1): "motion:wave",
    ("v", "bounce", 1): "motion:bounce",
    ("v", "float", 1): "motion:float",
    ("v", "sleep", 1): "motion:sleep",
    ("v", "sit", 1): "motion:sit",
    ("v", "laugh", 1): "motion:laugh",
    ("v", "stand", 1): "motion:idle",
    ("v", "rest", 1): "motion:idle",
}

POS_FILES = {"n": "noun", "v": "verb"}

# Synsets that are instances (a named person, city, river). A name that is also a common word
# ("waters", "bell") would otherwise turn into a person; named places are kept, as settings.
INSTANCE = set()


def read_index(pos):
    """lemma -> synset offsets, most common sense first."""
    senses = {}
    with open(f"{WORDNET}/index.{POS_FILES[pos]}", encoding="latin-1") as f:
        for line in f:
            if line.startswith(" "):
                continue
            parts = line.split()
            lemma, p_cnt = parts[0], int(parts[3])
            synset_cnt = int(parts[2])
            offsets = parts[4 + p_cnt + 2 :]
            senses[lemma] = offsets[:synset_cnt]
    return senses


def read_hypernyms(pos):
    """offset -> hypernym offsets; instances (proper names) are kept apart in `INSTANCE`."""
    up = {}
    with open(f"{WORDNET}/data.{POS_FILES[pos]}", encoding="latin-1") as f:
        for line in f:
            if line.startswith(" "):
                continue
            parts = line.split()
            offset, w_cnt = parts[0], int(parts[3], 16)
            at = 4 + 2 * w_cnt
            p_cnt = int(parts[at])
            ptrs = parts[at + 1 : at + 1 + 4 * p_cnt]
            up[offset] = [
                ptrs[i + 1] for i in range(0, len(ptrs), 4) if ptrs[i] in ("@", "@i") and ptrs[i + 2] == pos
            ]
            if any(ptrs[i] == "@i" for i in range(0, len(ptrs), 4)):
                INSTANCE.add(offset)
    return up


def label_of(offset, up, anchors):
    seen, queue = {offset}, deque([offset])
    while queue:
        o = queue.popleft()
        if o in anchors:
            return anchors[o]
        for h in up.get(o, []):
            if h not in seen:
                seen.add(h)
                queue.append(h)
    return None


def main():
    table = {}
    for pos in ("n", "v"):
        index, up = read_index(pos), read_hypernyms(pos)
        anchors = {}
        for (p, lemma, sense), label in ANCHORS.items():
            if p == pos:
                offsets = index[lemma.replace(" ", "_")]
                anchors.setdefault(offsets[sense - 1], label)
        for lemma, offsets in index.items():
            if "_" in lemma or "-" in lemma or not lemma.isalpha() or lemma in table:
                continue
            label = label_of(offsets[0], up, anchors)
            if label and offsets[0] in INSTANCE and not label.startswith("setting:"):
                label = None
            if label:
                table[lemma] = label
        with open(f"{WORDNET}/{POS_FILES[pos]}.exc", encoding="latin-1") as f:
            for line in f:
                form, lemma = line.split()[:2]
                if form.isalpha() and lemma in table and form not in table:
                    table[form] = "=" + lemma
    print("# Derived from WordNet 3.0 by scripts/lexicon.py; see lexicon.LICENSE.")
    print("# WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.")
    for word in sorted(table):
        print(f"{word}\t{table[word]}")


main()
