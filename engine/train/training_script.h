#pragma once
// "Export training script": the job a user set up here, written as a ready-to-run Python script for Hugging Face's
// Trainer, so a job that outgrows this machine continues on a GPU or a cluster with the standard stack
// (`python3 train.py`, or `accelerate launch train.py` for several GPUs or machines). The script carries the same
// task, data paths, label map, hyper-parameters and seed; its job is one Python literal at the top (JOB = {...}),
// easy to read and to edit.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertscope {

struct TrainingJob {
  std::string task = "classification";  // classification | ner | qa | mlm (masked LM on the user's text)
  std::string model;                    // folder or Hub id, as given
  std::string revision;                 // a Hub id's branch, tag or commit (--revision); empty for a folder
  std::string train_file, validation_file;
  double validation_share = 0;          // no validation file: a share held out (classification: stratified; NER: seeded)
  std::string text_column = "text", label_column = "label";  // classification CSV columns (names, or 1-based numbers)
  std::string delimiter = ",";
  bool has_header = true;
  std::vector<std::string> labels;      // id order (id2label); classification and NER
  // Classification: the names config.json's id2label gets, in id order, when the user renamed the file's labels
  // (labels stay the values the file holds); empty: the labels themselves.
  std::vector<std::string> label_names;
  std::vector<std::string> text_files;  // mlm: UTF-8 text files, a paragraph a line (validation_share of them held out)
  std::string out = "bertscope-job-output";
  int epochs = 3, batch_size = 16, max_length = 128, doc_stride = 128;  // qa: max_length is run_qa's max_seq_length
  double learning_rate = 5e-5, warmup_ratio = 0.1, weight_decay = 0.01;
  unsigned seed = 0;
  int patience = 0;                     // early stopping on the validation score, keeping the best epoch (0: off;
                                        // mlm: on the validation loss)
};

// The job as the JSON object the script embeds.
nlohmann::json training_job_json(const TrainingJob& job);
// The script's text. Throws Error for an unknown task.
std::string training_script(const TrainingJob& job);
// A JSON value written as a Python literal (strings escaped ASCII-only, true/false/null as True/False/None).
std::string python_literal(const nlohmann::json& value, int indent = 0);

}  // namespace bertscope
