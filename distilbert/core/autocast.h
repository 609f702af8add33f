// Autocast's per-thread state, one API across LibTorch versions (2.4 replaced the per-device functions with ones
// that take a device type). train/precision.h builds its scopes on these; model code asks them what a matrix
// product would run in.
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace distilbert {

bool autocast_enabled(c10::DeviceType device);
void set_autocast(c10::DeviceType device, bool on);
c10::ScalarType autocast_dtype(c10::DeviceType device);
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype);

}  // namespace distilbert
