#include "train/training_script.h"

#include <cstdio>

#include "core/error.h"
#include "text/unicode.h"

#ifndef BERTSCOPE_VERSION
#define BERTSCOPE_VERSION "unknown"
#endif

namespace bertscope {
namespace {

// The script's code after the JOB literal: readers for the four kinds of data (plain Python, importable without
// transformers), then main(), which needs transformers, datasets and (for NER scores) seqeval.
constexpr const char* kScriptBody = R"PY(

def read_classification(path, job):
    """Rows of (text, label name) from a CSV/TSV file, columns by name (with a header) or 1-based number."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=job["delimiter"]))
    if job["has_header"]:
        header, rows = rows[0], rows[1:]
        text_at, label_at = header.index(job["text_column"]), header.index(job["label_column"])
    else:
        text_at, label_at = int(job["text_column"]) - 1, int(job["label_column"]) - 1
    return [(r[text_at], r[label_at].strip()) for r in rows if len(r) > max(text_at, label_at) and r[text_at].strip()]


def read_tagged(path):
    """Sentences of (words, tags) from a CoNLL file (word ... tag per line) or JSON lines {"tokens", "ner_tags"};
    IOB1 tags read as IOB2, as bertscope does."""
    sentences = []
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        for line in text.splitlines():
            if line.strip():
                j = json.loads(line)
                sentences.append((list(j["tokens"]), list(j["ner_tags"])))
    else:
        words, tags = [], []
        for line in text.splitlines() + [""]:
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            words.append(columns[0])
            tags.append(columns[-1])
    for _, tags in sentences:
        for i, tag in enumerate(tags):
            continues = i > 0 and tags[i - 1][2:] == tag[2:] and tags[i - 1][:2] in ("B-", "I-")
            if tag.startswith("I-") and not continues:
                tags[i] = "B-" + tag[2:]
    return [s for s in sentences if s[0]]


def read_squad(path):
    """Questions as Hugging Face datasets hold them, from SQuAD JSON (v1.1 or v2.0) or JSON lines."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("data"), list):
        out = []
        for article in whole["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                    out.append({"id": qa["id"], "question": qa["question"], "context": paragraph["context"],
                                "answers": {"text": [a["text"] for a in answers],
                                            "answer_start": [a["answer_start"] for a in answers]}})
        return out
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_paragraphs(paths):
    """Every non-blank line of the text files, stripped, in order: a paragraph each, as bertscope reads them."""
    paragraphs = []
    for path in paths:
        with open(path, encoding="utf-8-sig") as f:
            paragraphs += [line.strip() for line in f.read().split("\n") if line.strip()]
    return paragraphs


def split_validation(rows, label_of, share, seed):
    """A seeded, stratified share of the rows held out, as bertscope's --validation 0.2 does (not the same rows)."""
    by_label = {}
    for i, row in enumerate(rows):
        by_label.setdefault(label_of(row), []).append(i)
    generator = random.Random(seed)
    held = set()
    for indices in by_label.values():
        generator.shuffle(indices)
        held.update(indices[:int(share * len(indices))])
    return [r for i, r in enumerate(rows) if i not in held], [r for i, r in enumerate(rows) if i in held]


def pretrained_options(job):
    """from_pretrained's options: the Hub revision (branch, tag or commit) the job read, when it names one."""
    return {"revision": job["revision"]} if job.get("revision") else {}


def main():
    import numpy as np
    from datasets import Dataset
    from transformers import (AutoModelForMaskedLM, AutoModelForQuestionAnswering, AutoModelForSequenceClassification,
                              AutoModelForTokenClassification, AutoTokenizer, DataCollatorForLanguageModeling,
                              DataCollatorForTokenClassification, DataCollatorWithPadding, EarlyStoppingCallback,
                              Trainer, TrainingArguments, default_data_collator, set_seed)

    job = JOB
    if os.path.isdir(job["out"]) and os.listdir(job["out"]):
        sys.exit("%s already exists and is not empty; choose another JOB['out']" % job["out"])
    set_seed(job["seed"])
    hub = pretrained_options(job)
    tokenizer = AutoTokenizer.from_pretrained(job["model"], **hub)
    labels = job["labels"]
    label_ids = {name: i for i, name in enumerate(labels)}  # the file's labels
    names = job.get("label_names") or labels  # what config.json calls them
    extra = {"num_labels": len(labels), "id2label": dict(enumerate(names)),
             "label2id": {name: i for i, name in enumerate(names)}}
    compute_metrics, collator = None, DataCollatorWithPadding(tokenizer)

    if job["task"] == "classification":
        rows = read_classification(job["train_file"], job)
        if job["validation_file"]:
            validation = read_classification(job["validation_file"], job)
        elif job["validation_share"] > 0:
            rows, validation = split_validation(rows, lambda r: r[1], job["validation_share"], job["seed"])
        else:
            validation = []

        def encode(pairs):
            features = tokenizer([t for t, _ in pairs], truncation=True, max_length=job["max_length"])
            return Dataset.from_dict(dict(features, labels=[label_ids[l] for _, l in pairs]))

        model = AutoModelForSequenceClassification.from_pretrained(job["model"], **hub, **extra)

        def compute_metrics(p):
            return {"accuracy": float((np.argmax(p.predictions, axis=-1) == p.label_ids).mean())}

    elif job["task"] == "ner":
        rows = read_tagged(job["train_file"])
        if job["validation_file"]:
            validation = read_tagged(job["validation_file"])
        elif job["validation_share"] > 0:  # a seeded share of the sentences (not the ones bertscope held out)
            rows, validation = split_validation(rows, lambda r: "", job["validation_share"], job["seed"])
        else:
            validation = []

        def encode(sentences):  # run_ner: the first piece of a word gets its tag, the others -100
            features = tokenizer([w for w, _ in sentences], is_split_into_words=True, truncation=True,
                                 max_length=job["max_length"])
            all_labels = []
            for i, (_, tags) in enumerate(sentences):
                previous, labels_i = None, []
                for word in features.word_ids(i):
                    labels_i.append(-100 if word is None or word == previous else label_ids[tags[word]])
                    previous = word
                all_labels.append(labels_i)
            return Dataset.from_dict(dict(features, labels=all_labels))

        model = AutoModelForTokenClassification.from_pretrained(job["model"], **hub, **extra)
        collator = DataCollatorForTokenClassification(tokenizer)

        def compute_metrics(p):
            from seqeval.metrics import accuracy_score, f1_score
            from seqeval.scheme import IOB2
            truth, predicted = [], []
            for logits, gold in zip(np.argmax(p.predictions, axis=-1), p.label_ids):
                kept = [(labels[g], labels[q]) for g, q in zip(gold, logits) if g != -100]
                truth.append([g for g, _ in kept])
                predicted.append([q for _, q in kept])
            return {"f1": f1_score(truth, predicted, mode="strict", scheme=IOB2),
                    "accuracy": accuracy_score(truth, predicted)}

    elif job["task"] == "qa":
        rows = read_squad(job["train_file"])
        validation = []  # answers are scored after training: bertscope-cli evaluate OUT --task qa --data FILE

        def encode(questions):  # run_qa's prepare_train_features
            pad_on_right = tokenizer.padding_side == "right"
            features = tokenizer([q["question"].lstrip() for q in questions], [q["context"] for q in questions],
                                 truncation="only_second", max_length=job["max_length"], stride=job["doc_stride"],
                                 return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")
            starts, ends = [], []
            for i, offsets in enumerate(features["offset_mapping"]):
                cls = features["input_ids"][i].index(tokenizer.cls_token_id)
                sequence = features.sequence_ids(i)
                answers = questions[features["overflow_to_sample_mapping"][i]]["answers"]
                start, end = cls, cls
                if answers["answer_start"]:
                    first_char = answers["answer_start"][0]
                    last_char = first_char + len(answers["text"][0])
                    context = [k for k, s in enumerate(sequence) if s == (1 if pad_on_right else 0)]
                    if offsets[context[0]][0] <= first_char and offsets[context[-1]][1] >= last_char:
                        start = max(k for k in context if offsets[k][0] <= first_char)
                        end = min(k for k in context if offsets[k][1] >= last_char)
                starts.append(start)
                ends.append(end)
            features.pop("offset_mapping")
            features.pop("overflow_to_sample_mapping")
            return Dataset.from_dict(dict(features, start_positions=starts, end_positions=ends))

        model = AutoModelForQuestionAnswering.from_pretrained(job["model"], **hub)
        collator = default_data_collator

    elif job["task"] == "mlm":  # continued pre-training, as run_mlm --line_by_line: a paragraph per sequence
        rows = read_paragraphs(job["text_files"])
        validation = []
        if job["validation_share"] > 0:  # a seeded share of the paragraphs (not the ones bertscope held out)
            rows, validation = split_validation(rows, lambda r: "", job["validation_share"], job["seed"])

        def encode(paragraphs):
            features = tokenizer(paragraphs, truncation=True, max_length=job["max_length"],
                                 return_special_tokens_mask=True)
            return Dataset.from_dict(dict(features))

        model = AutoModelForMaskedLM.from_pretrained(job["model"], **hub)
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)  # BERT's 15%, 80/10/10
        compute_metrics = None  # validation reports the masked tokens' loss
    else:
        sys.exit("unknown task %r" % job["task"])

    arguments = dict(output_dir=job["out"] + "-checkpoints", num_train_epochs=job["epochs"],
                     per_device_train_batch_size=job["batch_size"], per_device_eval_batch_size=job["batch_size"],
                     learning_rate=job["learning_rate"], warmup_ratio=job["warmup_ratio"],
                     weight_decay=job["weight_decay"], seed=job["seed"], save_strategy="epoch", logging_steps=10,
                     report_to="none")
    if validation:  # the option's name changed in transformers 4.41
        accepted = inspect.signature(TrainingArguments.__init__).parameters
        arguments["eval_strategy" if "eval_strategy" in accepted else "evaluation_strategy"] = "epoch"
    callbacks = []
    if validation and job["patience"] > 0:  # early stopping, ending with the best epoch's weights, as bertscope does
        if job["task"] == "mlm":
            arguments.update(load_best_model_at_end=True, greater_is_better=False, metric_for_best_model="loss")
        else:
            arguments.update(load_best_model_at_end=True, greater_is_better=True,
                             metric_for_best_model="f1" if job["task"] == "ner" else "accuracy")
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=job["patience"]))
    trainer = Trainer(model=model, args=TrainingArguments(**arguments), train_dataset=encode(rows),
                      eval_dataset=encode(validation) if validation else None, data_collator=collator,
                      compute_metrics=compute_metrics if validation else None, callbacks=callbacks)
    trainer.train()
    trainer.save_model(job["out"])
    tokenizer.save_pretrained(job["out"])
    print("saved to %s; open it in bertscope" % job["out"])


if __name__ == "__main__":
    main()
)PY";

void append_string_literal(std::string& out, const std::string& s) {
  out += '"';
  // Written with \u / \U escapes, so the script is ASCII and any text survives.
  for (const char32_t c : unicode::decode_utf8(s)) {
    char buffer[16];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else if (c <= 0xFFFF) {
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
      out += buffer;
    } else {
      std::snprintf(buffer, sizeof buffer, "\\U%08x", static_cast<unsigned>(c));
      out += buffer;
    }
  }
  out += '"';
}

void append_literal(std::string& out, const nlohmann::json& v, int indent, int depth) {
  const std::string pad(static_cast<size_t>(indent * (depth + 1)), ' '), close(static_cast<size_t>(indent * depth), ' ');
  const char* newline = indent > 0 ? "\n" : "";
  switch (v.type()) {
    case nlohmann::json::value_t::null: out += "None"; break;
    case nlohmann::json::value_t::boolean: out += v.get<bool>() ? "True" : "False"; break;
    case nlohmann::json::value_t::string: append_string_literal(out, v.get<std::string>()); break;
    case nlohmann::json::value_t::array: {
      out += "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        append_literal(out, v[i], 0, 0);  // lists on one line
      }
      out += "]";
      break;
    }
    case nlohmann::json::value_t::object: {
      out += "{";
      out += newline;
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        if (!first) out += std::string(",") + (indent > 0 ? "\n" : " ");
        first = false;
        out += pad;
        append_string_literal(out, key);
        out += ": ";
        append_literal(out, value, indent, depth + 1);
      }
      out += newline + close + "}";
      break;
    }
    default: out += v.dump(); break;  // numbers: JSON's spelling is Python's
  }
}

}  // namespace

std::string python_literal(const nlohmann::json& value, int indent) {
  std::string out;
  append_literal(out, value, indent, 0);
  return out;
}

nlohmann::json training_job_json(const TrainingJob& job) {
  return {{"task", job.task},
          {"model", job.model},
          {"revision", job.revision},
          {"train_file", job.train_file},
          {"validation_file", job.validation_file},
          {"validation_share", job.validation_share},
          {"text_column", job.text_column},
          {"label_column", job.label_column},
          {"delimiter", job.delimiter},
          {"has_header", job.has_header},
          {"labels", job.labels},
          {"label_names", job.label_names},
          {"text_files", job.text_files},
          {"out", job.out},
          {"epochs", job.epochs},
          {"batch_size", job.batch_size},
          {"max_length", job.max_length},
          {"doc_stride", job.doc_stride},
          {"learning_rate", job.learning_rate},
          {"warmup_ratio", job.warmup_ratio},
          {"weight_decay", job.weight_decay},
          {"seed", job.seed},
          {"patience", job.patience}};
}

std::string training_script(const TrainingJob& job) {
  if (job.task != "classification" && job.task != "ner" && job.task != "qa" && job.task != "mlm")
    throw Error("no training script for the task \"" + job.task + "\" (classification, ner, qa or mlm)");
  std::string s = "#!/usr/bin/env python3\n";
  s += std::string("# A ") + (job.task == "mlm" ? "masked-LM (continued pre-training)" : "fine-tuning") +
       " job exported by bertscope " BERTSCOPE_VERSION ": " + job.task + " on " + job.model + ".\n";
  s += "# It trains the same model on the same data with the same settings, using Hugging Face's Trainer.\n"
       "#\n"
       "# With Python 3.9 or later (a GPU makes it fast; the CPU works too):\n"
       "#     pip install 'transformers>=4.30' datasets accelerate seqeval\n"
       "#     python3 train.py                                   # one GPU, or the CPU\n"
       "#     accelerate config && accelerate launch train.py    # several GPUs or machines\n"
       "# Copy the data files along and fix their paths in JOB if they move. The model is saved to JOB[\"out\"] in\n"
       "# Hugging Face's layout, which bertscope opens. Results differ a little from bertscope's run (other kernels,\n"
       "# another shuffling order).\n"
       "import csv\nimport inspect\nimport json\nimport os\nimport random\nimport sys\n\n";
  s += "JOB = " + python_literal(training_job_json(job), 4) + "\n";
  s += kScriptBody;
  return s;
}

}  // namespace bertscope
