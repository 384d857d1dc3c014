// The GPU self-check and GPU failures, on lavapipe with faults injected (BERTSCOPE_FAULT_INJECT): the check passes
// on a healthy device and catches a wrong result from any one kernel; `auto` then runs on the CPU and says why; the
// verdict is remembered per device and driver (a second open does not check again); `--backend vulkan` still uses
// a device that failed, with a warning; VK_ERROR_DEVICE_LOST and VK_ERROR_OUT_OF_DEVICE_MEMORY mid-job give a clear
// error, and the model works again on the CPU (the CLI with --backend auto retries there by itself).
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "backend_choice.h"
#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "gpu/fault_injection.h"
#include "gpu/self_check.h"
#include "gpu/vulkan_backend.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// Sets BERTSCOPE_FAULT_INJECT for one scope (faults are read when a VulkanBackend is created).
struct Faults {
  explicit Faults(const char* spec) { qputenv("BERTSCOPE_FAULT_INJECT", spec); }
  ~Faults() { qunsetenv("BERTSCOPE_FAULT_INJECT"); }
};

const char* const kKernels[] = {"embed", "layer_norm", "linear", "attention_probs", "attention_context", "gather_rows",
                                "matmul", "elementwise", "layer_norm_backward", "column_sums", "softmax_backward",
                                "embed_backward", "scatter_add_rows", "cross_entropy", "sum_squares", "adamw",
                                "scale_heads"};

struct CliRun {
  int code = -1;
  QString out, err;
};

}  // namespace

class TestGpuSelfCheck : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path model_;
  int stores_ = 0;

  // A fresh verdict store in the temp folder (a "temp settings location").
  std::shared_ptr<FileVerdictStore> freshStore() {
    return std::make_shared<FileVerdictStore>(fs::path(dir_.path().toStdString()) / ("store" + std::to_string(++stores_)) / "verdicts.json");
  }
  // auto, with lavapipe treated as a GPU (so the self-check applies), validation on.
  static BackendRequest autoOnLavapipe(std::shared_ptr<GpuVerdictStore> store) {
    BackendRequest r{BackendKind::Auto, -1, true};
    r.check_software = true;
    r.verdicts = std::move(store);
    return r;
  }
  CliRun cli(const QStringList& args, const QString& xdg_config, const QString& faults = {}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("XDG_CONFIG_HOME", xdg_config);
    env.insert("BERTSCOPE_SELF_CHECK_SOFTWARE", "1");
    if (!faults.isEmpty()) env.insert("BERTSCOPE_FAULT_INJECT", faults);
    p.setProcessEnvironment(env);
    p.start(BERTSCOPE_CLI, args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
  }

 private slots:
  void initTestCase() {
    qunsetenv("BERTSCOPE_FAULT_INJECT");
    qunsetenv("BERTSCOPE_SELF_CHECK_SOFTWARE");
    QString why;
    if (!test::vulkan_backend(&why)) QSKIP(qPrintable(why));
    QVERIFY(dir_.isValid());
    try {  // needs the source tree's vocabulary; a lent GPU machine may run only the model-free cases
      RandomModelSpec spec = test::tiny_model_spec(dir_);
      spec.layers = 2;
      spec.init_std = 0.5f;
      model_ = fs::path(dir_.path().toStdString()) / "tiny";
      write_random_model(model_, spec);
    } catch (const std::exception& e) {
      qWarning("no tiny model (%s): the cases that need one skip", e.what());
      model_.clear();
    }
  }
  void init() {
    const QString name = QTest::currentTestFunction();
    if (model_.empty() && (name.contains("Inference") || name.contains("commandLine") || name.contains("FallBackToTheCpu")))
      QSKIP("no tiny model");
  }

  void faultSpecificationsAreParsedOrRefused() {
    const auto f = gpu::FaultInjection::parse("perturb:linear,device_lost:3");
    QCOMPARE(QString::fromStdString(f.perturb_kernel), QStringLiteral("linear"));
    QCOMPARE(f.submit_error, VK_ERROR_DEVICE_LOST);
    QCOMPARE(f.submission_result(2), VK_SUCCESS);
    QCOMPARE(f.submission_result(3), VK_ERROR_DEVICE_LOST);
    QCOMPARE(gpu::FaultInjection::parse("oom").submission_result(0), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    QVERIFY(!gpu::FaultInjection::parse("").active());
    for (const char* bad : {"bogus", "perturb", "device_lost:x", "oom:-1"}) {
      try {
        gpu::FaultInjection::parse(bad);
        QFAIL(bad);
      } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("BERTSCOPE_FAULT_INJECT"), e.what());
      }
    }
    Faults faults("perturb:no_such_kernel");
    try {
      gpu::VulkanBackend vulkan(-1, false);
      QFAIL("an unknown kernel was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("no_such_kernel") && QString(e.what()).contains("attention_probs"), e.what());
    }
  }

  void selfCheckPassesOnAHealthyDevice() {
    gpu::VulkanBackend vulkan(-1, /*validation=*/true);
    CpuBackend cpu;
    const gpu::SelfCheckResult r = gpu::run_self_check(vulkan, cpu);
    qInfo("self-check on %s: %d outputs, largest normalised error %.2e (%s), %.1f ms", vulkan.name().c_str(), r.outputs,
          r.max_error, r.worst_output.c_str(), r.ms);
    QVERIFY2(r.passed, r.reason.c_str());
    QVERIFY(r.outputs >= 40);
    QVERIFY(r.max_error < gpu::kSelfCheckTolerance / 10);  // a margin of 10x below the tolerance
    QCOMPARE(test::validation_messages(vulkan), 0);
  }

  // The check must notice a wrong result from any one kernel, forward or training.
  void everyPerturbedKernelIsCaught_data() {
    QTest::addColumn<QString>("kernel");
    for (const char* k : kKernels) QTest::newRow(k) << QString(k);
  }
  void everyPerturbedKernelIsCaught() {
    QFETCH(QString, kernel);
    Faults faults(("perturb:" + kernel).toUtf8().constData());
    gpu::VulkanBackend vulkan(-1, /*validation=*/true);
    CpuBackend cpu;
    const gpu::SelfCheckResult r = gpu::run_self_check(vulkan, cpu);
    QVERIFY2(!r.passed, qPrintable(kernel));
    QVERIFY2(QString::fromStdString(r.reason).contains("differ from the CPU's"), r.reason.c_str());
    QCOMPARE(test::validation_messages(vulkan), 0);  // the injected writes are properly synchronised
  }

  void autoUsesAHealthyDeviceAfterTheCheck() {
    auto store = freshStore();
    BackendChoice c = choose_backend(autoOnLavapipe(store));
    QVERIFY(c.backend->is_gpu());
    QCOMPARE(c.self_check, SelfCheckRun::Ran);
    QVERIFY(c.warning.empty());
    QVERIFY2(QString::fromStdString(c.note).contains("passed"), c.note.c_str());
    QVERIFY(fs::exists(store->file()));
    QVERIFY(store->find(c.device_key).value().passed);
  }

  void perturbedKernelMakesAutoFallBackToTheCpu() {
    auto store = freshStore();
    Faults faults("perturb:attention_probs");
    BackendChoice c = choose_backend(autoOnLavapipe(store));
    QVERIFY(!c.backend->is_gpu());
    QCOMPARE(c.self_check, SelfCheckRun::Ran);
    const QString warning = QString::fromStdString(c.warning);
    QVERIFY2(warning.contains("failed bertscope's GPU self-check") && warning.contains("attention probabilities") &&
                 warning.contains("running on the CPU"), qPrintable(warning));
    const auto verdict = store->find(c.device_key);
    QVERIFY(verdict && !verdict->passed);
    // The same through a Session: the model info carries the warning (what the CLI prints and the GUI shows).
    Session session(model_, autoOnLavapipe(freshStore()));
    QVERIFY(!session.backend().is_gpu());
    QVERIFY(QString::fromStdString(session.info().backend_warning).contains("self-check"));
    QCOMPARE(QString::fromStdString(session.info().self_check), QStringLiteral("failed"));
  }

  void verdictIsRememberedPerDeviceAndDriver() {
    // A pass is remembered: a second open with a broken kernel does not check again, so it stays on the device.
    auto good = freshStore();
    QCOMPARE(choose_backend(autoOnLavapipe(good)).self_check, SelfCheckRun::Ran);
    {
      Faults faults("perturb:linear");
      BackendChoice again = choose_backend(autoOnLavapipe(good));
      QCOMPARE(again.self_check, SelfCheckRun::Remembered);
      QVERIFY(again.backend->is_gpu());
    }
    // A failure is remembered: the healthy device is not used by auto again, and the warning says when it failed.
    auto bad = freshStore();
    {
      Faults faults("perturb:linear");
      QCOMPARE(choose_backend(autoOnLavapipe(bad)).self_check, SelfCheckRun::Ran);
    }
    BackendChoice later = choose_backend(autoOnLavapipe(bad));
    QCOMPARE(later.self_check, SelfCheckRun::Remembered);
    QVERIFY(!later.backend->is_gpu());
    QVERIFY2(QString::fromStdString(later.warning).contains(" UTC ("), later.warning.c_str());
    // The key names the device and its driver; another driver version would be a new key (checked again).
    gpu::VulkanDeviceInfo info = gpu::VulkanContext::list_devices().at(size_t(gpu::VulkanContext::preferred_device(gpu::VulkanContext::list_devices())));
    QCOMPARE(device_key(info), later.device_key);
    QVERIFY(later.device_key.find(info.name) == 0);
    info.driver_version += 1;
    QVERIFY(!bad->find(device_key(info)));
    // --backend vulkan still uses the device, with a warning.
    BackendRequest forced{BackendKind::Vulkan, -1, true};
    forced.verdicts = bad;
    BackendChoice f = choose_backend(forced);
    QVERIFY(f.backend->is_gpu());
    QVERIFY2(QString::fromStdString(f.warning).contains("running on it anyway because it was chosen explicitly"), f.warning.c_str());
    // Without check_software, auto keeps preferring the CPU to lavapipe and touches no verdicts.
    if (!info.software()) return;  // a real GPU: checked whatever check_software says
    BackendRequest plain{BackendKind::Auto, -1, false};
    plain.verdicts = freshStore();
    BackendChoice p = choose_backend(plain);
    QVERIFY(!p.backend->is_gpu());
    QCOMPARE(p.self_check, SelfCheckRun::NotNeeded);
    QVERIFY(QString::fromStdString(p.note).contains("software Vulkan device"));
  }

  void deviceErrorsDuringTheCheckMakeAutoFallBack_data() {
    QTest::addColumn<QString>("fault");
    QTest::addColumn<QString>("code");
    QTest::newRow("device lost") << "device_lost" << "VK_ERROR_DEVICE_LOST";
    QTest::newRow("out of memory") << "oom" << "VK_ERROR_OUT_OF_DEVICE_MEMORY";
  }
  void deviceErrorsDuringTheCheckMakeAutoFallBack() {
    QFETCH(QString, fault);
    QFETCH(QString, code);
    auto store = freshStore();
    Faults faults(fault.toUtf8().constData());
    BackendChoice c = choose_backend(autoOnLavapipe(store));
    QVERIFY(!c.backend->is_gpu());
    QVERIFY2(QString::fromStdString(c.warning).contains(code), c.warning.c_str());
    QVERIFY(!store->find(c.device_key)->passed);
  }

  // Mid-job: the job fails with a DeviceError that says what happened; the device stays failed; the model works
  // again once it is reloaded on the CPU.
  void deviceErrorsMidInference_data() { deviceErrorsDuringTheCheckMakeAutoFallBack_data(); }
  void deviceErrorsMidInference() {
    QFETCH(QString, fault);
    QFETCH(QString, code);
    Session cpu(model_, {BackendKind::Cpu});
    const FillMaskResult expected = fill_mask(cpu.model(), cpu.tokenizer(), "the [MASK] sat on the mat", 5);
    Faults faults((fault + ":1").toUtf8().constData());  // the first submission works, then the device fails
    Session gpu(model_, {BackendKind::Vulkan, -1, true});
    fill_mask(gpu.model(), gpu.tokenizer(), "the [MASK] sat on the mat", 5);  // submission 1: fine
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        fill_mask(gpu.model(), gpu.tokenizer(), "the [MASK] sat on the mat", 5);
        QFAIL("no error after the device failed");
      } catch (const DeviceError& e) {
        QVERIFY2(QString(e.what()).contains(code) && QString(e.what()).contains("GPU"), e.what());
        QCOMPARE(e.kind(), fault == "oom" ? DeviceError::Kind::OutOfMemory : DeviceError::Kind::Lost);
      }
    }
    Session reloaded(model_, {BackendKind::Cpu});
    const FillMaskResult r = fill_mask(reloaded.model(), reloaded.tokenizer(), "the [MASK] sat on the mat", 5);
    QCOMPARE(r.predictions[0][0].token, expected.predictions[0][0].token);
  }

  // The command line: the self-check subcommand prints its verdict; auto says why it runs on the CPU; a GPU failure
  // mid-job stops `--backend vulkan` with a clear error, and `--backend auto` reruns the input on the CPU.
  void commandLine() {
    const QString m = QString::fromStdString(model_.string()), config = dir_.filePath("cli-config");
    CliRun check = cli({"self-check"}, config);
    QVERIFY2(check.code == 0, qPrintable(check.err));
    const auto verdict = nlohmann::json::parse(check.out.toStdString());
    QCOMPARE(verdict["passed"].get<bool>(), true);
    QVERIFY(check.err.contains("passed the GPU self-check"));
    QVERIFY(fs::exists(fs::path(config.toStdString()) / "bertscope" / "gpu-self-check.json"));

    CliRun devices = cli({"devices"}, config);
    QVERIFY2(devices.out.contains("\"self_check\":\"passed on "), qPrintable(devices.out));

    CliRun bad = cli({"self-check"}, dir_.filePath("cli-config-bad"), "perturb:layer_norm");
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("FAILED the GPU self-check") && bad.err.contains("layer_norm"), qPrintable(bad.err));
    CliRun fallback = cli({"fill-mask", m, "--text", "the [MASK] sat"}, dir_.filePath("cli-config-bad"));
    QVERIFY2(fallback.code == 0, qPrintable(fallback.err));
    QVERIFY2(fallback.err.contains("warning: Vulkan device") && fallback.err.contains("running on the CPU instead"),
             qPrintable(fallback.err));

    CliRun on_cpu = cli({"fill-mask", m, "--text", "the [MASK] sat", "--backend", "cpu"}, config);
    QCOMPARE(on_cpu.code, 0);
    for (const char* fault : {"device_lost", "oom"}) {
      CliRun forced = cli({"fill-mask", m, "--text", "the [MASK] sat", "--backend", "vulkan"}, config, fault);
      QCOMPARE(forced.code, 1);
      QVERIFY2(forced.err.contains("error: the GPU") && forced.err.contains("--backend cpu"), qPrintable(forced.err));
      // auto: the device passed its check (remembered), fails mid-job, and the input runs again on the CPU.
      CliRun retried = cli({"fill-mask", m, "--text", "the [MASK] sat"}, config, fault);
      QVERIFY2(retried.code == 0, qPrintable(retried.err));
      QVERIFY2(retried.err.contains("reloading the model on the CPU"), qPrintable(retried.err));
      QCOMPARE(retried.out, on_cpu.out);
    }
    // Every --jsonl line answered once, though the GPU failed on the first.
    const QString jsonl = dir_.filePath("inputs.jsonl");
    std::ofstream(jsonl.toStdString()) << "{\"text\": \"a [MASK] b\"}\n{\"text\": \"c [MASK] d\"}\n{\"text\": \"e [MASK]\"}\n";
    CliRun lines = cli({"fill-mask", m, "--jsonl", jsonl}, config, "device_lost");
    QVERIFY2(lines.code == 0, qPrintable(lines.err));
    QCOMPARE(lines.out.count('\n'), 3);
    QVERIFY(!lines.out.contains("\"error\""));
  }
};

QTEST_GUILESS_MAIN(TestGpuSelfCheck)
#include "test_gpu_self_check.moc"
