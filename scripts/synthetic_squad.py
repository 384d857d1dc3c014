"""synthetic_squad.py OUT_DIR [--train N --validation N --test N --known-values --unanswerable SHARE --seed S]
A SYNTHETIC extractive question-answering set in SQuAD's JSON format (not real text) for trying
`bertscope-cli train --task qa`: each context is a short made-up biography of two people, 3 to 5 facts (where
someone lives, works, was born, what they play, their dog's name, their favourite colour) in random order with a
filler sentence or two, and one question per fact, whose answer is that fact's value. Every name and value comes from
the lists below. The test split shares nothing with training but the six relations: its sentence and question
templates (the last of each relation's lists) and every 5th name, city, company, year, instrument, dog name and
colour (of each sorted list) are held out. Validation uses the training templates with the held-out names, so its
score says how well a model reads new names in known sentences, and the test's how well it reads new sentences too.
--known-values keeps the held-out people and templates in the test split but takes its answers from the training
lists, for models trained from scratch, which cannot tell what a word they never saw is. --unanswerable SHARE adds
that share of questions about a relation the context does not state (SQuAD v2.0: empty answers, "is_impossible":
true). N counts contexts (each gives 3 to 5 questions). Writes synthetic-squad-{train,validation,test}.json. Data
preparation only: any python3 runs it."""
import argparse, json, os, random

# Each relation: (context templates, question templates, value pool). {P} is a person, {V} the value (the answer).
# The last template of each list is held out for the test split.
RELATIONS = {
    "lives": (["{P} lives in {V}.", "{P} has a small flat in {V}.", "{P} moved to {V} last year.",
               "These days {P} lives in {V}.", "For many years now {P} has lived in {V}."],
              ["Where does {P} live?", "Which city does {P} live in?", "What city is {P}'s home?",
               "In what city is {P} living?"], "city"),
    "works": (["{P} works for {V}.", "{P} has a job at {V}.", "{P} is employed by {V}.", "Last year {P} joined {V}.",
               "Every morning {P} goes to work at {V}."],
              ["Who does {P} work for?", "Which company employs {P}?", "Where does {P} have a job?",
               "What company does {P} work for?"], "company"),
    "born": (["{P} was born in {V}.", "{P} was born in the year {V}.", "{P}'s birth year is {V}.", "In {V}, {P} was born.",
              "Records show that {P} was born in {V}."],
             ["When was {P} born?", "In which year was {P} born?", "What is {P}'s year of birth?",
              "What year was {P} born in?"], "year"),
    "plays": (["{P} plays the {V}.", "{P} has played the {V} since school.", "{P} is learning the {V}.",
               "In a band, {P} plays the {V}.", "On weekends {P} likes to play the {V}."],
              ["What instrument does {P} play?", "Which instrument does {P} play?", "Which instrument is played by {P}?",
               "What does {P} play?"], "instrument"),
    "dog": (["{P} has a dog called {V}.", "{P} owns a dog named {V}.", "{P}'s dog is called {V}.",
             "A dog named {V} lives with {P}.", "{P} walks a dog called {V} every evening."],
            ["What is the name of {P}'s dog?", "What is {P}'s dog called?", "What is the dog of {P} called?",
             "What did {P} name the dog?"], "dog"),
    "colour": (["{P}'s favourite colour is {V}.", "{P} likes the colour {V} best.", "The colour {P} loves most is {V}.",
                "{P} paints everything {V}.", "Of all colours, {P} prefers {V}."],
               ["What is {P}'s favourite colour?", "Which colour does {P} like best?", "What colour does {P} love most?",
                "What colour does {P} prefer?"], "colour"),
}
FILLERS = ["It was a quiet week.", "The weather was mild that spring.", "Nobody remembers exactly why.",
           "The town had changed a lot.", "Friends say they are easy to get along with.", "The rest is a long story."]
PEOPLE = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Grace", "Henry", "Iris", "Jack", "Kate", "Liam", "Maria",
          "Noah", "Olivia", "Peter", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Xena", "Yusuf", "Zoë",
          "Alice", "Bruno", "Clara", "Daniel", "Elena", "Frank", "Greta", "Hugo", "Ingrid", "José", "Karl", "Laura",
          "Martin", "Nina", "Oscar", "Paula", "Rafael", "Sofia", "Thomas", "Ursula", "Victor", "Wendy", "Aaron",
          "Bella", "Carlos", "Diana", "Erik", "Fiona", "George", "Hannah", "Ivan", "Julia", "Kevin", "Lucy", "Mohammed",
          "Nora", "Otto", "Priya", "Ruth", "Søren", "Tom", "Uma", "Vincent", "Yara", "Adam", "Bianca", "Colin",
          "Dora", "Ethan", "Freya", "Gavin", "Helen", "Isaac", "Jasmine", "Kenji", "Leah", "Mark", "Naomi", "Owen",
          "Pablo", "Rita", "Simon", "Tess", "Ulrich", "Viola", "Walter", "Xavier", "Yvonne", "Zack"]
VALUES = {
    "city": ["Oslo", "Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Prague", "Warsaw", "Dublin", "London",
             "Boston", "Chicago", "Denver", "Seattle", "Toronto", "Montreal", "Sydney", "Melbourne", "Tokyo", "Osaka",
             "Seoul", "Delhi", "Mumbai", "Cairo", "Nairobi", "Lagos", "Lima", "Santiago", "Bogotá", "Havana", "Athens",
             "Istanbul", "Helsinki", "Stockholm", "Copenhagen", "Brussels", "Amsterdam", "Zurich", "Geneva", "Munich",
             "Hamburg", "Milan", "Naples", "Porto", "Seville", "Krakow", "Budapest", "Bucharest", "Sofia",
             "New York", "Los Angeles", "San Francisco", "Buenos Aires", "Cape Town", "Mexico City", "Hong Kong",
             "Rio de Janeiro", "Kuala Lumpur", "Tel Aviv"],
    "company": [a + " " + b for a in ["Acme", "Globex", "Initech", "Northwind", "Summit", "Pioneer", "Harbor", "Granite",
                                      "Orchard", "Redwood", "Lakeside", "Beacon", "Atlas", "Cobalt", "Evergreen",
                                      "Union", "Maple", "Crescent", "Falcon", "Prairie", "Horizon", "Sterling",
                                      "Silverline", "Bluewater", "Ironwood"]
                for b in ["Bank", "Foods", "Motors", "Labs", "Energy", "Media", "Press", "Steel"]],
    "year": [str(y) for y in range(1920, 2010)],
    "instrument": ["piano", "violin", "cello", "guitar", "flute", "trumpet", "drums", "harp", "clarinet", "saxophone",
                   "trombone", "oboe", "banjo", "accordion", "organ", "bass guitar", "double bass", "French horn",
                   "ukulele", "mandolin"],
    "dog": ["Rex", "Max", "Bella", "Buddy", "Daisy", "Rocky", "Luna", "Charlie", "Bailey", "Toby", "Molly", "Rusty",
            "Shadow", "Pepper", "Biscuit", "Ziggy", "Otis", "Maple", "Scout", "Waffles", "Pickles", "Barkley",
            "Noodle", "Comet", "Snowball", "Peanut", "Marley", "Bruno", "Gizmo", "Tank"],
    "colour": ["red", "blue", "green", "yellow", "purple", "orange", "pink", "black", "white", "grey", "brown",
               "teal", "navy blue", "dark green", "light blue"],
}


def held_out(items):
    """(training, held out): every 5th of the sorted list is held out"""
    items = sorted(set(items))
    return [x for i, x in enumerate(items) if i % 5 != 4], [x for i, x in enumerate(items) if i % 5 == 4]


def context_and_questions(rng, pools, templates, share_unanswerable, serial):
    """one paragraph: its context and questions in SQuAD's layout"""
    people = rng.sample(pools["person"], 2)
    relations = rng.sample(sorted(RELATIONS), rng.randint(3, 5))
    facts = [(r, rng.choice(people), rng.choice(pools[RELATIONS[r][2]])) for r in relations]
    sentences = [(r, p, v, rng.choice(templates[r][0])) for r, p, v in facts]
    sentences += [(None, None, None, f) for f in rng.sample(FILLERS, rng.randint(0, 2))]
    rng.shuffle(sentences)
    context, answers = "", {}
    for relation, person, value, template in sentences:
        if context: context += " "
        if relation is None:
            context += template
            continue
        before = template.split("{V}")[0].replace("{P}", person)
        answers[relation] = (person, value, len(context) + len(before))  # answer_start: a code-point index
        context += template.replace("{P}", person).replace("{V}", value)
    qas = []
    for relation, (person, value, start) in sorted(answers.items(), key=lambda kv: kv[1][2]):
        assert context[start:start + len(value)] == value
        question = rng.choice(templates[relation][1]).replace("{P}", person)
        qas.append({"id": f"{serial}-{relation}", "question": question, "answers": [{"text": value, "answer_start": start}]})
    # Questions about relations the context never states, each asked with a chance that makes them about
    # share_unanswerable of all questions.
    missing = sorted(set(RELATIONS) - set(answers))
    chance = share_unanswerable * len(qas) / ((1 - share_unanswerable) * max(1, len(missing)))
    for relation in missing:
        if rng.random() < chance:
            question = rng.choice(templates[relation][1]).replace("{P}", rng.choice(people))
            qas.append({"id": f"{serial}-{relation}-none", "question": question, "answers": [], "is_impossible": True})
    return {"context": context, "qas": qas}


def write(path, paragraphs, v2):
    data = {"version": "v2.0" if v2 else "v1.1",
            "data": [{"title": "synthetic", "paragraphs": paragraphs}]}
    if not v2:
        for p in paragraphs:
            for q in p["qas"]: q.pop("is_impossible", None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=1500, help="contexts")
    ap.add_argument("--validation", type=int, default=150)
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--unanswerable", type=float, default=0.0, help="share of unanswerable questions (SQuAD v2.0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--known-values", action="store_true",
                    help="the test split's answers from the training lists (its people and templates still held out)")
    a = ap.parse_args()
    if not 0 <= a.unanswerable < 1: ap.error("--unanswerable must be in [0, 1)")
    train_pools, test_pools = {}, {}
    for key, items in [("person", PEOPLE)] + sorted(VALUES.items()):
        train_pools[key], test_pools[key] = held_out(items)
    train_templates = {r: (c[:-1], q[:-1]) for r, (c, q, _) in RELATIONS.items()}
    test_templates = {r: (c[-1:], q[-1:]) for r, (c, q, _) in RELATIONS.items()}
    known_values = dict(train_pools, person=test_pools["person"])
    rng = random.Random(a.seed)
    splits = {"train": (a.train, train_pools, train_templates), "validation": (a.validation, test_pools, train_templates),
              "test": (a.test, known_values if a.known_values else test_pools, test_templates)}
    os.makedirs(a.out_dir, exist_ok=True)
    counts = {}
    for name, (n, pools, templates) in splits.items():
        paragraphs = [context_and_questions(rng, pools, templates, a.unanswerable, f"{name}-{i}") for i in range(n)]
        write(os.path.join(a.out_dir, f"synthetic-squad-{name}.json"), paragraphs, a.unanswerable > 0)
        counts[name] = (n, sum(len(p["qas"]) for p in paragraphs),
                        sum(1 for p in paragraphs for q in p["qas"] if not q["answers"]))
    print("synthetic SQuAD" + (" v2.0" if a.unanswerable > 0 else " v1.1") + ": " +
          ", ".join(f"{name} {c} contexts / {q} questions" + (f" ({u} unanswerable)" if u else "")
                    for name, (c, q, u) in counts.items()) +
          f"; test: held-out templates, {len(test_pools['person'])} held-out people, " +
          ("answers from the training lists" if a.known_values else
           f"{len(test_pools['city'])} held-out cities, {len(test_pools['company'])} companies, ..."))


if __name__ == "__main__":
    main()
