#pragma once
// File > Compare with another model… and File > Stop comparing (model_compare.h): opens a second model (a folder,
// or a Hub id) as model B, and closes it. A failure to open it shows on `banner`; the model in use stays.
class QMenu;
class QWidget;

namespace bertscope::gui {

class EngineClient;
class MessageLine;

void add_compare_actions(QMenu* file, EngineClient* engine, MessageLine* banner, QWidget* parent);

}  // namespace bertscope::gui
