#include "settings_verdict_store.h"

#include <QCryptographicHash>
#include <QSettings>

#include "core/error.h"

namespace bertscope::gui {

namespace {
// Device keys hold spaces, brackets and colons; a hash keeps the settings key plain.
QString group_for(const std::string& key) {
  return QStringLiteral("gpuSelfCheck/") +
         QString::fromLatin1(QCryptographicHash::hash(QByteArray::fromStdString(key), QCryptographicHash::Sha1).toHex());
}
}  // namespace

std::optional<GpuVerdict> SettingsVerdictStore::find(const std::string& device_key) {
  QSettings settings;
  settings.beginGroup(group_for(device_key));
  if (!settings.contains("passed") || settings.value("device").toString().toStdString() != device_key) return std::nullopt;
  GpuVerdict v;
  v.passed = settings.value("passed").toBool();
  v.reason = settings.value("reason").toString().toStdString();
  v.checked = settings.value("checked").toString().toStdString();
  return v;
}

void SettingsVerdictStore::remember(const std::string& device_key, const GpuVerdict& verdict) {
  QSettings settings;
  settings.beginGroup(group_for(device_key));
  settings.setValue("device", QString::fromStdString(device_key));
  settings.setValue("passed", verdict.passed);
  settings.setValue("reason", QString::fromStdString(verdict.reason));
  settings.setValue("checked", QString::fromStdString(verdict.checked));
  settings.endGroup();
  settings.sync();
  if (settings.status() != QSettings::NoError)
    throw Error("cannot write the settings file " + settings.fileName().toStdString());
}

}  // namespace bertscope::gui
