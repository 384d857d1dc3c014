// bertscope: the desktop model explorer. `bertscope [MODEL]` opens a Hugging Face BERT folder (or, without one,
// the built-in default model).
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "cpu/blas_setup.h"
#include "fill_mask_page.h"
#include "main_window.h"
#include "screenshot_tour.h"

namespace {

// Milliseconds since the kernel started this process, so that loading the libraries and the re-execution in
// prepare_cpu_runtime count too (to the kernel's clock tick, 10 ms).
double ms_since_process_start() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat;
  std::getline(stat_file, stat);
  // Field 22, starttime (clock ticks after boot), counting from field 3 just after the command's ") ".
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return (now.tv_sec + now.tv_nsec / 1e9 - std::stod(field) / sysconf(_SC_CLK_TCK)) * 1000.0;
}

// --time-to-first-answer: the Fill mask view's first answer, painted, then the time and quit.
void report_first_answer(bertscope::gui::MainWindow& window) {
  auto* page = window.findChild<bertscope::gui::FillMaskPage*>();
  if (auto* tabs = window.findChild<QTabWidget*>()) tabs->setCurrentWidget(page);
  QObject::connect(page, &bertscope::gui::FillMaskPage::answerShown, &window, [&window] {
    window.repaint();  // painted now, not at the next event loop turn
    std::printf("{\"first_answer_ms\": %.0f}\n", ms_since_process_start());
    std::fflush(stdout);
    QTimer::singleShot(0, qApp, &QApplication::quit);
  });
}

}  // namespace

int main(int argc, char** argv) {
  bertscope::prepare_cpu_runtime(argv);
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("bertscope"));
  QApplication::setApplicationName(QStringLiteral("bertscope"));
  QApplication::setApplicationDisplayName(QStringLiteral("bertscope"));
  QApplication::setApplicationVersion(QStringLiteral(BERTSCOPE_VERSION));
  // The installed desktop entry and icon (packaging/): the window's icon, and its entry on Wayland.
  QApplication::setDesktopFileName(QStringLiteral(BERTSCOPE_APP_ID));
  QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral(BERTSCOPE_APP_ID)));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Explore and adapt BERT models: tokens, masked words, attention, answers."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("model"), QStringLiteral("Hugging Face model folder, or a Hub id (org/name[@revision]) from the cache or downloaded (default: the built-in model)"), QStringLiteral("[model]"));
  QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto | vulkan | cpu"), QStringLiteral("kind"));
  QCommandLineOption device(QStringLiteral("device"), QStringLiteral("Vulkan device index"), QStringLiteral("index"), QStringLiteral("-1"));
  QCommandLineOption screenshots(QStringLiteral("screenshots"), QStringLiteral("save a screenshot of every view into DIR, then quit"), QStringLiteral("DIR"));
  QCommandLineOption tourCsv(QStringLiteral("screenshot-csv"), QStringLiteral("with --screenshots: fine-tune on this CSV for the fine-tune view"), QStringLiteral("FILE"));
  QCommandLineOption firstAnswer(QStringLiteral("time-to-first-answer"), QStringLiteral("open the Fill mask view, print the milliseconds from launch to its first answer on screen, and quit (scripts/bench.sh)"));
  parser.addOptions({backend, device, screenshots, tourCsv, firstAnswer});
  parser.process(app);

  bertscope::gui::MainWindow window;
  if (parser.isSet(backend)) {
    try {
      const auto kind = bertscope::parse_backend_kind(parser.value(backend).toStdString());
      if (!window.selectBackendChoice(kind, parser.value(device).toInt()))
        std::fprintf(stderr, "bertscope: no such backend choice on this machine; using %s\n", "the saved choice");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bertscope: %s\n", e.what());
      return 2;
    }
  }
  if (parser.isSet(firstAnswer)) report_first_answer(window);
  if (parser.isSet(screenshots)) new bertscope::gui::ScreenshotTour(&window, parser.value(screenshots), parser.value(tourCsv));
  window.show();
  const QStringList args = parser.positionalArguments();
  window.openModel(args.isEmpty() ? QStringLiteral("default") : args.first());
  return app.exec();
}
