// bertscope: the desktop model explorer. `bertscope [MODEL]` opens a Hugging Face BERT folder (or, without one,
// the built-in default model).
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <cstdio>

#include "cpu/blas_setup.h"
#include "main_window.h"
#include "screenshot_tour.h"

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
  parser.addOptions({backend, device, screenshots, tourCsv});
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
  if (parser.isSet(screenshots)) new bertscope::gui::ScreenshotTour(&window, parser.value(screenshots), parser.value(tourCsv));
  window.show();
  const QStringList args = parser.positionalArguments();
  window.openModel(args.isEmpty() ? QStringLiteral("default") : args.first());
  return app.exec();
}
