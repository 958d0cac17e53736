// Formatting load errors for people: ConfigError::toString() cannot name the file (the error does not carry
// it), so the command line and the admin reload print through here.
#pragma once

#include <string>

#include "proxy/config/loader.h"

namespace gatehouse::config {

// "<source>:<line>:<col>: <key>: <message>", omitting the parts that are unknown.
std::string formatError(const std::string& source_name, const ConfigError& error);

// Every error of a failed load, one per line, each prefixed with result.source_name.
std::string formatErrors(const LoadResult& result);

}  // namespace gatehouse::config
