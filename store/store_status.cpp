#include "store/store.h"

namespace gatehouse::store {

std::string_view toString(StoreStatus status) {
  switch (status) {
    case StoreStatus::Ok:
      return "ok";
    case StoreStatus::Timeout:
      return "timeout";
    case StoreStatus::Unavailable:
      return "unavailable";
    case StoreStatus::Error:
      return "error";
  }
  return "unknown";
}

}  // namespace gatehouse::store
