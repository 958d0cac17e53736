// "Name: value" of every header field, in list order: what a head written from those fields would say. Tests
// compare it with a Lines literal.
#pragma once

#include <string>
#include <vector>

#include "proxy/http/fields.h"

namespace gatehouse::testing {

using Lines = std::vector<std::string>;

inline Lines lines(const http::Fields& fields) {
  Lines out;
  for (const auto& field : fields)
    out.push_back(std::string(field.name_string()) + ": " + std::string(field.value()));
  return out;
}

}  // namespace gatehouse::testing
