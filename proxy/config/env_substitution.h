// ${VAR} and ${VAR:-default} in config values, resolved before any type conversion, so "${X:-60}s" is a
// duration.
#pragma once

#include <string_view>

#include "proxy/config/loader.h"
#include "proxy/config/parse_result.h"

namespace gatehouse::config {

// Replaces every ${NAME} with the variable's value and every ${NAME:-default} with the value, or with
// `default` when the variable is unset or empty (as in POSIX sh and docker compose). "$${" is a literal "${".
// Substituted text is not scanned again, so a value may itself contain "${". Fails on an unset variable
// without a default, an invalid name or an unterminated "${"; the message names the variable.
ParseResult<std::string> substituteEnvironment(std::string_view text, const Environment& env);

}  // namespace gatehouse::config
