#pragma once
// File > Compare with another model… and File > Stop comparing (model_compare.h): opens a second model (a folder,
// a Hub id, or the built-in default model) as model B, and closes it. A failure to open it shows on `banner`; the model in use stays.
class QMenu;
class QWidget;

namespace bertscope::gui {

class EngineClient;
class MessageLine;

struct LoadedModel;

// Whether `model` is bertscope's built-in model (File > Compare with the default model is then not offered).
bool is_default_model(const LoadedModel& model);

// File > Compare with another model folder…, with a Hub model…, with the default model, and Stop comparing.
void add_compare_actions(QMenu* file, EngineClient* engine, MessageLine* banner, QWidget* parent);

}  // namespace bertscope::gui
